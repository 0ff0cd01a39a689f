"""The consent history: a grant or a refusal by the employee, one recorded by an admin, a
withdrawal, and the expiry a re-consent deadline brings."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from compliance_hub.audit.actors import Actor, ActorKind
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .. import gate
from ..errors import AlreadyConsented, ConsentError, SignatureMismatch
from ..models import (
    ConsentEvent,
    ConsentInvitation,
    ConsentNotice,
    Employee,
)
from ..selectors import (
    consented_version,
    current_notice,
    is_covered_now,
    last_consent_event,
)
from ._common import _absolute, _token_pair

EVIDENCE_MAX_BYTES = 10 * 1024 * 1024


# Recognised by their first bytes, not by the name or the browser's claim.
EVIDENCE_SIGNATURES = {
    b"%PDF-": ("application/pdf", "pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
}


def _read_language(invitation: ConsentInvitation, language: str) -> str:
    """The language the employee read the notice in: one the notice has, else the invitation's."""
    return language if language in invitation.notice.texts else invitation.language


def _claim_invitation(invitation: ConsentInvitation) -> None:
    claimed = ConsentInvitation.objects.filter(
        pk=invitation.pk,
        responded_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).update(responded_at=timezone.now())
    if claimed != 1:
        raise ConsentError(_("You have already answered this invitation. Thank you."))


def folded_name(name: str) -> str:
    """A name as compared for a signature: accents dropped (NFKD, combining marks removed),
    case folded, runs of whitespace made one space."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def check_signature(*, employee: Employee, signature_name: str) -> str:
    """The one rule for a typed signature, on every path that records one: the employee's full
    name as the notice page shows it (case, accents and spacing forgiven). Returns the
    signature as typed, with its spacing tidied."""
    signature = " ".join(signature_name.split())
    if not signature:
        raise ConsentError(_("Type your full name to sign."))
    if len(signature) > 200:
        raise ConsentError(_("The name is too long."))
    if folded_name(signature) != folded_name(employee.full_name):
        raise SignatureMismatch(
            _("To sign, type your full name as shown on this page: %(name)s.")
            % {"name": employee.full_name}
        )
    return signature


def accept_consent(
    *,
    invitation: ConsentInvitation,
    signature_name: str,
    actor: Actor,
    base_url: str = "",
    language: str = "",
) -> ConsentEvent:
    """The employee read the notice (in ``language``, default the invitation's) and typed their
    name: record the grant with its evidence (the address and browser come from ``actor``, the
    link's visitor)."""
    employee = invitation.employee
    signature = check_signature(employee=employee, signature_name=signature_name)
    notice = invitation.notice
    token, token_digest = _token_pair(invitation.tenant_id)
    with tenant_scope(invitation.tenant_id):
        _claim_invitation(invitation)
        event = ConsentEvent.objects.create(
            tenant_id=invitation.tenant_id,
            employee=employee,
            kind=ConsentEvent.Kind.GRANTED,
            method=ConsentEvent.Method.LINK,
            notice=notice,
            notice_version=notice.version,
            notice_sha256=notice.content_sha256,
            language=_read_language(invitation, language),
            signature_name=signature,
            invitation=invitation,
            withdrawal_token_hash=token_digest,
            ip_address=actor.ip_address,
            user_agent=actor.user_agent,
        )
        record_event(
            "consent.granted",
            tenant=invitation.tenant,
            actor=actor,
            target=employee,
            details={"notice_version": notice.version, "method": "link"},
        )
        gate.invalidate(invitation.tenant_id)
    withdraw_link = _absolute(reverse("consent:withdraw", args=[token]), base_url)
    with translation.override(employee.language):
        body = render_to_string(
            "consent/email/confirmation.txt",
            {
                "employee": employee,
                "tenant": invitation.tenant,
                "event": event,
                "notice": notice,
                "withdraw_link": withdraw_link,
            },
        )
        subject = _("%(firm)s: your consent is recorded") % {"firm": invitation.tenant.name}
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [employee.email])
    )
    return event


def decline_consent(
    *, invitation: ConsentInvitation, actor: Actor, reason: str = "", language: str = ""
) -> ConsentEvent:
    employee = invitation.employee
    with tenant_scope(invitation.tenant_id):
        _claim_invitation(invitation)
        event = ConsentEvent.objects.create(
            tenant_id=invitation.tenant_id,
            employee=employee,
            kind=ConsentEvent.Kind.DECLINED,
            method=ConsentEvent.Method.LINK,
            notice=invitation.notice,
            notice_version=invitation.notice.version,
            notice_sha256=invitation.notice.content_sha256,
            language=_read_language(invitation, language),
            invitation=invitation,
            reason=reason.strip()[:1000],
            ip_address=actor.ip_address,
            user_agent=actor.user_agent,
        )
        record_event(
            "consent.declined",
            tenant=invitation.tenant,
            actor=actor,
            target=employee,
            details={"notice_version": invitation.notice.version},
        )
        gate.invalidate(invitation.tenant_id)
    return event


def read_evidence(upload: UploadedFile) -> tuple[bytes, str, str]:
    """The evidence file's bytes, MIME type and SHA-256; refuses what is not a PDF or an image."""
    if upload.size is not None and upload.size > EVIDENCE_MAX_BYTES:
        raise ConsentError("The evidence file is larger than 10 MB.")
    content = upload.read(EVIDENCE_MAX_BYTES + 1)
    if len(content) > EVIDENCE_MAX_BYTES:
        raise ConsentError("The evidence file is larger than 10 MB.")
    if not content:
        raise ConsentError("The evidence file is empty.")
    for signature, (content_type, _suffix) in EVIDENCE_SIGNATURES.items():
        if content.startswith(signature):
            return content, content_type, hashlib.sha256(content).hexdigest()
    raise ConsentError("Evidence must be a PDF, PNG or JPEG file (a scan of the signed form).")


# Clocks of phones, scanners and HR systems drift; a consent a few minutes "ahead" is a clock.
CLOCK_SKEW = timedelta(minutes=5)


def check_consent_date(*, employee: Employee, notice: ConsentNotice, occurred_at: datetime) -> None:
    """A consent is dated within what can be true: not before the notice version it agrees to
    was published, not before the employee was added, not in the future."""
    if occurred_at > timezone.now() + CLOCK_SKEW:
        raise ConsentError("The consent cannot be dated in the future.")
    if notice.published_at is not None and occurred_at < notice.published_at:
        raise ConsentError(
            f"The consent cannot be dated before notice version {notice.version} was "
            f"published ({notice.published_at:%Y-%m-%d %H:%M} UTC)."
        )
    if occurred_at < employee.created_at:
        raise ConsentError(
            f"The consent cannot be dated before {employee.full_name} was added "
            f"({employee.created_at:%Y-%m-%d %H:%M} UTC)."
        )


def record_consent(
    *,
    employee: Employee,
    actor: Actor,
    notice: ConsentNotice | None = None,
    evidence: UploadedFile | None = None,
    evidence_reference: str = "",
    occurred_at: datetime | None = None,
    signature_name: str = "",
) -> ConsentEvent:
    """An admin records an opt-in given on paper or elsewhere, with its evidence."""
    if not employee.active:
        raise ConsentError("A deactivated employee cannot consent.")
    reference = evidence_reference.strip()
    if evidence is None and not reference:
        raise ConsentError("Attach the signed form or describe where the evidence is kept.")
    notice = notice or current_notice(tenant=employee.tenant)
    if notice is None or not notice.is_published or notice.tenant_id != employee.tenant_id:
        raise ConsentError("Choose a published notice version.")
    when = occurred_at or timezone.now()
    check_consent_date(employee=employee, notice=notice, occurred_at=when)
    signature = ""
    if signature_name.strip():
        try:
            signature = check_signature(employee=employee, signature_name=signature_name)
        except SignatureMismatch:
            # The same rule as the employee's own page, worded for whoever records the paper.
            raise ConsentError(
                f"'Signed by' must be {employee.full_name}'s full name as on their record "
                "(capital letters and accents do not matter)."
            ) from None
    fields: dict[str, Any] = {}
    if evidence is not None:
        content, content_type, digest = read_evidence(evidence)
        fields.update(
            evidence_sha256=digest,
            evidence_size=len(content),
            evidence_content_type=content_type,
        )
    with tenant_scope(employee.tenant_id), transaction.atomic():
        # Serialise with other consent changes of this employee (two admins, a double click).
        Employee.objects.select_for_update().filter(pk=employee.pk).first()
        covered = consented_version(employee)
        if covered is not None and covered >= (notice.version or 0):
            raise AlreadyConsented(
                f"{employee.full_name} already consented to notice version {covered}; "
                "nothing to record."
            )
        event = ConsentEvent(
            tenant_id=employee.tenant_id,
            employee=employee,
            kind=ConsentEvent.Kind.GRANTED,
            method=ConsentEvent.Method.RECORDED,
            occurred_at=when,
            notice=notice,
            notice_version=notice.version,
            notice_sha256=notice.content_sha256,
            language=employee.language,
            signature_name=signature,
            evidence_reference=reference[:500],
            recorded_by=actor.user,
            ip_address=actor.ip_address,
            user_agent=actor.user_agent,
            **fields,
        )
        if evidence is not None:
            suffix = EVIDENCE_SIGNATURES_BY_TYPE[fields["evidence_content_type"]]
            event.evidence.save(f"evidence.{suffix}", ContentFile(content), save=False)
        event.save()
        record_event(
            "consent.recorded",
            tenant=employee.tenant,
            actor=actor,
            target=employee,
            details={
                "notice_version": notice.version,
                "evidence_sha256": fields.get("evidence_sha256", ""),
                "evidence_reference": reference[:500],
                "occurred_at": when.isoformat(),
            },
        )
        gate.invalidate(employee.tenant_id)
    return event


EVIDENCE_SIGNATURES_BY_TYPE = {ctype: suffix for ctype, suffix in EVIDENCE_SIGNATURES.values()}


def withdraw_consent(*, employee: Employee, actor: Actor, reason: str = "") -> ConsentEvent:
    """Capture stops at once. Already archived messages stay under legal retention. The
    employee withdraws through the link in their confirmation (``actor`` is that link's
    visitor); anyone else is an admin withdrawing for them."""
    by_employee = actor.kind is ActorKind.LINK
    with tenant_scope(employee.tenant_id), transaction.atomic():
        # Serialise concurrent withdrawals of one employee (two clicks, two admins).
        Employee.objects.select_for_update().filter(pk=employee.pk).first()
        last = last_consent_event(employee)
        if last is None or last.kind != ConsentEvent.Kind.GRANTED:
            raise ConsentError(_("There is no active consent to withdraw."))
        event = ConsentEvent.objects.create(
            tenant_id=employee.tenant_id,
            employee=employee,
            kind=ConsentEvent.Kind.WITHDRAWN,
            method=ConsentEvent.Method.EMPLOYEE if by_employee else ConsentEvent.Method.ADMIN,
            reason=reason.strip()[:1000],
            recorded_by=actor.user,
            ip_address=actor.ip_address,
            user_agent=actor.user_agent,
        )
        record_event(
            "consent.withdrawn",
            tenant=employee.tenant,
            actor=actor,
            target=employee,
            details={"by": "employee" if by_employee else "admin", "reason": reason[:1000]},
        )
        gate.invalidate(employee.tenant_id)
    return event


def expire_overdue_consents(*, tenant: Tenant, actor: Actor) -> int:
    """Write an ``expired`` event for each employee whose consent a re-consent deadline ended.
    The gate already refuses from the deadline on; this puts the fact in the history."""
    now = timezone.now()
    expired = 0
    with tenant_scope(tenant):
        for employee in Employee.objects.filter(active=True):
            last = last_consent_event(employee)
            if last is None or last.kind != ConsentEvent.Kind.GRANTED or is_covered_now(employee):
                continue
            ConsentEvent.objects.create(
                tenant=tenant,
                employee=employee,
                kind=ConsentEvent.Kind.EXPIRED,
                method=ConsentEvent.Method.SYSTEM,
                occurred_at=now,
                reason="Re-consent to a newer notice was not given by its deadline.",
            )
            record_event(
                "consent.expired",
                tenant=tenant,
                actor=actor,
                target=employee,
                details={"granted_version": last.notice_version},
            )
            expired += 1
        if expired:
            gate.invalidate(tenant.pk)
    return expired
