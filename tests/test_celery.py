"""Celery with a real worker process: tenant-aware tasks see their tenant and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from compliance_hub.audit.services import record_event
from compliance_hub.tasks import HEARTBEAT_KEY, heartbeat_task
from compliance_hub.tenancy.services import create_tenant, set_tenant_status
from tests.celery_probe import probe_tenant_scope_task

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    env = {
        **os.environ,
        "DJANGO_ENV": "test",
        "DATABASE_NAME": connection.settings_dict["NAME"],
        "DB_SET_ROLE": settings.DB_APP_ROLE,
    }
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "compliance_hub",
                "worker",
                "-P",
                "solo",
                "-Q",
                "default",
                "-I",
                "tests.celery_probe",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "info",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    if process.returncode not in (0, -15):
        print(log.read_text())


def _wait_for(key: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cache.get(key)
        if value is not None:
            return value
        time.sleep(0.2)
    raise AssertionError(f"the worker did not answer {key} within {timeout}s")


@pytest.mark.django_db(transaction=True)
def test_a_tenant_task_sees_only_its_tenant_in_a_real_worker(worker):
    firm_a = create_tenant(slug="firm-a", name="Firm A")
    firm_b = create_tenant(slug="firm-b", name="Firm B")
    record_event("test.row", tenant=firm_a)
    record_event("test.row", tenant=firm_b)
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
    firm = create_tenant(slug="firm-s", name="Suspended Firm")
    set_tenant_status(tenant=firm, status="suspended")
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
