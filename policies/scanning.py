"""The scan pipeline's write side: archived messages through the firm's active policy versions,
the verdicts kept as PolicyHit rows (with their findings) and each message marked scanned.

Idempotent: a message already marked is not scanned again, and a hit is unique per message and
policy version, so a redelivered batch, a retried task and the sweeper never raise anything twice.
Messages whose subject's processing is restricted (an erasure refused, GDPR Art. 18) are marked
and not read.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Exists, F, OuterRef

from archive.models import Message
from archive.retention.selectors import restricted_q
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .detectors.findings import Finding
from .engine import Engine, PolicyRun
from .hooks import hits_raised
from .learning import cached_model, scoring_model
from .models import MessageScan, PolicyHit, PolicyVersion
from .scan_inputs import classifiers, engine_messages, phone_region, sampling_seed

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

SCAN_BATCH = 500  # messages per engine call: the classifiers' vectorizing is shared per batch


@lru_cache(maxsize=64)
def _engine(
    tenant_id: int, version_ids: tuple[int, ...], region: str, model_key: str = ""
) -> Engine:
    """Compiled once per worker, set of versions and firm model (lexicons take up to a second
    to compile). `model_key` is the sha256 of the firm's model in use ("" for the built-in
    one), loaded and checked by `scoring_model` just before."""
    versions = PolicyVersion.objects.filter(pk__in=version_ids).select_related("policy")
    runs = [
        PolicyRun(ref=str(v.pk), document=v.document, seed=sampling_seed(tenant_id, v.policy_id))
        for v in sorted(versions, key=lambda v: v.pk)
    ]
    model = cached_model(model_key) if model_key else None
    if model_key and model is None:
        # Evicted between scoring_model and here (other threads loading many firms' models):
        # fail this batch (the sweeper rescans it) rather than cache the wrong model under it.
        raise LookupError(f"firm model {model_key[:12]} left the cache before use")
    return Engine(runs, classify=classifiers(model), region=region)


def active_versions(tenant: Tenant) -> list[PolicyVersion]:
    """The latest version of each active policy of the tenant."""
    return list(
        PolicyVersion.objects.filter(
            tenant=tenant, policy__active=True, number=F("policy__version")
        ).order_by("policy_id")
    )


def scan_messages(
    *, tenant: Tenant, message_ids: Sequence[int], lookback: bool = False,
    versions: Sequence[PolicyVersion] | None = None,
) -> int:  # fmt: skip
    """Scan the given messages not yet scanned; returns how many hits were raised. With
    `versions` (a lookback), only those versions run, over messages whether scanned or not,
    skipping any message a version's policy already fired on."""
    raised = 0
    for start in range(0, len(message_ids), SCAN_BATCH):
        chunk = message_ids[start : start + SCAN_BATCH]
        with tenant_scope(tenant):
            raised += _scan_chunk(tenant, chunk, lookback=lookback, versions=versions)
    return raised


def _scan_chunk(
    tenant: Tenant, ids: Sequence[int], *, lookback: bool,
    versions: Sequence[PolicyVersion] | None,
) -> int:  # fmt: skip
    running = list(versions) if versions is not None else active_versions(tenant)
    messages = Message.objects.filter(tenant=tenant, pk__in=ids).select_related("conversation")
    if versions is None:
        messages = messages.exclude(
            pk__in=MessageScan.objects.filter(tenant=tenant, message_id__in=ids).values(
                "message_id"
            )
        )
    rows = list(messages.order_by("pk"))
    if not rows:
        return 0
    restricted = set(
        Message.objects.filter(tenant=tenant, pk__in=[m.pk for m in rows])
        .filter(restricted_q(tenant=tenant))
        .values_list("pk", flat=True)
    )
    readable = [m for m in rows if m.pk not in restricted and m.text]
    hits: list[PolicyHit] = []
    if readable and running:
        # The firm's own model when an admin promoted one (the learning loop), else built-in.
        model_key, _ = scoring_model(tenant)
        engine = _engine(
            tenant.pk, tuple(sorted(v.pk for v in running)), phone_region(tenant), model_key
        )
        outcomes = engine.scan(engine_messages(tenant, readable))
        by_ref = {str(v.pk): v for v in running}
        already = _already_fired(tenant, readable, running) if lookback else set()
        for message, outcome in zip(readable, outcomes, strict=True):
            for ref, verdict in outcome.verdicts.items():
                version = by_ref[ref]
                if not verdict.fired or (message.pk, version.policy_id) in already:
                    continue
                hits.append(_hit(tenant, message, version, verdict.findings, lookback=lookback))
    with transaction.atomic():
        PolicyHit.objects.bulk_create(hits, ignore_conflicts=True)
        if hits:
            message_ids = sorted({hit.message_id for hit in hits})
            version_ids = sorted({hit.policy_version_id for hit in hits})
            transaction.on_commit(lambda: _announce(tenant, message_ids, version_ids), robust=True)
        if versions is None:
            MessageScan.objects.bulk_create(
                [
                    MessageScan(
                        tenant=tenant,
                        message=m,
                        version_ids=[v.pk for v in running],
                        skipped=_skipped(m, restricted),
                    )
                    for m in rows
                ],
                ignore_conflicts=True,
            )
    return len(hits)


def _announce(tenant: Tenant, message_ids: list[int], version_ids: list[int]) -> None:
    # send_robust: a receiver that fails (alerts) is logged, never raised into the scan.
    for receiver, error in hits_raised.send_robust(
        sender=PolicyHit, tenant=tenant, message_ids=message_ids, version_ids=version_ids
    ):
        if isinstance(error, Exception):
            logger.error("policies: %r failed on raised hits", receiver, exc_info=error)


def _skipped(message: Message, restricted: set[int]) -> str:
    if message.pk in restricted:
        return "restricted"
    return "" if message.text else "no text"


def _already_fired(
    tenant: Tenant, messages: Sequence[Message], versions: Sequence[PolicyVersion]
) -> set[tuple[int, int]]:
    return set(
        PolicyHit.objects.filter(
            tenant=tenant,
            message_id__in=[m.pk for m in messages],
            policy_id__in=[v.policy_id for v in versions],
        ).values_list("message_id", "policy_id")
    )


def _hit(
    tenant: Tenant, message: Message, version: PolicyVersion, findings: Sequence[Finding],
    *, lookback: bool,
) -> PolicyHit:  # fmt: skip
    return PolicyHit(
        tenant=tenant, message=message, policy_id=version.policy_id, policy_version=version,
        severity=version.document["severity"],
        score=max((f.score for f in findings), default=0.0),
        findings=[f.as_dict() for f in findings],
        explanation="; ".join(dict.fromkeys(f.explanation for f in findings)),
        lookback=lookback,
    )  # fmt: skip


def unscanned_message_ids(*, tenant: Tenant, limit: int = SCAN_BATCH * 4) -> list[int]:
    """Messages of the tenant never scanned, oldest first: what the after-commit scan missed (a
    worker killed between archive and scan, a scan that failed)."""
    with tenant_scope(tenant):
        scanned = MessageScan.objects.filter(tenant=tenant, message_id=OuterRef("pk"))
        return list(
            Message.objects.filter(tenant=tenant)
            .filter(~Exists(scanned))
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )


def scan_unscanned(*, tenant: Tenant, limit: int = SCAN_BATCH * 4) -> int:
    """The sweeper's step for one tenant: scan what was never scanned. Returns the hits raised."""
    ids = unscanned_message_ids(tenant=tenant, limit=limit)
    return scan_messages(tenant=tenant, message_ids=ids) if ids else 0


def scan_after_deliveries(*, tenant: Tenant, delivery_ids: Sequence[int], **_: object) -> None:
    """Receiver of archive.hooks.deliveries_archived: scan what the batch archived."""
    with tenant_scope(tenant):
        # By the message_delivery index (archive 0013): a few index reads per delivery, not a
        # read of all the tenant's messages.
        ids = list(
            Message.objects.filter(tenant=tenant, delivery_id__in=delivery_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    if ids:
        scan_messages(tenant=tenant, message_ids=ids)
