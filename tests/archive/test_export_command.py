"""``manage.py export``: writes a signed bag that its own verify.py passes, audited by
``cli:export`` with the tag manifest's hash; clear errors (and no file) for a bad query, a
reversed date range, an unknown format, nothing to export and an unknown tenant."""

from __future__ import annotations

import hashlib
import zipfile
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from archive.export import verify
from archive.models import AttachmentFile
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from tests.archive.export_db import archive_for_export

pytestmark = pytest.mark.usefixtures("anchor_dir")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def archived(tenant_a):
    archive_for_export(tenant_a)
    return tenant_a


def run(*args: str) -> str:
    out = StringIO()
    call_command("export", *args, stdout=out)
    return out.getvalue()


def fails(*args: str) -> CommandError:
    with pytest.raises(CommandError) as failure:
        run(*args)
    return failure.value


def test_the_command_writes_a_bag_that_verifies_and_audits_it(archived, tmp_path):
    target = tmp_path / "firm-a.zip"
    printed = run(
        "firm-a", "--format", "rsmf,csv,jsonl", "--since", "2026-03-01", "--until", "2026-03-31",
        "--matter", "SEC inquiry", "--out", str(target),
    )  # fmt: skip

    assert "6 messages in 2 conversations" in printed
    assert verify.check(target)[0] == []
    with zipfile.ZipFile(target) as archive:
        [manifest] = [n for n in archive.namelist() if n.endswith("/tagmanifest-sha256.txt")]
        digest = hashlib.sha256(archive.read(manifest)).hexdigest()
        info = archive.read(manifest.replace("tagmanifest-sha256.txt", "bag-info.txt")).decode()
    assert "Matter: SEC inquiry" in info
    assert "Date-Range: 2026-03-01 to 2026-03-31" in info
    with tenant_scope(archived):
        [event] = AuditEvent.objects.filter(action="archive.export_written")
    assert event.actor_label == "cli:export"
    assert event.details["tag_manifest_sha256"] == digest
    assert event.details["messages"] == 6
    assert digest in printed


def test_a_search_narrows_the_export(archived, tmp_path):
    target = tmp_path / "one.zip"
    printed = run("firm-a", "--q", "contract", "--format", "jsonl", "--out", str(target))
    assert "1 messages in 1 conversations" in printed
    assert verify.check(target)[0] == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--q", "petr4 AND ("), "The search cannot be run: the parenthesis"),
        (("--since", "2026-03-31", "--until", "2026-03-01"), "comes before its start"),
        (("--since", "31/03/2026"), "is not a date"),
        (("--format", "csv,pdf"), "Unknown export format: pdf"),
        (("--since", "2030-01-01"), "Nothing to export"),
    ],
)
def test_bad_requests_get_clear_errors_and_no_file(archived, tmp_path, args, words):
    target = tmp_path / "x.zip"
    arguments = ["firm-a", "--out", str(target), *args]
    if "--format" not in args:
        arguments += ["--format", "csv"]
    error = fails(*arguments)
    assert words.lower() in str(error).lower()
    assert error.returncode == 1
    assert list(tmp_path.glob("*.zip*")) == [] and list(tmp_path.glob(".x.zip*")) == []
    with tenant_scope(archived):
        assert not AuditEvent.objects.filter(action="archive.export_written").exists()


def test_an_unknown_tenant_exits_2(db, tmp_path):
    error = fails("no-such-firm", "--format", "csv", "--out", str(tmp_path / "x.zip"))
    assert error.returncode == 2
    assert "no tenant" in str(error)


def test_a_stored_file_changed_behind_the_archives_back_stops_the_export(archived, tmp_path):
    with tenant_scope(archived):
        stored = AttachmentFile.objects.get()
    with default_storage.open(stored.storage_name, "wb") as handle:
        handle.write(b"%PDF-1.4 a different contract note")
    target = tmp_path / "x.zip"

    error = fails("firm-a", "--format", "jsonl,media", "--out", str(target))

    assert "the stored bytes do not match the archive" in str(error)
    assert not target.exists()
