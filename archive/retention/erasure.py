"""Erasure requests (GDPR Art. 17, LGPD Art. 18): recorded by an admin, decided at once.

While a retention policy or a legal hold still applies to any of the subject's messages the
request is refused, with the legal basis written out (GDPR Art. 17(3)(b) and (e); LGPD Art. 16
I), and the subject's data are restricted (GDPR Art. 18: kept, but pages say so and detection
and training leave them out: selectors.restricted_q). Otherwise the subject's messages are
erased the way disposition does it (tombstones keep the leaf hashes; the content is blanked).
Every decision is audited. Reference: shared/reference/archive-and-export.md section 4.3."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.digits import is_digits
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from consent.models import Employee

from ..holds.models import LegalHold
from ..holds.selectors import held_by, held_messages_q, lock_holds
from ..ledger.services import checkpoint_and_anchor
from ..models import Message
from .disposition import MESSAGE, DispositionOutcome, _tombstoned, _unlogged_parts, dispose_messages
from .models import ErasureRequest, SubjectKind, SubjectRestriction
from .selectors import retention_bases, subject_messages

MAX_REQUESTER = 200
NAMED_HOLDS = 5  # a refusal names this many holds at most (and says how many more)

LEGAL_OBLIGATION: dict[str, str] = {
    ErasureRequest.Law.GDPR: "GDPR Art. 17(3)(b): erasure does not apply while a legal "
    "obligation requires the records be kept.",
    ErasureRequest.Law.LGPD: "LGPD Art. 16 I: data may be kept to comply with a legal or "
    "regulatory obligation of the controller.",
}
LEGAL_CLAIMS: dict[str, str] = {
    ErasureRequest.Law.GDPR: "GDPR Art. 17(3)(e): erasure does not apply while the records are "
    "needed for the establishment, exercise or defence of legal claims.",
    ErasureRequest.Law.LGPD: "LGPD Art. 16 I and Art. 7 VI: data may be kept for the regular "
    "exercise of rights in judicial proceedings.",
}


class ErasureInputError(ValueError):
    """A request that cannot be recorded as given, with what is wrong and where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    counterparty_wa_id: str = ""
    employee: Employee | None = None


def client_number(value: str) -> str:
    """A client's WhatsApp number as WhatsApp writes it (digits, country code first)."""
    text = (value or "").strip()
    digits = re.sub(r"[\s().\-]", "", text).removeprefix("+")
    if not is_digits(digits) or not 6 <= len(digits) <= 15:
        raise ErasureInputError(
            "counterparty_number",
            "Give the client's WhatsApp number with its country code, e.g. +55 11 98765-4321.",
        )
    return digits


def subject_of(
    *, tenant: Tenant, kind: str, counterparty_number: str = "", employee_id: int | None = None
) -> Subject:
    if kind == SubjectKind.COUNTERPARTY:
        return Subject(
            SubjectKind.COUNTERPARTY, counterparty_wa_id=client_number(counterparty_number)
        )
    if kind == SubjectKind.EMPLOYEE:
        with tenant_scope(tenant):
            employee = (
                Employee.objects.filter(tenant=tenant, pk=employee_id).first()
                if employee_id
                else None
            )
        if employee is None:
            raise ErasureInputError("employee", "Choose one of the firm's employees.")
        return Subject(SubjectKind.EMPLOYEE, employee=employee)
    raise ErasureInputError("subject_kind", "Say whose data: a client's or an employee's.")


def record_erasure_request(
    *,
    tenant: Tenant,
    actor: Actor,
    subject_kind: str,
    law: str,
    requested_by: str,
    requested_on: date,
    counterparty_number: str = "",
    employee_id: int | None = None,
    now: datetime | None = None,
) -> ErasureRequest:
    """Record the request and decide it (see the module's docstring)."""
    now = now or timezone.now()
    subject = subject_of(
        tenant=tenant, kind=subject_kind, counterparty_number=counterparty_number,
        employee_id=employee_id,
    )  # fmt: skip
    if law not in ErasureRequest.Law.values:
        raise ErasureInputError("law", "Choose the law the request is made under: GDPR or LGPD.")
    requested_by = (requested_by or "").strip()
    if not requested_by or len(requested_by) > MAX_REQUESTER:
        raise ErasureInputError(
            "requested_by", f"Say who asked (at most {MAX_REQUESTER} characters)."
        )
    if requested_on > timezone.localdate(now):
        raise ErasureInputError("requested_on", "The request cannot be dated in the future.")

    def messages():
        return subject_messages(
            tenant=tenant, kind=subject.kind, counterparty_wa_id=subject.counterparty_wa_id,
            employee_id=subject.employee.pk if subject.employee else None,
        ).filter(~_tombstoned(MESSAGE))  # fmt: skip

    with tenant_scope(tenant):
        unlogged = messages().filter(_unlogged_parts()).exists()
    if unlogged:  # every record needs its leaf before a tombstone can keep it
        checkpoint_and_anchor(tenant=tenant, force=True)

    with tenant_scope(tenant):
        # The same lock as disposition and placing a hold: the holds read below stay true
        # until this decision commits.
        lock_holds(tenant=tenant, shared=True)
        rows = messages()
        lines = [b.sentence for b in retention_bases(tenant=tenant, messages=rows, now=now)]
        if lines:
            lines.append(LEGAL_OBLIGATION[law])
        held = rows.filter(Q(held_messages_q(tenant=tenant)))
        hold_lines = _hold_sentences(tenant, held)
        if hold_lines:
            lines += [*hold_lines, LEGAL_CLAIMS[law]]
        request = ErasureRequest(
            tenant=tenant, subject_kind=subject.kind, counterparty_wa_id=subject.counterparty_wa_id,
            employee=subject.employee, law=law, requested_by=requested_by,
            requested_on=requested_on, recorded_by_label=actor.label, recorded_at=now,
            message_count=rows.count(),
        )  # fmt: skip
        if lines:
            request.decision = ErasureRequest.Decision.REFUSED
            request.basis = "\n".join(lines)
            request.save()
            SubjectRestriction.objects.create(
                tenant=tenant, erasure_request=request, subject_kind=subject.kind,
                counterparty_wa_id=subject.counterparty_wa_id, employee=subject.employee,
            )  # fmt: skip
            action = "erasure_request.refused"
        else:
            outcome = DispositionOutcome(dry_run=False)
            dispose_messages(
                tenant=tenant, actor=actor,
                # A message captured in the last instant may still wait for its leaf; a
                # tombstone needs one, so it is left for a later request (counted below).
                rows=list(rows.exclude(_unlogged_parts()).order_by("whatsapp_timestamp", "pk")
                          .values_list("pk", "wamid", "whatsapp_timestamp")),
                reason=f"erasure request ({ErasureRequest.Law(law).label})", outcome=outcome,
            )  # fmt: skip
            request.decision = ErasureRequest.Decision.CARRIED_OUT
            request.disposed = {
                **outcome.counts,
                "waiting_for_the_log": rows.filter(_unlogged_parts()).count(),
            }
            request.save()
            action = "erasure_request.carried_out"
        details = {
            "subject_kind": subject.kind.value,
            "counterparty_wa_id": subject.counterparty_wa_id,
            "employee_id": subject.employee.pk if subject.employee else None,
            "law": law,
            "requested_by": requested_by,
            "requested_on": requested_on.isoformat(),
            "decision": request.decision,
            "basis": request.basis,
            "messages": request.message_count,
            "disposed": request.disposed,
        }
        record_event(
            action,
            tenant=tenant,
            actor=actor,
            target=request,
            target_label=f"Erasure request for {request.subject_label}",
            details=details,
        )
    return request


def _hold_sentences(tenant: Tenant, held: QuerySet[Message]) -> list[str]:
    """One line per legal hold keeping any of ``held`` (oldest first, at most NAMED_HOLDS)."""
    ids = list(held.values_list("pk", flat=True))
    holds: dict[int, LegalHold] = {}
    for start in range(0, len(ids), 1000):
        for found in held_by(tenant=tenant, message_ids=ids[start : start + 1000]).values():
            holds.update((hold.pk, hold) for hold in found)
    ordered = sorted(holds.values(), key=lambda hold: (hold.created_at, hold.pk))
    lines = [
        f"Legal hold '{hold.matter}' placed {hold.created_at:%Y-%m-%d}."
        for hold in ordered[:NAMED_HOLDS]
    ]
    more = len(ordered) - NAMED_HOLDS
    if more > 0:
        lines.append(f"... and {more} more legal hold{'s' if more > 1 else ''}.")
    return lines
