"""Capture notices: what an admin must know at once about capture itself.

* capture stopped for a number: ``account_update`` with ``PARTNER_REMOVED`` (the business
  disconnected the app from the Business Platform), ``ACCOUNT_OFFBOARDED`` and the like. Meta
  keeps no backlog for us, so every message after that moment is lost to the archive;
* an unconsented number in use: the gate refused messages of a number nobody holds, or of an
  employee who never consented;
* history sharing declined: the one-shot back-fill of earlier chats will not come;
* media lost: an attachment could not be fetched for good (Meta keeps media 7 days), so the
  archive holds the message but not its file.

A notice is raised at most once per kind, number and day (``dedupe_key``), so a burst of
refused messages or a redelivered ``PARTNER_REMOVED`` gives one line on the dashboard, and
processing a delivery again (a retry, a replay) raises nothing new. Notices hold no content.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.digits import only_digits
from compliance_hub.phones import phone_for_display
from compliance_hub.tenancy.models import Tenant
from consent.models import Employee

from .models import CaptureNotice, Refusal
from .whatsapp.events import AccountEvent, ParsedDelivery

logger = logging.getLogger(__name__)

# account_update events after which Meta sends nothing more for the number or the account.
# PARTNER_REMOVED is the coexistence offboarding (Settings > Account > Business Platform);
# the others end the connection as surely.
CAPTURE_STOPPED = {
    "PARTNER_REMOVED": CaptureNotice.Kind.PARTNER_REMOVED,
    "ACCOUNT_OFFBOARDED": CaptureNotice.Kind.PARTNER_REMOVED,
    "ACCOUNT_DISCONNECTED": CaptureNotice.Kind.PARTNER_REMOVED,
    "PARTNER_APP_UNINSTALLED": CaptureNotice.Kind.ACCOUNT_EVENT,
    "ACCOUNT_DELETED": CaptureNotice.Kind.ACCOUNT_EVENT,
}
# DISABLED_UPDATE is a ban; only the DISABLE state stops the account.
DISABLED_STATES = {"DISABLE"}
# Meta's event and reason codes, as the notice says them (the codes stay in the details).
META_EVENT_WORDS = {
    "PARTNER_REMOVED": "the number was disconnected from this app",
    "ACCOUNT_OFFBOARDED": "the account was offboarded",
    "ACCOUNT_DISCONNECTED": "the account was disconnected",
    "PARTNER_APP_UNINSTALLED": "the app was removed from the account",
    "ACCOUNT_DELETED": "the account was deleted",
    "DISABLED_UPDATE": "the account was disabled",
}
UNCONSENTED_REASONS = {"unknown_number": "no employee holds it", "no_consent": "no consent given"}
HISTORY_DECLINED_CODE = 2593109  # "History sync is turned off by the business"


@dataclass(frozen=True)
class NoticeDraft:
    """A notice to raise; ``subject`` is what the notice is about (a phone number id, or the
    display number or account when Meta names no id) and keys the once-a-day dedupe."""

    kind: str
    subject: str
    phone_number_id: str = ""
    display_number: str = ""
    event: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    employee_pk: int | None = None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


# -- from parsed deliveries (pure) -------------------------------------------------------------


def _capture_stopped(event: AccountEvent) -> NoticeDraft | None:
    raw = event.raw if isinstance(event.raw, dict) else {}
    kind = CAPTURE_STOPPED.get(event.event)
    if kind is None and event.event == "DISABLED_UPDATE":
        ban = raw.get("ban_info")
        if isinstance(ban, dict) and _text(ban.get("waba_ban_state")) in DISABLED_STATES:
            kind = CaptureNotice.Kind.ACCOUNT_EVENT
    if kind is None:
        return None
    display = only_digits(_text(raw.get("phone_number")) or event.envelope.display_phone_number)
    phone_id = event.envelope.phone_number_id
    info = raw.get("disconnection_info")
    info = info if isinstance(info, dict) else {}
    details = {
        "event": event.event,
        "waba_id": event.envelope.waba_id,
        "reason": _text(info.get("reason")),
        "initiated_by": _text(info.get("initiated_by")),
    }
    subject = phone_id or display or f"waba:{event.envelope.waba_id}"
    return NoticeDraft(
        kind=kind,
        subject=subject,
        phone_number_id=phone_id,
        display_number=display,
        event=event.event,
        details={k: v for k, v in details.items() if v},
    )


def _history_errors(errors: Iterable[Any]) -> list[dict[str, Any]]:
    kept = []
    for error in errors:
        if isinstance(error, dict):
            kept.append(
                {
                    key: error[key]
                    for key in ("code", "title", "message")
                    if isinstance(error.get(key), str | int) and not isinstance(error[key], bool)
                }
            )
    return kept


def _history_declined(event: AccountEvent) -> NoticeDraft | None:
    if event.event != "history" or event.envelope.field != "history":
        return None
    raw = event.raw if isinstance(event.raw, dict) else {}
    errors = raw.get("errors")
    errors = _history_errors(errors if isinstance(errors, list) else [])
    phone_id = event.envelope.phone_number_id
    display = only_digits(event.envelope.display_phone_number)
    return NoticeDraft(
        kind=CaptureNotice.Kind.HISTORY_DECLINED,
        subject=phone_id or display or f"waba:{event.envelope.waba_id}",
        phone_number_id=phone_id,
        display_number=display,
        event="history",
        details={"errors": errors, "declined": _declined(errors)},
    )


def _declined(errors: list[dict[str, Any]]) -> bool:
    return any(str(error.get("code")) == str(HISTORY_DECLINED_CODE) for error in errors)


def drafts_for_delivery(parsed: ParsedDelivery) -> list[NoticeDraft]:
    """Notices that a parsed delivery's account events and errors call for (not refusals)."""
    drafts: list[NoticeDraft] = []
    for event in parsed.account_events:
        draft = _capture_stopped(event) or _history_declined(event)
        if draft is not None:
            drafts.append(draft)
    has_history_notice = any(d.kind == CaptureNotice.Kind.HISTORY_DECLINED for d in drafts)
    errors = _history_errors(parsed.errors)
    if not has_history_notice and _declined(errors):
        # value.errors of a history change: Meta names no thread, only the change's number.
        numbers = sorted(parsed.phone_number_ids)
        drafts.append(
            NoticeDraft(
                kind=CaptureNotice.Kind.HISTORY_DECLINED,
                subject=numbers[0] if len(numbers) == 1 else "unknown",
                phone_number_id=numbers[0] if len(numbers) == 1 else "",
                event="history",
                details={"errors": errors, "declined": True},
            )
        )
    return drafts


def drafts_for_refusals(
    refusals: Iterable[Refusal], display_numbers: dict[str, str] | None = None
) -> list[NoticeDraft]:
    """One draft per number whose messages were refused for a reason that means an
    unconsented number is in use (nobody holds it, or its holder never consented).
    ``display_numbers`` (phone number id -> the number as Meta displays it, from the delivery's
    metadata) lets the notice name the number as people know it."""
    display_numbers = display_numbers or {}
    drafts: dict[str, NoticeDraft] = {}
    for refusal in refusals:
        if refusal.reason not in UNCONSENTED_REASONS or refusal.phone_number_id in drafts:
            continue
        drafts[refusal.phone_number_id] = NoticeDraft(
            kind=CaptureNotice.Kind.UNCONSENTED_NUMBER,
            subject=refusal.phone_number_id or "unknown",
            phone_number_id=refusal.phone_number_id,
            display_number=only_digits(display_numbers.get(refusal.phone_number_id, "")),
            details={"reason": refusal.reason},
            employee_pk=refusal.employee_pk,
        )
    return list(drafts.values())


# -- writes ------------------------------------------------------------------------------------


def dedupe_key(draft: NoticeDraft, day: date) -> str:
    return f"{draft.kind}:{draft.subject[:120]}:{day.isoformat()}"


def _employees(tenant: Tenant, drafts: list[NoticeDraft]) -> dict[str, Employee]:
    """The employee each draft is about, by subject: by id when the refusal named one, else by
    the number's WhatsApp id, else by its display number (what account_update carries)."""
    pks = {d.employee_pk for d in drafts if d.employee_pk}
    phone_ids = {d.phone_number_id for d in drafts if d.phone_number_id}
    numbers = {f"+{d.display_number}" for d in drafts if d.display_number}
    if not (pks or phone_ids or numbers):
        return {}
    found = list(
        Employee.objects.filter(tenant=tenant).filter(
            Q(pk__in=pks)
            | Q(active=True, whatsapp_phone_number_id__in=phone_ids)
            | Q(active=True, phone_number__in=numbers)
        )
    )
    by_subject: dict[str, Employee] = {}
    for draft in drafts:
        employee = _employee_for(draft, found)
        if employee is not None:
            by_subject[draft.subject] = employee
    return by_subject


def _employee_for(draft: NoticeDraft, found: list[Employee]) -> Employee | None:
    """The surest identification first: the employee the gate named, then the number's id,
    then the display number."""
    if draft.employee_pk:
        for employee in found:
            if employee.pk == draft.employee_pk:
                return employee
    if draft.phone_number_id:
        for employee in found:
            if employee.whatsapp_phone_number_id == draft.phone_number_id:
                return employee
    if draft.display_number:
        for employee in found:
            if employee.phone_number == f"+{draft.display_number}":
                return employee
    return None


def _number_label(draft: NoticeDraft, employee: Employee | None) -> str:
    """The number as people know it (``number +55 11 98765-4321 (Ana Souza)``), or the best
    Meta gave us to name it."""
    if draft.display_number:
        label = f"number {phone_for_display(draft.display_number)}"
    elif employee is not None and employee.phone_number:
        label = f"number {phone_for_display(employee.phone_number)}"
    elif draft.phone_number_id:
        label = f"WhatsApp number id {draft.phone_number_id}"
    elif draft.subject.startswith("waba:"):
        label = f"WhatsApp Business Account {draft.subject[5:]}"
    else:
        label = "an unidentified number"
    if employee is not None:
        label += f" ({employee.full_name})"
    return label


def _message(draft: NoticeDraft, employee: Employee | None) -> str:
    number = _number_label(draft, employee)
    if draft.kind in (CaptureNotice.Kind.PARTNER_REMOVED, CaptureNotice.Kind.ACCOUNT_EVENT):
        why = META_EVENT_WORDS.get(draft.event, draft.event)
        reason = draft.details.get("reason", "")
        if reason and reason != draft.event:
            why += f" ({META_EVENT_WORDS.get(reason, reason)})"
        return (
            f"Capture stopped for {number}: Meta reported that {why}. Nothing sent or received "
            "on it reaches the archive until it is connected again."
        )
    if draft.kind == CaptureNotice.Kind.UNCONSENTED_NUMBER:
        why = UNCONSENTED_REASONS.get(draft.details.get("reason", ""), "no consent")
        return (
            f"Unconsented number in use: {number}, {why}. Its messages were refused and no "
            "content was kept."
        )
    if draft.kind == CaptureNotice.Kind.MEDIA_LOST:
        return (
            f"Media could not be archived for {number}: {draft.details.get('reason', '')}. "
            "The messages are archived; their attachments are marked failed (see the "
            "message's attachments in the archive)."
        )
    if draft.details.get("declined"):
        return (
            f"History sharing declined for {number}: earlier chats will not be "
            "back-filled (the business turned history sync off in the WhatsApp Business app)."
        )
    return f"History back-fill failed for {number}: Meta sent an error instead of chats."


def draft_for_lost_media(*, phone_number_id: str, reason: str) -> NoticeDraft:
    return NoticeDraft(
        kind=CaptureNotice.Kind.MEDIA_LOST,
        subject=phone_number_id or "unknown",
        phone_number_id=phone_number_id,
        details={"reason": reason[:300]},
    )


def raise_notices(*, tenant: Tenant, drafts: list[NoticeDraft], day: date) -> int:
    """Store the drafts not raised yet for their kind, subject and ``day`` (in the caller's
    tenant scope and transaction). Returns how many are new."""
    if not drafts:
        return 0
    keyed = {dedupe_key(draft, day): draft for draft in drafts}
    existing = set(
        CaptureNotice.objects.filter(tenant=tenant, dedupe_key__in=list(keyed)).values_list(
            "dedupe_key", flat=True
        )
    )
    new = {key: draft for key, draft in keyed.items() if key not in existing}
    if not new:
        return 0
    employees = _employees(tenant, list(new.values()))
    rows = []
    # In key order, as every archive insert (archive/services.py: no deadlock between drains).
    for key, draft in sorted(new.items()):
        employee = employees.get(draft.subject)
        phone_id = draft.phone_number_id or (employee.whatsapp_phone_number_id if employee else "")
        details = dict(draft.details)
        if employee is not None:
            details["employee"] = employee.pk
        rows.append(
            CaptureNotice(
                tenant=tenant,
                kind=draft.kind,
                dedupe_key=key,
                phone_number_id=phone_id[:32],
                message=_message(draft, employee)[:500],
                details=details,
            )
        )
    # A concurrent worker may raise the same notice a moment earlier: that one stands.
    CaptureNotice.objects.bulk_create(rows, ignore_conflicts=True)
    for row in rows:
        logger.warning("capture notice for tenant %s: %s", tenant.pk, row.dedupe_key)
    return len(rows)


def acknowledge_notice(*, notice: CaptureNotice, actor: Actor) -> CaptureNotice:
    """An admin has seen the notice: it leaves the dashboard. Audited; acknowledging twice
    changes nothing."""
    if notice.acknowledged_at is not None:
        return notice
    with transaction.atomic():
        notice.acknowledged_at = timezone.now()
        notice.acknowledged_by = actor.user
        notice.save(update_fields=["acknowledged_at", "acknowledged_by"])
        record_event(
            "capture_notice.acknowledged",
            tenant=notice.tenant,
            actor=actor,
            target=notice,
            details={"kind": notice.kind, "phone_number_id": notice.phone_number_id},
        )
    return notice


# -- reads -------------------------------------------------------------------------------------


def open_notices(*, tenant: Tenant) -> QuerySet[CaptureNotice]:
    """Notices no admin has acknowledged yet, newest first."""
    return CaptureNotice.objects.filter(tenant=tenant, acknowledged_at__isnull=True).order_by(
        "-created_at", "-id"
    )


def notice_or_none(*, tenant: Tenant, pk: int) -> CaptureNotice | None:
    return CaptureNotice.objects.filter(tenant=tenant, pk=pk).select_related("tenant").first()
