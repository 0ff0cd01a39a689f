"""The verbs of the consent app. Each one audits itself and tells the gate what changed."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from compliance_hub.accounts.models import hash_token, person_or_none
from compliance_hub.audit.services import client_ip, record_event
from compliance_hub.digits import split_token
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .. import gate
from ..employee_rules import CleanEmployee, check_employee
from ..models import (
    ConsentEvent,
    ConsentInvitation,
    ConsentNotice,
    Employee,
    Language,
    NumberAssignment,
    NumberClaim,
    Team,
)
from ..notice_templates import DEFAULT_NOTICE, LANGUAGES, render_notice
from ..selectors import employees_to_invite
from ..timeline import ConsentChange, Deadline, Holding, NumberHistory
from ..timeline import decide as decide_from_history

CONSENT_INVITATION_TTL = timedelta(days=14)
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
# Recognised by their first bytes, not by the name or the browser's claim.
EVIDENCE_SIGNATURES = {
    b"%PDF-": ("application/pdf", "pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
}


class ConsentError(ValidationError):
    """A consent action that cannot be done as asked; the message is safe to show."""


class SignatureMismatch(ConsentError):
    """The typed signature is not the employee's full name."""


class AlreadyConsented(ConsentError):
    """The employee's standing consent already covers the notice version asked about."""


class NumberInUse(ValidationError):
    pass


NUMBER_IN_USE = "This number is already in use."


# --- numbers ---------------------------------------------------------------------------------


def number_digest(kind: str, value: str) -> str:
    """Keyed digest of a number for the platform-wide claim register (no plain numbers there)."""
    key = hashlib.sha256(("number-claim:" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def numbers_in_use(numbers: list[str], *, exclude_employee: Employee | None = None) -> set[str]:
    """Which of these E.164 numbers an active employee (of any tenant) already holds."""
    digests = {number_digest(NumberClaim.Kind.E164, n): n for n in numbers}
    claims = NumberClaim.objects.filter(kind=NumberClaim.Kind.E164, digest__in=list(digests))
    if exclude_employee is not None:
        claims = claims.exclude(
            tenant_id=exclude_employee.tenant_id, employee_pk=exclude_employee.pk
        )
    return {digests[digest] for digest in claims.values_list("digest", flat=True)}


def _claim_numbers(employee: Employee) -> None:
    """Register the employee's numbers; raise NumberInUse (never saying whose) on a clash."""
    NumberClaim.objects.filter(tenant_id=employee.tenant_id, employee_pk=employee.pk).delete()
    wanted = [(NumberClaim.Kind.E164, employee.phone_number, "phone_number")]
    if employee.whatsapp_phone_number_id:
        wanted.append(
            (
                NumberClaim.Kind.PHONE_NUMBER_ID,
                employee.whatsapp_phone_number_id,
                "whatsapp_phone_number_id",
            )
        )
    for kind, value, field in wanted:
        try:
            with transaction.atomic():
                NumberClaim.objects.create(
                    kind=kind,
                    digest=number_digest(kind, value),
                    tenant_id=employee.tenant_id,
                    employee_pk=employee.pk,
                )
        except IntegrityError:
            raise NumberInUse({field: NUMBER_IN_USE}) from None


def _release_numbers(employee: Employee, *, at: datetime) -> None:
    NumberClaim.objects.filter(tenant_id=employee.tenant_id, employee_pk=employee.pk).delete()
    NumberAssignment.objects.filter(employee=employee, released_at__isnull=True).update(
        released_at=at
    )


def _assign_phone_id(employee: Employee, *, at: datetime) -> None:
    current = NumberAssignment.objects.filter(employee=employee, released_at__isnull=True).first()
    if current is not None and (
        current.whatsapp_phone_number_id == employee.whatsapp_phone_number_id
        and current.phone_number == employee.phone_number
    ):
        return
    if current is not None:
        current.released_at = at
        current.save(update_fields=["released_at"])
    if employee.whatsapp_phone_number_id and employee.active:
        NumberAssignment.objects.create(
            tenant_id=employee.tenant_id,
            employee=employee,
            whatsapp_phone_number_id=employee.whatsapp_phone_number_id,
            phone_number=employee.phone_number,
            assigned_at=at,
        )


# --- employees -------------------------------------------------------------------------------


@dataclass
class EmployeeData:
    full_name: str
    email: str
    employee_id: str
    phone_number: str
    team: Team | None = None
    region: str = ""
    whatsapp_phone_number_id: str = ""
    language: str = ""


def _check_rules(data: EmployeeData) -> tuple[CleanEmployee, dict[str, str]]:
    return check_employee(
        {
            "full_name": data.full_name,
            "email": data.email,
            "employee_id": data.employee_id,
            "phone_number": data.phone_number,
            "region": data.region,
            "whatsapp_phone_number_id": data.whatsapp_phone_number_id,
            "language": data.language,
        }
    )


def _clean_employee(tenant: Tenant, data: EmployeeData, *, current: Employee | None) -> dict:
    clean, errors = _check_rules(data)
    if data.team is not None and data.team.tenant_id != tenant.pk:
        errors["team"] = "Unknown team."
    for conflict in _conflicts(tenant, [clean], refused=[errors], current=current):
        errors.setdefault(conflict.field, conflict.message)
    if errors:
        raise ValidationError(errors)
    return {
        "full_name": clean.full_name,
        "email": clean.email,
        "employee_id": clean.employee_id,
        "team": data.team,
        "region": clean.region,
        "language": clean.language,
        "phone_number": clean.phone_number,
        "whatsapp_phone_number_id": clean.whatsapp_phone_number_id,
    }


ID_TAKEN = "An employee with this id already exists."


def _conflicts(
    tenant: Tenant,
    rows: list[CleanEmployee],
    *,
    refused: list[dict[str, str]],
    current: Employee | None = None,
) -> list[RowConflict]:
    """What the current state refuses in these rows: an id (of the tenant), a number
    or a WhatsApp phone number id already taken. The one uniqueness check of the one-by-one and
    the bulk paths, in three queries whatever the number of rows; a value the rules refused
    (``refused[i]`` names those fields of row i) is not looked up. ``current`` is the employee
    being changed, whose own values are not a conflict."""

    def valid(field: str) -> list[tuple[int, str]]:
        return [
            (index, getattr(row, field))
            for index, row in enumerate(rows)
            if getattr(row, field) and field not in refused[index]
        ]

    ids, numbers, phone_ids = (
        valid("employee_id"),
        valid("phone_number"),
        valid("whatsapp_phone_number_id"),
    )
    taken_ids: set[str] = set()
    if ids:
        taken_ids = set(
            Employee.objects.filter(tenant=tenant, employee_id__in=[value for _, value in ids])
            .exclude(pk=getattr(current, "pk", None))
            .values_list("employee_id", flat=True)
        )
    taken_numbers = set()
    if numbers:
        taken_numbers = numbers_in_use([value for _, value in numbers], exclude_employee=current)
    taken_phone_ids = set()
    if phone_ids:
        taken_phone_ids = phone_ids_in_use(
            [value for _, value in phone_ids], exclude_employee=current
        )
    conflicts = [RowConflict(index, "employee_id", ID_TAKEN) for index, v in ids if v in taken_ids]
    conflicts += [
        RowConflict(index, "phone_number", NUMBER_IN_USE)
        for index, value in numbers
        if value in taken_numbers
    ]
    conflicts += [
        RowConflict(index, "whatsapp_phone_number_id", NUMBER_IN_USE)
        for index, value in phone_ids
        if value in taken_phone_ids
    ]
    return sorted(conflicts, key=lambda conflict: conflict.index)


CONSTRAINT_ERRORS = {
    "employee_id_unique_per_tenant": ("employee_id", ID_TAKEN),
    "employee_active_number_unique": ("phone_number", NUMBER_IN_USE),
    "employee_active_phone_id_unique": ("whatsapp_phone_number_id", NUMBER_IN_USE),
}


def _save_employee(employee: Employee) -> None:
    """Save, turning a uniqueness race lost to a concurrent request into a clear field error."""
    try:
        with transaction.atomic():
            employee.save()
    except IntegrityError as error:
        constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "")
        field, message = CONSTRAINT_ERRORS.get(constraint, ("__all__", "Conflicting data."))
        raise ValidationError({field: message}) from None


def create_employee(
    *, tenant: Tenant, data: EmployeeData, actor=None, request=None, audit: bool = True
) -> Employee:
    with tenant_scope(tenant):
        fields = _clean_employee(tenant, data, current=None)
        now = timezone.now()
        employee = Employee(tenant=tenant, created_at=now, **fields)
        # Uniqueness is the database's job (constraints + the claim register), not extra queries.
        employee.full_clean(exclude=["team"], validate_unique=False, validate_constraints=False)
        _save_employee(employee)
        _claim_numbers(employee)
        _assign_phone_id(employee, at=now)
        if audit:
            record_event(
                "employee.created",
                tenant=tenant,
                actor=actor,
                request=request,
                target=employee,
                details={"employee_id": employee.employee_id},
            )
        gate.invalidate(tenant.pk)
    return employee


@dataclass(frozen=True)
class RowConflict:
    index: int  # position in the list given to create_employees
    field: str
    message: str


def create_employees(*, tenant: Tenant, rows: list[EmployeeData]) -> list[Employee]:
    """Create many already-validated employees at once (the CSV import), in the caller's
    transaction. The same rules as :func:`create_employee` (consent/employee_rules.py, then
    :func:`_conflicts`), in a handful of queries instead of dozens per row: rows the rules refuse
    raise :class:`EmployeeRowsRefused`, and conflicts with the current state (an id, a number or
    a phone number id taken since the rows were checked) :class:`BulkConflict`, each naming the
    row and field; then nothing is written."""
    now = timezone.now()
    with tenant_scope(tenant):
        checked = [_check_rules(row) for row in rows]
        cleaned = [clean for clean, _ in checked]
        refused = [errors for _, errors in checked]
        problems = [
            RowConflict(index, field, message)
            for index, errors in enumerate(refused)
            for field, message in errors.items()
        ]
        problems += [
            RowConflict(index, "team", "Unknown team.")
            for index, row in enumerate(rows)
            if row.team is not None and row.team.tenant_id != tenant.pk
        ]
        conflicts = _conflicts(tenant, cleaned, refused=refused)
        if problems:
            everything = sorted(problems + conflicts, key=lambda problem: problem.index)
            raise EmployeeRowsRefused(everything)
        if conflicts:
            raise BulkConflict(conflicts)
        employees = [
            Employee(
                tenant=tenant,
                created_at=now,
                full_name=clean.full_name,
                email=clean.email,
                employee_id=clean.employee_id,
                team=row.team,
                region=clean.region,
                language=clean.language,
                phone_number=clean.phone_number,
                whatsapp_phone_number_id=clean.whatsapp_phone_number_id,
            )
            for row, clean in zip(rows, cleaned, strict=True)
        ]
        try:
            with transaction.atomic():
                Employee.objects.bulk_create(employees, batch_size=1000)
                claims = [
                    NumberClaim(
                        kind=kind,
                        digest=number_digest(kind, value),
                        tenant_id=tenant.pk,
                        employee_pk=employee.pk,
                        claimed_at=now,
                    )
                    for employee in employees
                    for kind, value in (
                        (NumberClaim.Kind.E164, employee.phone_number),
                        (NumberClaim.Kind.PHONE_NUMBER_ID, employee.whatsapp_phone_number_id),
                    )
                    if value
                ]
                NumberClaim.objects.bulk_create(claims, batch_size=1000)
                NumberAssignment.objects.bulk_create(
                    [
                        NumberAssignment(
                            tenant_id=tenant.pk,
                            employee=employee,
                            whatsapp_phone_number_id=employee.whatsapp_phone_number_id,
                            phone_number=employee.phone_number,
                            assigned_at=now,
                        )
                        for employee in employees
                        if employee.whatsapp_phone_number_id
                    ],
                    batch_size=1000,
                )
        except IntegrityError:
            # A concurrent request took an id or a number between our check and our insert.
            raise BulkConflict(
                [RowConflict(-1, "", "Changed by someone else at the same moment; try again.")]
            ) from None
        gate.invalidate(tenant.pk)
    return employees


class BulkConflict(ValidationError):
    def __init__(self, conflicts: list[RowConflict]) -> None:
        super().__init__([conflict.message for conflict in conflicts])
        self.conflicts = conflicts


class EmployeeRowsRefused(BulkConflict):
    """Rows the employee rules refuse (a caller that skipped the checks): a programming error of
    the caller rather than a change of state, named per row and field all the same."""


def phone_ids_in_use(phone_ids: list[str], *, exclude_employee: Employee | None = None) -> set[str]:
    """Which of these WhatsApp phone number ids an active employee (of any tenant) holds."""
    digests = {number_digest(NumberClaim.Kind.PHONE_NUMBER_ID, p): p for p in phone_ids}
    claims = NumberClaim.objects.filter(
        kind=NumberClaim.Kind.PHONE_NUMBER_ID, digest__in=list(digests)
    )
    if exclude_employee is not None:
        claims = claims.exclude(
            tenant_id=exclude_employee.tenant_id, employee_pk=exclude_employee.pk
        )
    return {digests[digest] for digest in claims.values_list("digest", flat=True)}


def update_employee(
    *, employee: Employee, data: EmployeeData, actor=None, request=None
) -> Employee:
    if not employee.active:
        raise ConsentError("A deactivated employee cannot be changed; add a new employee instead.")
    with tenant_scope(employee.tenant_id):
        fields = _clean_employee(employee.tenant, data, current=employee)
        changed = {
            name: (str(getattr(employee, name)), str(value))
            for name, value in fields.items()
            if getattr(employee, name) != value
        }
        if not changed:
            return employee
        for name, value in fields.items():
            setattr(employee, name, value)
        employee.full_clean(exclude=["team"], validate_unique=False, validate_constraints=False)
        _save_employee(employee)
        if {"phone_number", "whatsapp_phone_number_id"} & set(changed):
            _claim_numbers(employee)
            _assign_phone_id(employee, at=timezone.now())
        record_event(
            "employee.updated",
            tenant=employee.tenant,
            actor=actor,
            request=request,
            target=employee,
            details={"changed": sorted(changed)},
        )
        gate.invalidate(employee.tenant_id)
    return employee


def deactivate_employee(
    *, employee: Employee, actor=None, request=None, reason: str = ""
) -> Employee:
    """Offboarding: capture stops, the number is released, the archive stays under retention."""
    if not employee.active:
        raise ConsentError("This employee is already deactivated.")
    with tenant_scope(employee.tenant_id):
        now = timezone.now()
        employee.active = False
        employee.deactivated_at = now
        employee.deactivation_reason = reason[:500]
        employee.save(
            update_fields=["active", "deactivated_at", "deactivation_reason", "updated_at"]
        )
        _release_numbers(employee, at=now)
        ConsentInvitation.objects.filter(
            employee=employee, responded_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        record_event(
            "employee.deactivated",
            tenant=employee.tenant,
            actor=actor,
            request=request,
            target=employee,
            details={"reason": reason[:500]},
        )
        gate.invalidate(employee.tenant_id)
    return employee


def create_team(*, tenant: Tenant, name: str, actor=None, request=None) -> Team:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A team needs a name."})
    with tenant_scope(tenant):
        if Team.objects.filter(name__iexact=name).exists():
            raise ValidationError({"name": "A team with this name exists."})
        team = Team.objects.create(tenant=tenant, name=name[:100])
        record_event("team.created", tenant=tenant, actor=actor, request=request, target=team)
    return team


# --- notices ---------------------------------------------------------------------------------


def notice_hash(texts: dict[str, Any]) -> str:
    canonical = json.dumps(texts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _clean_texts(texts: dict[str, Any]) -> dict[str, dict[str, str]]:
    cleaned: dict[str, dict[str, str]] = {}
    for language in Language.values:
        entry = texts.get(language) or {}
        title = str(entry.get("title", "")).strip()
        body = str(entry.get("body", "")).strip()
        if title or body:
            cleaned[language] = {"title": title, "body": body}
    unknown = set(texts) - set(Language.values)
    if unknown:
        raise ValidationError({"texts": f"Unknown languages: {', '.join(sorted(unknown))}."})
    return cleaned


def create_notice_draft(
    *, tenant: Tenant, texts: dict[str, Any], actor=None, request=None
) -> ConsentNotice:
    with tenant_scope(tenant):
        notice = ConsentNotice.objects.create(
            tenant=tenant, texts=_clean_texts(texts), created_by=person_or_none(actor)
        )
        record_event(
            "notice.draft_created", tenant=tenant, actor=actor, request=request, target=notice
        )
    return notice


def update_notice_draft(
    *, notice: ConsentNotice, texts: dict[str, Any], actor=None, request=None
) -> ConsentNotice:
    if notice.is_published:
        raise ConsentError(
            "A published notice never changes. Create a new draft and publish it as a new version."
        )
    with tenant_scope(notice.tenant_id):
        notice.texts = _clean_texts(texts)
        notice.save(update_fields=["texts"])
        record_event(
            "notice.draft_updated",
            tenant=notice.tenant,
            actor=actor,
            request=request,
            target=notice,
        )
    return notice


def check_publishable(
    *, notice: ConsentNotice, reconsent_deadline: datetime | None = None
) -> dict[str, dict[str, str]]:
    """Refuse (ConsentError) what publishing would refuse, before anyone is asked to confirm;
    returns the texts that would be frozen."""
    if notice.is_published:
        raise ConsentError("This notice is already published.")
    texts = _clean_texts(notice.texts)
    if not texts:
        raise ConsentError("An empty notice cannot be published: write at least one language.")
    labels = dict(Language.choices)
    incomplete = [
        labels.get(lang, lang)
        for lang, entry in texts.items()
        if not entry["title"] or not entry["body"]
    ]
    if incomplete:
        raise ConsentError(
            f"Each language needs a title and a text: missing in {', '.join(incomplete)}."
        )
    if reconsent_deadline is not None and reconsent_deadline <= timezone.now():
        raise ConsentError("The re-consent deadline must be in the future.")
    return texts


def publish_notice(
    *,
    notice: ConsentNotice,
    actor=None,
    request=None,
    reconsent_deadline: datetime | None = None,
) -> ConsentNotice:
    """Freeze a draft as the next version. With a deadline, consents to earlier versions stop
    covering capture at that moment unless the employee consents to this one before it."""
    texts = check_publishable(notice=notice, reconsent_deadline=reconsent_deadline)
    with tenant_scope(notice.tenant_id), transaction.atomic():
        # Serialise publications of one tenant so versions never collide, and re-read the
        # draft under the lock: a concurrent publish of the same draft must fail cleanly.
        Tenant.objects.select_for_update().filter(pk=notice.tenant_id).first()
        if ConsentNotice.objects.filter(
            pk=notice.pk, status=ConsentNotice.Status.PUBLISHED
        ).exists():
            raise ConsentError("This notice is already published.")
        latest = ConsentNotice.objects.aggregate(latest=Max("version"))["latest"] or 0
        notice.texts = texts
        notice.version = latest + 1
        notice.status = ConsentNotice.Status.PUBLISHED
        notice.content_sha256 = notice_hash(texts)
        notice.reconsent_deadline = reconsent_deadline
        notice.published_at = timezone.now()
        notice.published_by = person_or_none(actor)
        notice.save()
        record_event(
            "notice.published",
            tenant=notice.tenant,
            actor=actor,
            request=request,
            target=notice,
            details={
                "version": notice.version,
                "sha256": notice.content_sha256,
                "reconsent_deadline": (
                    reconsent_deadline.isoformat() if reconsent_deadline else None
                ),
            },
        )
        gate.invalidate(notice.tenant_id)
    return notice


def publish_default_notice(*, tenant: Tenant) -> ConsentNotice:
    """Every new tenant starts with the shipped notice (in every language) as version 1."""
    texts = {lang: render_notice(DEFAULT_NOTICE[lang], firm_name=tenant.name) for lang in LANGUAGES}
    notice = create_notice_draft(tenant=tenant, texts=texts)
    return publish_notice(notice=notice)


def current_notice(*, tenant: Tenant) -> ConsentNotice | None:
    with tenant_scope(tenant):
        return (
            ConsentNotice.objects.filter(status=ConsentNotice.Status.PUBLISHED)
            .order_by("-version")
            .first()
        )


# --- consent ---------------------------------------------------------------------------------


def _last_event(employee: Employee) -> ConsentEvent | None:
    return ConsentEvent.objects.filter(employee=employee).order_by("-occurred_at", "-id").first()


def _is_covered_now(employee: Employee) -> bool:
    last = _last_event(employee)
    if last is None or last.kind != ConsentEvent.Kind.GRANTED:
        return False
    deadlines = [
        Deadline(at, version)
        for at, version in ConsentNotice.objects.filter(reconsent_deadline__isnull=False)
        .order_by("reconsent_deadline")
        .values_list("reconsent_deadline", "version")
    ]
    history = NumberHistory(
        holdings=[Holding(employee.pk, last.occurred_at, None, None)],
        changes={employee.pk: [ConsentChange(last.occurred_at, last.kind, last.notice_version)]},
        deadlines=deadlines,
    )
    return decide_from_history(history, timezone.now()).capture


def _token_pair(tenant_id: int) -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    return f"{tenant_id}.{secret}", hash_token(secret)


def _absolute(path: str, base_url: str = "") -> str:
    return (base_url.rstrip("/") if base_url else settings.SITE_URL) + path


def invite_employee(
    *,
    employee: Employee,
    actor=None,
    request=None,
    base_url: str = "",
    notice: ConsentNotice | None = None,
) -> tuple[ConsentInvitation, str]:
    """Send the employee a single-use link to read the current notice and accept or decline."""
    if not employee.active:
        raise ConsentError("A deactivated employee cannot be invited.")
    tenant = employee.tenant
    notice = notice or current_notice(tenant=tenant)
    if notice is None or not notice.is_published:
        raise ConsentError("Publish a consent notice first.")
    token, token_digest = _token_pair(tenant.pk)
    now = timezone.now()
    with tenant_scope(tenant):
        covered = consented_version(employee)
        if covered is not None and covered >= (notice.version or 0):
            raise AlreadyConsented(
                f"{employee.full_name} already consented to notice version {covered}: "
                "no invitation is needed."
            )
        ConsentInvitation.objects.filter(
            employee=employee, responded_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        invitation = ConsentInvitation.objects.create(
            tenant=tenant,
            employee=employee,
            notice=notice,
            token_hash=token_digest,
            language=employee.language,
            expires_at=now + CONSENT_INVITATION_TTL,
            sent_by=person_or_none(actor),
        )
        record_event(
            "consent.invitation_sent",
            tenant=tenant,
            actor=actor,
            request=request,
            target=employee,
            details={"notice_version": notice.version, "invitation": invitation.pk},
        )
    link = _absolute(reverse("consent:respond", args=[token]), base_url)
    with translation.override(employee.language):
        body = render_to_string(
            "consent/email/invitation.txt",
            {"employee": employee, "tenant": tenant, "link": link, "invitation": invitation},
        )
        subject = _("%(firm)s: please read the WhatsApp monitoring notice") % {"firm": tenant.name}
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [employee.email])
    )
    return invitation, link


def invite_employees_in_bulk(*, tenant: Tenant, actor=None, request=None) -> int:
    """Queue an invitation to the current notice for everyone who needs one (see
    selectors.employees_to_invite); the emails go out from a worker. Returns how many."""
    from ..tasks import send_consent_invitations_task  # tasks import this module: import late

    notice = current_notice(tenant=tenant)
    if notice is None:
        raise ConsentError("Publish a consent notice first.")
    with tenant_scope(tenant):
        employee_ids = list(
            employees_to_invite(tenant=tenant, notice_version=notice.version).values_list(
                "pk", flat=True
            )
        )
        if not employee_ids:
            return 0
        record_event(
            "consent.bulk_invitation",
            tenant=tenant,
            actor=actor,
            request=request,
            target=notice,
            details={"notice_version": notice.version, "employees": len(employee_ids)},
        )
    actor_id = person_or_none(actor).pk if person_or_none(actor) else None
    for start in range(0, len(employee_ids), 200):
        batch = employee_ids[start : start + 200]
        transaction.on_commit(
            lambda batch=batch: send_consent_invitations_task.delay(
                tenant_id=tenant.pk, employee_ids=batch, notice_id=notice.pk, actor_id=actor_id
            )
        )
    return len(employee_ids)


# Refusals of the employee's links stay English here (the API and the logs read them) and are
# marked for the catalogues with gettext_noop; the employee's pages translate them when shown.


def find_consent_invitation(token: str) -> ConsentInvitation:
    invalid = ConsentError(
        gettext_noop("This link is not valid. Ask your administrator for a new one.")
    )
    parts = split_token(token)
    if parts is None:
        raise invalid
    tenant_id, secret = parts
    tenant = Tenant.objects.filter(pk=tenant_id, status=Tenant.Status.ACTIVE).first()
    if tenant is None:
        raise invalid
    with tenant_scope(tenant):
        invitation = (
            ConsentInvitation.objects.select_related("employee", "notice")
            .filter(token_hash=hash_token(secret))
            .first()
        )
    if invitation is None:
        raise invalid
    if invitation.responded_at is not None:
        raise ConsentError(gettext_noop("You have already answered this invitation. Thank you."))
    if invitation.revoked_at is not None or not invitation.employee.active:
        raise ConsentError(
            gettext_noop("This invitation was replaced or withdrawn. Use the newest link you got.")
        )
    if invitation.expires_at <= timezone.now():
        raise ConsentError(
            gettext_noop("This link has expired. Ask your administrator for a new one.")
        )
    invitation.tenant = tenant
    return invitation


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


def _request_facts(request) -> dict[str, Any]:
    if request is None:
        return {"ip_address": None, "user_agent": ""}
    return {
        "ip_address": client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:512],
    }


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
    request=None,
    base_url: str = "",
    language: str = "",
) -> ConsentEvent:
    """The employee read the notice (in ``language``, default the invitation's) and typed their
    name: record the grant with its evidence."""
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
            **_request_facts(request),
        )
        record_event(
            "consent.granted",
            tenant=invitation.tenant,
            actor_label=f"employee:{employee.employee_id}",
            request=request,
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
    *, invitation: ConsentInvitation, request=None, reason: str = "", language: str = ""
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
            **_request_facts(request),
        )
        record_event(
            "consent.declined",
            tenant=invitation.tenant,
            actor_label=f"employee:{employee.employee_id}",
            request=request,
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


def consented_version(employee: Employee) -> int | None:
    """The notice version the employee's standing consent is to; None when there is none."""
    last = _last_event(employee)
    if last is None or last.kind != ConsentEvent.Kind.GRANTED:
        return None
    return last.notice_version or 0


def record_consent(
    *,
    employee: Employee,
    actor,
    request=None,
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
            recorded_by=person_or_none(actor),
            **_request_facts(request),
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
            request=request,
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


def withdraw_consent(
    *, employee: Employee, actor=None, request=None, reason: str = "", by_employee: bool = False
) -> ConsentEvent:
    """Capture stops at once. Already archived messages stay under legal retention."""
    with tenant_scope(employee.tenant_id), transaction.atomic():
        # Serialise concurrent withdrawals of one employee (two clicks, two admins).
        Employee.objects.select_for_update().filter(pk=employee.pk).first()
        last = _last_event(employee)
        if last is None or last.kind != ConsentEvent.Kind.GRANTED:
            raise ConsentError(_("There is no active consent to withdraw."))
        event = ConsentEvent.objects.create(
            tenant_id=employee.tenant_id,
            employee=employee,
            kind=ConsentEvent.Kind.WITHDRAWN,
            method=ConsentEvent.Method.EMPLOYEE if by_employee else ConsentEvent.Method.ADMIN,
            reason=reason.strip()[:1000],
            recorded_by=person_or_none(actor),
            **_request_facts(request),
        )
        record_event(
            "consent.withdrawn",
            tenant=employee.tenant,
            actor=actor,
            actor_label=f"employee:{employee.employee_id}" if by_employee else "",
            request=request,
            target=employee,
            details={"by": "employee" if by_employee else "admin", "reason": reason[:1000]},
        )
        gate.invalidate(employee.tenant_id)
    return event


def find_grant_by_withdrawal_token(token: str) -> ConsentEvent:
    invalid = ConsentError(gettext_noop("This link is not valid."))
    parts = split_token(token)
    if parts is None:
        raise invalid
    tenant_id, secret = parts
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        raise invalid
    with tenant_scope(tenant):
        grant = (
            ConsentEvent.objects.select_related("employee")
            .filter(kind=ConsentEvent.Kind.GRANTED, withdrawal_token_hash=hash_token(secret))
            .first()
        )
    if grant is None:
        raise invalid
    grant.tenant = tenant
    return grant


def expire_overdue_consents(*, tenant: Tenant) -> int:
    """Write an ``expired`` event for each employee whose consent a re-consent deadline ended.
    The gate already refuses from the deadline on; this puts the fact in the history."""
    now = timezone.now()
    expired = 0
    with tenant_scope(tenant):
        for employee in Employee.objects.filter(active=True):
            last = _last_event(employee)
            if last is None or last.kind != ConsentEvent.Kind.GRANTED or _is_covered_now(employee):
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
                target=employee,
                details={"granted_version": last.notice_version},
            )
            expired += 1
        if expired:
            gate.invalidate(tenant.pk)
    return expired
