"""Celery with a real worker process: tenant-aware tasks see their tenant and nothing else."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.core.cache import cache

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tasks import HEARTBEAT_KEY, heartbeat_task
from compliance_hub.tenancy.services import create_tenant, set_tenant_status
from tests.celery_probe import probe_tenant_scope_task
from tests.polling import wait_until


def _wait_for(key: str):
    return wait_until(lambda: cache.get(key), failure=f"the worker did not answer {key} in time")


@pytest.mark.django_db(transaction=True)
def test_a_tenant_task_sees_only_its_tenant_in_a_real_worker(worker):
    firm_a = create_tenant(slug="firm-a", name="Firm A", actor=Actor.system())
    firm_b = create_tenant(slug="firm-b", name="Firm B", actor=Actor.system())
    record_event("test.row", tenant=firm_a, actor=Actor.system())
    record_event("test.row", tenant=firm_b, actor=Actor.system())
    tokens = {firm_a.pk: uuid.uuid4().hex, firm_b.pk: uuid.uuid4().hex}
    for tenant_id, token in tokens.items():
        probe_tenant_scope_task.delay(tenant_id=tenant_id, token=token)
    for tenant_id, token in tokens.items():
        seen = _wait_for(f"probe:{token}")
        assert seen["role"] == settings.DB_APP_ROLE
        assert seen["raw_tenants"] == [tenant_id]
        assert seen["orm_tenants"] == [tenant_id]


@pytest.mark.django_db(transaction=True)
def test_a_suspended_tenants_task_does_nothing(worker):
    firm = create_tenant(slug="firm-s", name="Suspended Firm", actor=Actor.system())
    set_tenant_status(tenant=firm, status="suspended", actor=Actor.system())
    token = uuid.uuid4().hex
    cache.delete(HEARTBEAT_KEY)
    probe_tenant_scope_task.delay(tenant_id=firm.pk, token=token)
    heartbeat_task.delay()  # queued behind the probe: once it ran, the probe has been handled
    _wait_for(HEARTBEAT_KEY)
    assert cache.get(f"probe:{token}") is None


def test_tasks_are_acknowledged_late_and_requeued_on_worker_loss():
    from compliance_hub.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert "worker-heartbeat" in app.conf.beat_schedule


def test_a_real_worker_registers_the_task_modules_that_apps_load_in_ready(worker):
    """Task modules beyond an app's tasks.py (the media fetches, the Merkle log's checkpoints)
    are imported by their app's ready(): the worker must know them, or their messages are
    dropped as unregistered."""
    from compliance_hub.celery import app

    replies = wait_until(
        lambda: app.control.inspect(timeout=2.0).registered(), failure="the worker did not answer"
    )
    registered = {name.split()[0] for names in replies.values() for name in names}
    assert {
        "ingestion.fetch_media",
        "ingestion.requeue_missing_media",
        "archive.checkpoint_log",
        "archive.checkpoint_all_logs",
        "ingestion.sweep_deliveries",
    } <= registered
