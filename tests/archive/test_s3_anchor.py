"""The S3 Object Lock anchor against a local fake S3: each checkpoint becomes one object,
written create-only with COMPLIANCE retention; the newest is found without listing everything;
verify_archive reads it back; a bucket that is down leaves the checkpoint un-anchored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import boto3
import pytest
from botocore.exceptions import ClientError
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from archive.ledger.anchors import AnchorConflict, S3ObjectLockAnchor, configured_anchors
from archive.ledger.models import LogHead
from archive.ledger.services import anchor_checkpoints, checkpoint_and_anchor, checkpoint_log
from compliance_hub.tenancy.context import tenant_scope
from tests.archive.fake_s3 import FakeS3
from tests.archive.ledger_helpers import archive_sample, employee_of


@pytest.fixture(scope="module")
def s3():
    fake = FakeS3().start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def s3_settings(settings, tmp_path, s3, monkeypatch):
    s3.objects.clear()
    s3.down = False
    # boto3's credential chain, as in production (here: dummy keys the fake does not check).
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    settings.LEDGER_ANCHORS = ["folder", "s3"]
    settings.LEDGER_ANCHOR_DIR = tmp_path / "anchors"
    settings.LEDGER_S3_BUCKET = s3.bucket
    settings.LEDGER_S3_PREFIX = "checkpoints/"
    settings.LEDGER_S3_RETENTION_DAYS = 2557
    settings.LEDGER_S3_ENDPOINT_URL = s3.url
    settings.LEDGER_TSA_URL = ""
    return settings


def test_each_checkpoint_is_one_locked_object_written_create_only(tenant_a, s3):
    archive_sample(tenant_a, employee_of(tenant_a), count=2)
    checkpoint = checkpoint_and_anchor(tenant=tenant_a)

    [(key, stored)] = s3.objects.items()
    document = json.loads(stored.body)
    assert key.startswith(f"checkpoints/{tenant_a.pk}/") and key.endswith(
        f"-{checkpoint.size}.json"
    )
    assert document["size"] == checkpoint.size and document["tenant_id"] == tenant_a.pk
    assert stored.headers["x-amz-object-lock-mode"] == "COMPLIANCE"
    until = stored.retain_until
    assert until is not None
    assert timedelta(days=2556) < until - datetime.now(UTC) <= timedelta(days=2557)
    assert stored.headers["if-none-match"] == "*"
    # The same checkpoint in the folder anchor: both copies agree.
    folder, bucket = configured_anchors()
    assert folder.latest(tenant_id=tenant_a.pk) == bucket.latest(tenant_id=tenant_a.pk) == document


def test_a_locked_object_can_be_neither_replaced_nor_deleted(tenant_a, s3, s3_settings):
    archive_sample(tenant_a, employee_of(tenant_a), count=1)
    checkpoint_and_anchor(tenant=tenant_a)
    [key] = s3.objects
    anchor = S3ObjectLockAnchor(bucket=s3.bucket, prefix="checkpoints/", retention_days=1,
                                endpoint_url=s3.url)  # fmt: skip
    document = json.loads(s3.objects[key].body)
    # The same document again is accepted (a repeated anchoring step)...
    assert anchor.put(document) == f"s3://{s3.bucket}/{key}"
    # ...a different one for the same checkpoint is a conflict, never an overwrite.
    with pytest.raises(AnchorConflict):
        anchor.put({**document, "root": "00" * 32})
    assert json.loads(s3.objects[key].body) == document
    raw = boto3.client("s3", endpoint_url=s3.url)
    with pytest.raises(ClientError, match="AccessDenied"):
        raw.delete_object(Bucket=s3.bucket, Key=key)


def test_the_newest_checkpoint_is_found_by_walking_the_dates(tenant_a, tenant_b, s3):
    anchor = S3ObjectLockAnchor(bucket=s3.bucket, prefix="checkpoints/", retention_days=1,
                                endpoint_url=s3.url)  # fmt: skip
    assert anchor.latest(tenant_id=tenant_a.pk) is None
    base = {"format": "compliance-hub-checkpoint/1", "tenant_id": tenant_a.pk}
    for time, size in [
        ("2026-01-31T23:59:59.000000Z", 5),
        ("2026-11-02T08:00:00.000000Z", 9),
        ("2026-11-02T07:00:00.000000Z", 8),
        ("2025-12-31T23:00:00.000000Z", 4),
    ]:
        anchor.put({**base, "time": time, "size": size})
    anchor.put({**base, "tenant_id": tenant_b.pk, "time": "2027-01-01T00:00:00.000000Z", "size": 1})
    newest = anchor.latest(tenant_id=tenant_a.pk)
    assert (newest["time"], newest["size"]) == ("2026-11-02T08:00:00.000000Z", 9)
    assert (
        anchor.get(tenant_id=tenant_a.pk, time="2026-01-31T23:59:59.000000Z", size=5)["size"] == 5
    )
    assert anchor.get(tenant_id=tenant_a.pk, time="2026-01-31T23:59:59.000000Z", size=6) is None


def test_verify_archive_reads_the_bucket_and_catches_a_rewritten_copy(tenant_a, s3):
    archive_sample(tenant_a, employee_of(tenant_a), count=2)
    checkpoint_and_anchor(tenant=tenant_a)
    out = StringIO()
    call_command("verify_archive", tenant_a.slug, stdout=out)
    assert "NOT OK" not in out.getvalue() and "OK" in out.getvalue()

    # Someone with the bucket's keys (and a retention that had run out) rewrote the copy.
    [key] = s3.objects
    document = json.loads(s3.objects[key].body)
    document["root"] = "00" * 32
    s3.objects[key].body = json.dumps(document).encode()
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_archive", tenant_a.slug, stdout=out)
    assert "s3 anchor" in out.getvalue()


def test_while_the_bucket_is_down_the_checkpoint_waits_unanchored(tenant_a, s3, s3_settings):
    archive_sample(tenant_a, employee_of(tenant_a), count=1)
    checkpoint_log(tenant=tenant_a)
    s3.down = True
    with pytest.raises(ClientError):
        anchor_checkpoints(tenant=tenant_a)
    with tenant_scope(tenant_a):
        assert LogHead.objects.get().anchored_checkpoint_id is None
    s3.down = False
    assert anchor_checkpoints(tenant=tenant_a) == 1
    assert len(s3.objects) == 1


def test_a_bucket_must_be_named(s3_settings):
    s3_settings.LEDGER_S3_BUCKET = ""
    with pytest.raises(ImproperlyConfigured, match="LEDGER_S3_BUCKET"):
        configured_anchors()
