"""The S3 Object Lock anchor against moto's S3 in server mode (a real HTTP endpoint on 127.0.0.1,
with versions and Object Lock as S3 has them): each checkpoint becomes one object, written
create-only with COMPLIANCE retention; the newest is found without listing everything;
verify_archive reads back the locked original by version, and reports whatever was written
over it (a version, a delete marker) or a bucket that refuses to list versions; a bucket that
is down leaves the checkpoint un-anchored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from archive.ledger.anchors import AnchorConflict, S3ObjectLockAnchor, configured_anchors
from archive.ledger.models import LogHead
from archive.ledger.report import ProblemKind
from archive.ledger.services import anchor_checkpoints, checkpoint_and_anchor, checkpoint_log
from archive.ledger.verification import verify_log
from compliance_hub.tenancy.context import tenant_scope
from tests.archive.ledger_helpers import archive_sample, employee_of

BUCKET = "archive-anchors"


class Bucket:
    """moto's S3 server in a thread of this process, with a bucket created with Object Lock
    enabled, as the anchor needs it. ``down()`` stops the server (connections are refused) and
    ``up()`` starts it again on the same port with the same contents.

    moto rather than our own fake (docs/dependencies.md): it keeps object versions as S3 does,
    so Object Lock protects versions, not keys, and it refuses lock headers on a bucket created
    without Object Lock; it does not check Content-MD5, which the anchor sends all the same."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer  # imported here: only these tests need it

        self._server_class = ThreadedMotoServer
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.port = port
        self.url = f"http://{host}:{port}"
        self.bucket = BUCKET

    def client(self):
        return boto3.client("s3", endpoint_url=self.url)

    def reset(self) -> None:
        """An empty bucket: moto's reset forgets every bucket, locked objects included."""
        httpx.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()
        self.client().create_bucket(Bucket=self.bucket, ObjectLockEnabledForBucket=True)

    def objects(self) -> dict[str, bytes]:
        """The current version of every object, by key."""
        client = self.client()
        listed = client.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return {
            entry["Key"]: client.get_object(Bucket=self.bucket, Key=entry["Key"])["Body"].read()
            for entry in listed
        }

    def enforce_permissions(self, on: bool) -> None:
        """moto checks each request against IAM from now on (``on``), or never again."""
        count = b"0" if on else b"inf"
        httpx.post(f"{self.url}/moto-api/reset-auth", content=count, timeout=10).raise_for_status()

    def down(self) -> None:
        self._server.stop()

    def up(self) -> None:
        self._server = self._server_class(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture(scope="module")
def s3():
    # boto3's credential chain, as in production (here: dummy keys moto does not check).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "test-key")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        bucket = Bucket()
        yield bucket
        bucket.stop()


@pytest.fixture(autouse=True)
def s3_settings(settings, tmp_path, s3):
    s3.reset()
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

    [(key, body)] = s3.objects().items()
    document = json.loads(body)
    assert key.startswith(f"checkpoints/{tenant_a.pk}/") and key.endswith(
        f"-{checkpoint.size}.json"
    )
    assert document["size"] == checkpoint.size and document["tenant_id"] == tenant_a.pk
    stored = s3.client().head_object(Bucket=s3.bucket, Key=key)
    assert stored["ObjectLockMode"] == "COMPLIANCE"
    until = stored["ObjectLockRetainUntilDate"]
    assert timedelta(days=2556) < until - datetime.now(UTC) <= timedelta(days=2557)
    # Create-only (If-None-Match: *): the next test shows a second write being refused.
    # The same checkpoint in the folder anchor: both copies agree.
    folder, bucket = configured_anchors()
    assert folder.latest(tenant_id=tenant_a.pk).document == document
    # Read back by version: the locked original, with nothing written over it.
    copy = bucket.latest(tenant_id=tenant_a.pk)
    assert copy.document == document and copy.locked and copy.later_writes == ()
    assert copy.where.startswith(f"s3://{s3.bucket}/{key}?versionId=")


def test_a_locked_object_can_be_neither_replaced_nor_deleted(tenant_a, s3, s3_settings):
    archive_sample(tenant_a, employee_of(tenant_a), count=1)
    checkpoint_and_anchor(tenant=tenant_a)
    [(key, body)] = s3.objects().items()
    anchor = S3ObjectLockAnchor(bucket=s3.bucket, prefix="checkpoints/", retention_days=1,
                                endpoint_url=s3.url)  # fmt: skip
    document = json.loads(body)
    # The same document again is accepted (a repeated anchoring step)...
    assert anchor.put(document) == f"s3://{s3.bucket}/{key}"
    # ...a different one for the same checkpoint is a conflict, never an overwrite.
    with pytest.raises(AnchorConflict):
        anchor.put({**document, "root": "00" * 32})
    assert json.loads(s3.objects()[key]) == document
    # Object Lock guards versions: the locked version itself cannot be deleted. (A delete
    # without a version id only puts a delete marker in front of it, as S3 does.)
    raw = s3.client()
    [version] = raw.list_object_versions(Bucket=s3.bucket, Prefix=key)["Versions"]
    with pytest.raises(ClientError, match="AccessDenied"):
        raw.delete_object(Bucket=s3.bucket, Key=key, VersionId=version["VersionId"])


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
    newest = anchor.latest(tenant_id=tenant_a.pk).document
    assert (newest["time"], newest["size"]) == ("2026-11-02T08:00:00.000000Z", 9)
    copy = anchor.get(tenant_id=tenant_a.pk, time="2026-01-31T23:59:59.000000Z", size=5)
    assert copy.document["size"] == 5
    assert anchor.get(tenant_id=tenant_a.pk, time="2026-01-31T23:59:59.000000Z", size=6) is None


def _anchored(tenant, s3) -> tuple[str, dict]:
    archive_sample(tenant, employee_of(tenant), count=2)
    checkpoint_and_anchor(tenant=tenant)
    [(key, body)] = s3.objects().items()
    return key, json.loads(body)


def _copy_of(tenant, document):
    anchor = configured_anchors()[1]
    return anchor.get(tenant_id=tenant.pk, time=document["time"], size=document["size"])


def test_verify_archive_reads_the_bucket_and_passes_an_untouched_copy(tenant_a, s3):
    _anchored(tenant_a, s3)
    out = StringIO()
    call_command("verify_archive", tenant_a.slug, stdout=out)
    assert "NOT OK" not in out.getvalue() and "OK" in out.getvalue()
    assert verify_log(tenant=tenant_a).problems == []


def test_a_version_written_over_the_locked_copy_is_reported_and_the_original_checked(tenant_a, s3):
    key, document = _anchored(tenant_a, s3)
    # Someone with the bucket's keys wrote a new version over the copy: Object Lock keeps the
    # old version, but a plain GET of the key now answers with the new one.
    forged = {**document, "root": "00" * 32}
    s3.client().put_object(Bucket=s3.bucket, Key=key, Body=json.dumps(forged).encode())
    assert json.loads(s3.objects()[key]) == forged

    copy = _copy_of(tenant_a, document)
    assert copy.document == document and copy.locked
    [later] = copy.later_writes
    assert not later.delete_marker

    # The original agrees with the database (no "differs from its copy"), and the overwrite
    # itself is the one problem: it fails verification.
    [problem] = verify_log(tenant=tenant_a).problems
    assert problem.kind == ProblemKind.ANCHOR_TAMPERED
    assert problem.why.startswith(
        f"the anchor of the checkpoint of size {document['size']} signed {document['time']} "
        f"in bucket {s3.bucket} was overwritten after it was written (a later version exists, "
        f"written at {later.written_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC)"
    )
    assert problem.why.endswith("; the original was read and checked")
    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("verify_archive", tenant_a.slug, stdout=out)
    assert failed.value.returncode == 1
    assert "anchor-tampered" in out.getvalue() and "differs from its copy" not in out.getvalue()


def test_a_delete_marker_over_the_locked_copy_is_reported_and_the_original_checked(tenant_a, s3):
    key, document = _anchored(tenant_a, s3)
    raw = s3.client()
    raw.delete_object(Bucket=s3.bucket, Key=key)  # no version id: a delete marker on top
    assert s3.objects() == {}  # a plain listing no longer shows the checkpoint

    # Still found by the walk to the newest checkpoint, and read from the original version.
    copy = configured_anchors()[1].latest(tenant_id=tenant_a.pk)
    assert copy.document == document
    [later] = copy.later_writes
    assert later.delete_marker

    [problem] = verify_log(tenant=tenant_a).problems
    assert problem.kind == ProblemKind.ANCHOR_TAMPERED
    assert f"in bucket {s3.bucket} was deleted after it was written (a delete marker" in problem.why
    assert problem.why.endswith("; the original was read and checked")

    # A forged version put over the marker as well: both are reported in one problem, and the
    # original is still what gets compared.
    raw.put_object(Bucket=s3.bucket, Key=key, Body=json.dumps({**document, "size": 1}).encode())
    [problem] = verify_log(tenant=tenant_a, all_anchors=True).problems
    assert "was overwritten after it was written (a later version exists" in problem.why
    assert "and deleted after it was written" in problem.why


def test_a_copy_without_object_lock_is_reported_as_not_written_by_the_anchoring_step(tenant_a, s3):
    key, document = _anchored(tenant_a, s3)
    # A "newer checkpoint" put straight into the bucket, without retention: the walk finds it
    # as the newest, and it carries no lock, so the anchoring step never wrote it.
    planted = {**document, "time": "2099-01-01T00:00:00.000000Z"}
    planted_key = (
        key.rsplit("/", 4)[0] + f"/2099/01/01/20990101T000000000000Z-{document['size']}.json"
    )
    s3.client().put_object(Bucket=s3.bucket, Key=planted_key, Body=json.dumps(planted).encode())
    copy = configured_anchors()[1].latest(tenant_id=tenant_a.pk)
    assert copy.document == planted and not copy.locked

    problems = verify_log(tenant=tenant_a).problems
    tampered = [p.why for p in problems if p.kind == ProblemKind.ANCHOR_TAMPERED]
    assert tampered == [
        f"the anchor of the checkpoint of size {document['size']} signed {planted['time']} in "
        f"bucket {s3.bucket} is not under Object Lock retention: no version of it was written "
        "by the anchoring step, which always locks what it writes"
    ]


def test_a_bucket_that_refuses_to_list_versions_is_a_clear_problem(tenant_a, s3, monkeypatch):
    _anchored(tenant_a, s3)
    # A role without s3:ListBucketVersions (everything else allowed), enforced by moto's IAM.
    iam = boto3.client("iam", endpoint_url=s3.url)
    iam.create_user(UserName="verifier")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:ListBucketVersions", "Resource": "*"},
        ],
    }
    iam.put_user_policy(
        UserName="verifier", PolicyName="anchors", PolicyDocument=json.dumps(policy)
    )
    keys = iam.create_access_key(UserName="verifier")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["SecretAccessKey"])
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a new session reads the new keys
    s3.enforce_permissions(True)
    try:
        report = verify_log(tenant=tenant_a, all_anchors=True)
        out = StringIO()
        with pytest.raises(CommandError) as failed:
            call_command("verify_archive", tenant_a.slug, stdout=out)
    finally:
        s3.enforce_permissions(False)

    [problem] = report.problems  # once, though every checkpoint's copy was asked for
    assert problem.kind == ProblemKind.ANCHOR_UNREADABLE
    assert problem.why.startswith(
        f"the s3 anchor could not be read, so its copies were not checked: bucket {s3.bucket} "
        "refused to list the versions of"
    )
    assert "s3:ListBucketVersions" in problem.why
    assert failed.value.returncode == 1
    assert "anchor-unreadable" in out.getvalue() and "Traceback" not in out.getvalue()


def test_while_the_bucket_is_down_the_checkpoint_waits_unanchored(tenant_a, s3, s3_settings):
    archive_sample(tenant_a, employee_of(tenant_a), count=1)
    checkpoint_log(tenant=tenant_a)
    s3.down()
    try:
        with pytest.raises(EndpointConnectionError):
            anchor_checkpoints(tenant=tenant_a)
    finally:
        s3.up()
    with tenant_scope(tenant_a):
        assert LogHead.objects.get().anchored_checkpoint_id is None
    assert anchor_checkpoints(tenant=tenant_a) == 1
    assert len(s3.objects()) == 1


def test_a_bucket_must_be_named(s3_settings):
    s3_settings.LEDGER_S3_BUCKET = ""
    with pytest.raises(ImproperlyConfigured, match="LEDGER_S3_BUCKET"):
        configured_anchors()
