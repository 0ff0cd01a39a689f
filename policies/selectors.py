"""Reads of policies for the pages and the API: the firm's list with what each found lately, one
policy with its versions, the built-in packs with which of their policies the firm already has,
and the hits the scan raised."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count, F, QuerySet
from django.utils import timezone

from compliance_hub.tenancy.models import Tenant
from consent.models import Employee, Team

from .models import Policy, PolicyHit, PolicyVersion
from .packs import Pack, packs

HITS_WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class PolicyRow:
    policy: Policy
    severity: str
    hits: int  # in the last HITS_WINDOW
    pack_name: str  # the built-in pack it was copied from, "" for the firm's own


@dataclass(frozen=True, slots=True)
class PackEntry:
    index: int
    document: dict[str, Any]
    copy: Policy | None  # the firm's policy of the same name, if it has one


@dataclass(frozen=True, slots=True)
class PackRow:
    pack: Pack
    entries: tuple[PackEntry, ...]

    @property
    def all_on(self) -> bool:
        return all(e.copy is not None and e.copy.active for e in self.entries)


def policies(*, tenant: Tenant) -> QuerySet[Policy]:
    return Policy.objects.filter(tenant=tenant)


def policy_rows(*, tenant: Tenant) -> list[PolicyRow]:
    """The firm's policies with their latest version's severity and their hits of the last 30
    days: three queries, whatever the number of policies."""
    rows = list(policies(tenant=tenant))
    severities = dict(
        PolicyVersion.objects.filter(tenant=tenant, number=F("policy__version")).values_list(
            "policy_id", "document__severity"
        )
    )
    since = timezone.now() - HITS_WINDOW
    hits = dict(
        PolicyHit.objects.filter(tenant=tenant, created_at__gte=since)
        .values("policy_id")
        .annotate(n=Count("id"))
        .values_list("policy_id", "n")
    )
    names = {pack.slug: pack.name for pack in packs()}
    return [
        PolicyRow(p, str(severities.get(p.pk) or ""), hits.get(p.pk, 0), names.get(p.pack, ""))
        for p in rows
    ]


def pack_rows(*, tenant: Tenant) -> list[PackRow]:
    by_name = {p.name: p for p in policies(tenant=tenant)}
    return [
        PackRow(
            pack,
            tuple(
                PackEntry(index, document, by_name.get(document["name"]))
                for index, document in enumerate(pack.documents)
            ),
        )
        for pack in packs()
    ]


def policy_versions(*, tenant: Tenant, policy: Policy) -> list[PolicyVersion]:
    return list(PolicyVersion.objects.filter(tenant=tenant, policy=policy).order_by("-number"))


def policy_version(*, tenant: Tenant, policy: Policy, number: int) -> PolicyVersion | None:
    return PolicyVersion.objects.filter(tenant=tenant, policy=policy, number=number).first()


@dataclass(frozen=True, slots=True)
class ScopeChoices:
    """What the scope pickers offer: the firm's teams, employees (id, name) and regions."""

    teams: list[str]
    employees: list[tuple[str, str]]
    regions: list[str]


def scope_choices(*, tenant: Tenant) -> ScopeChoices:
    teams = list(Team.objects.filter(tenant=tenant).values_list("name", flat=True))
    employees = list(
        Employee.objects.filter(tenant=tenant)
        .exclude(employee_id="")
        .values_list("employee_id", "full_name")
    )
    regions = sorted(
        set(
            Employee.objects.filter(tenant=tenant)
            .exclude(region="")
            .values_list("region", flat=True)
        )
    )
    return ScopeChoices(teams, [(e, n) for e, n in employees], regions)


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
