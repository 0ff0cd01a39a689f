"""Reads of the learning loop: the firm's decided alerts as training examples (the source
policies.decisions calls), what the examples page lists, and per-policy false-positive rates
with the threshold that would have cut them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet

from archive.models import Message
from archive.retention.selectors import restricted_q
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from policies.detectors.findings import ML_CATEGORIES
from policies.ml.decision import Decision

from ..models import TRUE_POSITIVES, Alert, Disposition, Status
from .models import ExampleExclusion

LEARNED_DISPOSITIONS = (*TRUE_POSITIVES, Disposition.FALSE_POSITIVE)
EXAMPLES_SHOWN = 200


def decided_alerts(*, tenant: Tenant) -> QuerySet[Alert]:
    """Closed alerts whose decision teaches something (true or false positive; a duplicate says
    nothing) on an ML category, newest first. Messages of a restricted subject (GDPR Art. 18)
    are never training material, and disposed ones have no text left."""
    return (
        Alert.objects.filter(
            tenant=tenant,
            status=Status.CLOSED,
            disposition__in=LEARNED_DISPOSITIONS,
            categories__overlap=list(ML_CATEGORIES),
        )
        .exclude(
            message__in=Message.objects.filter(tenant=tenant).filter(restricted_q(tenant=tenant))
        )
        .order_by("-closed_at", "-id")
    )


def _excluded(tenant: Tenant) -> Exists:
    return Exists(ExampleExclusion.objects.filter(tenant=tenant, alert_id=OuterRef("pk")))


def firm_decisions(tenant: Tenant) -> list[Decision]:
    """policies.decisions' example source: the decided alerts an admin did not exclude."""
    with tenant_scope(tenant):
        rows = (
            decided_alerts(tenant=tenant)
            .filter(~_excluded(tenant))
            .values_list(
                "pk", "message_id", "conversation_id", "message__text", "categories", "disposition"
            )
        )
        return [
            Decision(
                key=f"alert-{pk}",
                message=message_id,
                conversation=conversation_id,
                text=text or "",
                categories=tuple(categories),
                true_positive=disposition in TRUE_POSITIVES,
            )
            for pk, message_id, conversation_id, text, categories, disposition in rows
        ]


@dataclass(frozen=True, slots=True)
class CategoryCount:
    category: str
    positive: int
    negative: int
    excluded: int

    @property
    def label(self) -> str:
        return self.category.replace("_", " ")


def example_counts(*, tenant: Tenant) -> list[CategoryCount]:
    """Per ML category: the alerts naming it closed as true positive, as false positive, and
    how many of those an admin left out (one query)."""
    with tenant_scope(tenant):
        rows = (
            decided_alerts(tenant=tenant)
            .annotate(excluded=_excluded(tenant))
            .values_list("categories", "disposition", "excluded")
        )
        tally: dict[str, list[int]] = {c: [0, 0, 0] for c in ML_CATEGORIES}
        for categories, disposition, excluded in rows.iterator():
            for category in categories:
                if category not in tally:
                    continue
                if excluded:
                    tally[category][2] += 1
                else:
                    tally[category][0 if disposition in TRUE_POSITIVES else 1] += 1
    return [CategoryCount(c, *tally[c]) for c in ML_CATEGORIES]


def recent_examples(*, tenant: Tenant, limit: int = EXAMPLES_SHOWN) -> list[Alert]:
    with tenant_scope(tenant):
        return list(
            decided_alerts(tenant=tenant)
            .annotate(excluded=_excluded(tenant))
            .select_related("policy")[:limit]
        )


@dataclass(frozen=True, slots=True)
class PolicyRate:
    policy_id: int
    policy: str
    decided: int
    false_positives: int
    # The lowest score any true positive of the policy had: a min_score there keeps them all.
    lowest_true_positive: float | None
    cut: int  # false positives scored below it: what that min_score would have cut

    @property
    def rate(self) -> float:
        return self.false_positives / self.decided if self.decided else 0.0


def false_positive_rates(*, tenant: Tenant) -> list[PolicyRate]:
    """Per policy with decided alerts: the share closed as false positive, and what a minimum
    score at its lowest true positive's score would have cut (two queries)."""
    with tenant_scope(tenant):
        decided = Alert.objects.filter(
            tenant=tenant, status=Status.CLOSED, disposition__in=LEARNED_DISPOSITIONS
        )
        rows = list(
            decided.values("policy_id", "policy__name")
            .annotate(
                decided=Count("id"),
                false_positives=Count("id", filter=Q(disposition=Disposition.FALSE_POSITIVE)),
                lowest_true_positive=Min("score", filter=Q(disposition__in=TRUE_POSITIVES)),
            )
            .order_by("policy__name", "policy_id")
        )
        cuts = Q()
        for row in rows:
            if row["false_positives"] and row["lowest_true_positive"] is not None:
                cuts |= Q(policy_id=row["policy_id"], score__lt=row["lowest_true_positive"])
        cut = (
            dict(
                decided.filter(disposition=Disposition.FALSE_POSITIVE)
                .filter(cuts)
                .values_list("policy_id")
                .annotate(n=Count("id"))
                .values_list("policy_id", "n")
            )
            if cuts
            else {}
        )
    return [
        PolicyRate(
            policy_id=row["policy_id"],
            policy=row["policy__name"],
            decided=row["decided"],
            false_positives=row["false_positives"],
            lowest_true_positive=row["lowest_true_positive"],
            cut=cut.get(row["policy_id"], 0),
        )
        for row in rows
    ]
