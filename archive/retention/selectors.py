"""Reads of retention: the tenant's policies, which messages are past retention (the rules of
rules.py as one query), until when a subject's messages must be kept, and what is restricted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_

from django.db.models import Max, Q, QuerySet

from compliance_hub.tenancy.models import Tenant
from consent.models import Employee

from ..models import Conversation, Message
from .models import RetentionPolicy, SubjectKind, SubjectRestriction
from .rules import PRESETS, PolicyTerms, Scope, add_years, cutoff

NOTHING = Q(pk__in=[])


def retention_policies(*, tenant: Tenant) -> QuerySet[RetentionPolicy]:
    return RetentionPolicy.objects.filter(tenant=tenant).select_related("team")


def policy_terms(*, tenant: Tenant) -> list[PolicyTerms]:
    return [
        PolicyTerms(
            policy_id=p.pk,
            preset=p.preset,
            years=p.years,
            scope=Scope(p.scope),
            team_id=p.team_id,
            region=p.region,
        )
        for p in retention_policies(tenant=tenant)
    ]


def covered_q(terms: PolicyTerms) -> Q:
    """The messages a policy applies to (by their employee's team or country). An IN over the
    employees, not a join: an employee without a team would make ``team_id = X`` NULL, and NOT
    of a NULL drops the row from past_retention_q's negation."""
    if terms.scope is Scope.TEAM:
        team = Employee.objects.filter(team_id=terms.team_id or 0)  # 0: no team, no employee
        return Q(employee_id__in=team.values("pk"))
    if terms.scope is Scope.REGION:
        return Q(employee_id__in=Employee.objects.filter(region__iexact=terms.region).values("pk"))
    # Every message; not Q(), which an OR drops (Q() | X is X).
    return Q(pk__isnull=False)


def past_retention_q(terms: list[PolicyTerms], *, now: datetime) -> Q:
    """Messages past retention at ``now``: at least one policy applies, and every policy that
    applies has run out (the longest wins; no policy: kept for ever)."""
    if not terms:
        return NOTHING
    covered = reduce(or_, (covered_q(t) for t in terms))
    kept = reduce(
        or_,
        (covered_q(t) & Q(whatsapp_timestamp__gte=cutoff(now, t.years)) for t in terms),
    )
    return covered & ~kept


@dataclass(frozen=True)
class RetentionBasis:
    """A policy still keeping some of a subject's messages, and until when."""

    policy_id: int
    regulation: str
    years: int
    until: datetime

    @property
    def sentence(self) -> str:
        return (
            f"{self.regulation} requires these records be kept until "
            f"{self.until:%Y-%m-%d} ({self.years} years from the newest message it covers)."
        )


def retention_bases(
    *, tenant: Tenant, messages: QuerySet[Message], now: datetime
) -> list[RetentionBasis]:
    """Every policy that still keeps one of ``messages`` at ``now`` (latest date first): a
    message is kept until the longest of its policies runs out, so the last of them goes when
    the latest of (newest covered message + the policy's years) is reached."""
    bases = []
    for terms in policy_terms(tenant=tenant):
        newest = messages.filter(covered_q(terms)).aggregate(newest=Max("whatsapp_timestamp"))[
            "newest"
        ]
        if newest is None:
            continue
        until = add_years(newest, terms.years)
        if until > now:
            bases.append(
                RetentionBasis(
                    terms.policy_id, PRESETS[terms.preset].regulation, terms.years, until
                )
            )
    return sorted(bases, key=lambda b: (b.until, b.years), reverse=True)


def subject_messages(
    *, tenant: Tenant, kind: str, counterparty_wa_id: str = "", employee_id: int | None = None
) -> QuerySet[Message]:
    """The messages of a data subject: a client's (by WhatsApp number, every employee's
    conversations with them) or an employee's."""
    rows = Message.objects.filter(tenant=tenant)
    if kind == SubjectKind.EMPLOYEE:
        return rows.filter(employee_id=employee_id or 0)
    return rows.filter(conversation__counterparty_wa_id=counterparty_wa_id)


def restricted_q(*, tenant: Tenant) -> Q:
    """Messages whose subject's processing is restricted (GDPR Art. 18): detection, model
    training and sampling leave these out."""
    restrictions = SubjectRestriction.objects.filter(tenant=tenant)
    numbers = restrictions.exclude(counterparty_wa_id="").values("counterparty_wa_id")
    employees = restrictions.filter(employee__isnull=False).values("employee_id")
    return Q(conversation__counterparty_wa_id__in=numbers) | Q(employee_id__in=employees)


def conversation_restricted(*, tenant: Tenant, conversation: Conversation) -> bool:
    """Whether the conversation's client or employee asked for erasure and got a restriction."""
    subject = Q(employee_id=conversation.employee_id)
    if conversation.counterparty_wa_id:
        subject |= Q(counterparty_wa_id=conversation.counterparty_wa_id)
    return SubjectRestriction.objects.filter(subject, tenant=tenant).exists()
