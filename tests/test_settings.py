"""The settings: production passes Django's deployment checks with no warnings, and parallel
test workers (pytest-xdist) keep their Redis apart."""

from __future__ import annotations

import runpy

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from consent import gate
from tests.manage_py import ROOT, run_manage

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": "p" * 20 + "-a-long-random-production-secret-" + "q" * 20,
    "DJANGO_ALLOWED_HOSTS": "compliance.example.com",
    "DATABASE_URL": "postgres://ch_app:x@db.internal:5432/compliance_hub",
    "DATABASE_OWNER_URL": "postgres://ch_owner:y@db.internal:5432/compliance_hub",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "FIELD_ENCRYPTION_KEYS": "x" * 43 + "=",
    "LEDGER_ANCHOR_DIR": "/mnt/worm/compliance-hub-anchors",
}


def test_check_deploy_is_clean_for_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_its_secrets():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set in production" in result.stderr


def test_production_needs_an_explicit_place_for_its_anchors():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "LEDGER_ANCHOR_DIR"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "LEDGER_ANCHOR_DIR must be set in production" in result.stderr
    # An S3 Object Lock bucket instead of a folder needs no folder.
    result = run_manage(
        "check", env={**env, "LEDGER_ANCHORS": "s3", "LEDGER_S3_BUCKET": "anchors-bucket"}
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _test_settings_of(worker: str, monkeypatch) -> dict:
    """compliance_hub/settings.py as a test worker process named ``worker`` reads it."""
    monkeypatch.setenv("DJANGO_ENV", "test")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6390/0")
    monkeypatch.delenv("REDIS_CACHE_URL", raising=False)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
    return runpy.run_path(str(ROOT / "compliance_hub" / "settings.py"))


def test_each_parallel_test_worker_has_redis_databases_and_a_channel_of_its_own(monkeypatch):
    """pytest-xdist's workers share one Redis: a worker's cache.clear(), its Celery queues and
    the gate's invalidations must never reach another's."""

    def seen_by(worker: str) -> tuple[str, str, str]:
        values = _test_settings_of(worker, monkeypatch)
        return (
            values["REDIS_URL"],
            values["CACHES"]["default"]["LOCATION"],
            values["REDIS_CHANNEL_PREFIX"],
        )

    assert seen_by("") == ("redis://127.0.0.1:6390/0", "redis://127.0.0.1:6390/1", "")
    assert seen_by("gw0") == ("redis://127.0.0.1:6390/2", "redis://127.0.0.1:6390/3", "test-gw0:")
    assert seen_by("gw1") == ("redis://127.0.0.1:6390/4", "redis://127.0.0.1:6390/5", "test-gw1:")
    with pytest.raises(ImproperlyConfigured, match="at most 7 test workers"):
        seen_by("gw7")
    # The gate's channel carries this process's prefix.
    assert f"{settings.REDIS_CHANNEL_PREFIX}consent-gate:invalidate" == gate.CHANNEL
