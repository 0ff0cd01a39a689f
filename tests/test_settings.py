"""Production settings pass Django's deployment checks with no warnings."""

from __future__ import annotations

from tests.manage_py import run_manage

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
