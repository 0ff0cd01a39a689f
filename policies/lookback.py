"""Lookbacks: a saved policy version run by a worker over a date range of earlier messages,
raising real hits marked lookback (policies are not retroactive by themselves: a firm chooses to
look back). Never twice for one message and policy: scan_messages skips a message the policy
already fired on, so a second lookback over the same range raises nothing new.
"""

from __future__ import annotations

import logging
from datetime import date

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .models import Policy, PolicyVersion, ScanJob
from .runs import FAILED_MESSAGE, ScanJobRefused, advance, batches, claim, create_job, finish
from .runs import window as checked_window
from .scanning import scan_messages

logger = logging.getLogger(__name__)


def request_lookback(
    *, tenant: Tenant, actor: Actor, policy: Policy, date_from: date | None,
    date_to: date | None, time_zone: str = "UTC", version: PolicyVersion | None = None,
) -> ScanJob:  # fmt: skip
    """Queue a lookback of `version` (the policy's latest when None) over the range. Raises
    ScanJobRefused: a version of another policy, a bad range, too many messages, a lookback of
    the policy already running. Audited as `policy.lookback_requested` (who, the range)."""
    span = checked_window(date_from=date_from, date_to=date_to, time_zone=time_zone)
    with tenant_scope(tenant):
        if version is None:
            version = policy.versions.filter(number=policy.version).first()
        if version is None or version.policy_id != policy.pk:
            raise ScanJobRefused("That version is not one of this policy's.", field="version")
    return create_job(
        tenant=tenant, actor=actor, kind=ScanJob.Kind.LOOKBACK, policy=policy, span=span,
        version=version,
    )  # fmt: skip


def run_lookback(*, tenant: Tenant, actor: Actor, job_id: int) -> ScanJob | None:
    """The worker's part: the version over the range, batch by batch, raising hits marked
    lookback; stops at the next batch when cancelled. Audits `policy.lookback_finished` with the
    hits raised. None when there is nothing to do (gone, cancelled, finished)."""
    job = claim(tenant=tenant, job_id=job_id)
    if job is None:
        return None
    version = job.version
    assert version is not None  # a lookback always runs a saved version
    results = {"scanned": 0, "hits": 0}
    status = ScanJob.Status.DONE
    error = ""
    try:
        for ids in batches(job):
            results["hits"] += scan_messages(
                tenant=tenant, message_ids=ids, lookback=True, versions=[version]
            )
            results["scanned"] += len(ids)
            if not advance(job, done=results["scanned"], results=dict(results)):
                break
    except Exception:
        logger.exception("lookback %s of tenant %s failed", job.pk, tenant.slug)
        status, error = ScanJob.Status.FAILED, FAILED_MESSAGE
    job = finish(job, status=status, results=dict(results), error=error)
    with tenant_scope(tenant):
        record_event(
            "policy.lookback_finished", tenant=tenant, actor=actor, target=job.policy,
            details={"job": job.pk, "status": job.status, "version": version.number,
                     "scanned": results["scanned"], "hits": results["hits"]},
        )  # fmt: skip
    return job
