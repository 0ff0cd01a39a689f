"""Writes of retention policies: create, change, delete, each checked against the regulation's
floor and audited with the policy before and after."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from consent.models import Team
from consent.phones import is_region

from .models import RetentionPolicy
from .rules import RetentionRuleError, Scope, check_years, preset_of


def _snapshot(policy: RetentionPolicy) -> dict[str, Any]:
    """What the audit trail keeps of a policy, before and after a change."""
    preset = preset_of(policy.preset)
    return {
        "preset": policy.preset,
        "regulation": preset.regulation,
        "floor_years": preset.floor_years,
        "years": policy.years,
        "scope": policy.scope,
        "team_id": policy.team_id,
        "team": policy.team.name if policy.team_id and policy.team else "",
        "region": policy.region,
    }


def _scope_of(
    *, tenant: Tenant, scope: str, team_id: int | None, region: str
) -> tuple[Scope, Team | None, str]:
    try:
        chosen = Scope(scope)
    except ValueError:
        raise RetentionRuleError(
            "scope", "Choose where the policy applies: the whole firm, a team or a country."
        ) from None
    if chosen is Scope.TEAM:
        team = Team.objects.filter(tenant=tenant, pk=team_id).first() if team_id else None
        if team is None:
            raise RetentionRuleError("team", "Choose one of the firm's teams.")
        return chosen, team, ""
    if chosen is Scope.REGION:
        code = (region or "").strip().upper()
        if len(code) != 2 or not code.isascii() or not code.isalpha() or not is_region(code):
            raise RetentionRuleError(
                "region", "Give the country as its two-letter code (ISO 3166-1), e.g. BR or US."
            )
        return chosen, None, code
    return chosen, None, ""


def create_policy(
    *,
    tenant: Tenant,
    actor: Actor,
    preset: str,
    years: int | None = None,
    scope: str = Scope.TENANT,
    team_id: int | None = None,
    region: str = "",
) -> RetentionPolicy:
    """A new policy; ``years`` defaults to the preset's and may not go below its floor."""
    chosen = preset_of(preset)
    years = chosen.years if years is None else years
    check_years(preset=chosen, years=years)
    with tenant_scope(tenant):
        where, team, code = _scope_of(tenant=tenant, scope=scope, team_id=team_id, region=region)
        policy = RetentionPolicy.objects.create(
            tenant=tenant, preset=chosen.code, years=years, scope=where.value, team=team,
            region=code, created_by_label=actor.label,
        )  # fmt: skip
        record_event(
            "retention_policy.created", tenant=tenant, actor=actor, target=policy,
            details={"before": None, "after": _snapshot(policy)},
        )  # fmt: skip
    return policy


def change_policy(
    *,
    policy: RetentionPolicy,
    actor: Actor,
    preset: str | None = None,
    years: int | None = None,
    scope: str | None = None,
    team_id: int | None = None,
    region: str | None = None,
) -> RetentionPolicy:
    """Change a policy; what is not given stays. Refused below the (new) preset's floor."""
    tenant = policy.tenant
    chosen = preset_of(policy.preset if preset is None else preset)
    new_years = policy.years if years is None else years
    check_years(preset=chosen, years=new_years)
    with tenant_scope(tenant):
        where, team, code = _scope_of(
            tenant=tenant,
            scope=policy.scope if scope is None else scope,
            team_id=policy.team_id if team_id is None else team_id,
            region=policy.region if region is None else region,
        )
        policy = RetentionPolicy.objects.select_for_update().get(tenant=tenant, pk=policy.pk)
        before = _snapshot(policy)
        policy.preset, policy.years, policy.scope = chosen.code, new_years, where.value
        policy.team, policy.region, policy.updated_at = team, code, timezone.now()
        policy.save()
        after = _snapshot(policy)
        if after != before:
            record_event(
                "retention_policy.changed", tenant=tenant, actor=actor, target=policy,
                details={"before": before, "after": after},
            )  # fmt: skip
    return policy


def delete_policy(*, policy: RetentionPolicy, actor: Actor) -> None:
    """Remove a policy. Never shortens anything below a floor: the messages it covered are then
    kept by the other policies, or for ever when none applies."""
    tenant = policy.tenant
    with tenant_scope(tenant):
        before = _snapshot(policy)
        label = str(policy)
        record_event(
            "retention_policy.deleted", tenant=tenant, actor=actor, target=policy,
            target_label=label, details={"before": before, "after": None},
        )  # fmt: skip
        RetentionPolicy.objects.filter(tenant=tenant, pk=policy.pk).delete()
