"""Policy hits become alerts: one per hit, never two (the alert's one-to-one on the hit), so the
after-scan receiver, the sweeper and a retried task may all run over the same hits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from policies.models import PolicyHit

from .models import Alert
from .notify.hooks import announce_raised
from .review_settings import sla_hours_of

SWEEP_BATCH = 2000


def severity_weight(severity: str) -> float:
    weights: Mapping[str, float] = settings.ALERTS_SEVERITY_WEIGHTS
    return float(weights.get(severity, 1.0))


def risk_of(severity: str, score: float) -> float:
    """The queue's default order: severity first, the detectors' confidence within it."""
    return round(severity_weight(severity) * score, 6)


def due_at(
    severity: str, raised_at: datetime, sla_hours: Mapping[str, float] | None = None
) -> datetime:
    """When the review is due: the firm's SLA per severity (``sla_hours``, from
    alerts.review_settings.sla_hours_of), else the settings' ALERTS_SLA_HOURS. The one place
    that computes due times. An unknown severity gets the longest time."""
    hours: Mapping[str, float] = sla_hours or settings.ALERTS_SLA_HOURS
    return raised_at + timedelta(hours=hours.get(severity, max(hours.values())))


def group_key(conversation_id: int, sent_at: datetime) -> str:
    """Alerts of one conversation within the same window share a key (reviewed together)."""
    window = int(settings.ALERTS_GROUP_WINDOW.total_seconds())
    return f"{conversation_id}:{int(sent_at.timestamp()) // window}"


def _alert_for(hit: PolicyHit, now: datetime, sla_hours: Mapping[str, float]) -> Alert:
    message = hit.message
    categories = sorted({str(f.get("category", "")) for f in hit.findings} - {""})
    return Alert(
        tenant_id=hit.tenant_id,
        hit=hit,
        message=message,
        employee_id=message.employee_id,
        conversation_id=message.conversation_id,
        policy_id=hit.policy_id,
        policy_version_id=hit.policy_version_id,
        severity=hit.severity,
        score=hit.score,
        risk=risk_of(hit.severity, hit.score),
        categories=categories,
        lookback=hit.lookback,
        group_key=group_key(message.conversation_id, message.whatsapp_timestamp),
        due_at=due_at(hit.severity, now, sla_hours),
    )


def _raise(hits: Sequence[PolicyHit]) -> int:
    now = timezone.now()
    # Every caller passes one tenant's hits; read its SLA once, not per hit.
    sla = {tenant_id: sla_hours_of(tenant_id) for tenant_id in {h.tenant_id for h in hits}}
    Alert.objects.bulk_create(
        [_alert_for(h, now, sla[h.tenant_id]) for h in hits], ignore_conflicts=True
    )
    # The one place alerts are raised is the one place they are announced: the receiver, the
    # sweeper and a retried task all end here (created_at >= now: only those raised just now).
    for tenant_id in sla:
        ids = [h.pk for h in hits if h.tenant_id == tenant_id]
        announce_raised(tenant_id=tenant_id, hit_ids=ids, since=now)
    return len(hits)


def raise_alerts(*, tenant: Tenant, message_ids: Sequence[int], version_ids: Sequence[int]) -> int:
    """Alerts for the hits among (message_ids x version_ids) that have none yet; returns how many
    hits were without one (those raised now, unless another worker raised them first)."""
    with tenant_scope(tenant):
        hits = list(
            PolicyHit.objects.filter(
                tenant=tenant, message_id__in=message_ids, policy_version_id__in=version_ids
            )
            .filter(~Exists(Alert.objects.filter(hit_id=OuterRef("pk"))))
            .select_related("message")
        )
        return _raise(hits) if hits else 0


def raise_missing_alerts(*, tenant: Tenant, limit: int = SWEEP_BATCH) -> int:
    """The sweeper's step for one tenant: hits that have no alert (a receiver that failed, a
    worker killed after the scan committed)."""
    with tenant_scope(tenant):
        hits = list(
            PolicyHit.objects.filter(tenant=tenant)
            .filter(~Exists(Alert.objects.filter(hit_id=OuterRef("pk"))))
            .select_related("message")
            .order_by("pk")[:limit]
        )
        return _raise(hits) if hits else 0


def alerts_after_hits(
    *, tenant: Tenant, message_ids: Sequence[int], version_ids: Sequence[int], **_: object
) -> None:
    """Receiver of policies.hooks.hits_raised."""
    raise_alerts(tenant=tenant, message_ids=message_ids, version_ids=version_ids)
