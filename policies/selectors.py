"""Reads of policies for the API and pages: the firm's policies with their latest version, one
policy's versions, and the hits the scan raised."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F, QuerySet

from compliance_hub.tenancy.models import Tenant

from .models import Policy, PolicyHit, PolicyVersion


def policies(*, tenant: Tenant) -> QuerySet[Policy]:
    return Policy.objects.filter(tenant=tenant).order_by("name", "id")


def with_severity(queryset: QuerySet[Policy], severity: str) -> QuerySet[Policy]:
    """The policies whose latest version has this severity (the one that scans)."""
    return queryset.filter(
        versions__number=F("version"), versions__document__severity=severity
    ).distinct()


def latest_versions(*, tenant: Tenant, chosen: Iterable[Policy]) -> dict[int, PolicyVersion]:
    """Each policy's latest version, by policy id, in one query."""
    wanted = {policy.pk: policy.version for policy in chosen}
    if not wanted:
        return {}
    rows = PolicyVersion.objects.filter(tenant=tenant, policy_id__in=wanted)
    return {
        version.policy_id: version
        for version in rows.filter(number__in=set(wanted.values()))
        if wanted[version.policy_id] == version.number
    }


def policy_versions(*, tenant: Tenant, policy: Policy) -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.filter(tenant=tenant, policy=policy).order_by("number")


# What a hit's row shows: its message's text and its version's document stay unread.
HIT_COLUMNS = (
    "id", "severity", "score", "findings", "explanation", "lookback", "created_at",
    "message__id", "message__wamid", "policy__id", "policy__name",
    "policy_version__id", "policy_version__number",
)  # fmt: skip


def policy_hits(*, tenant: Tenant) -> QuerySet[PolicyHit]:
    """Newest first, with what a row shows of its message and version (no N+1)."""
    return (
        PolicyHit.objects.filter(tenant=tenant)
        .select_related("message", "policy_version", "policy")
        .only(*HIT_COLUMNS)
        .order_by("-created_at", "-id")
    )
