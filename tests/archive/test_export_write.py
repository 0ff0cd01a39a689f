"""write_export: from the archive's rows to a signed bag that bagit validates and the bag's own
verify.py passes; each exported record proved against the signed checkpoint."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import bagit
import pytest

from archive.export import verify
from archive.exporting.build import NothingToExport, UnknownFormat, write_export
from archive.models import Message
from compliance_hub.tenancy.context import tenant_scope
from tests.archive.export_db import archive_for_export, request

pytestmark = pytest.mark.usefixtures("anchor_dir")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def export(tenant, formats=("rsmf", "eml", "csv", "jsonl", "html"), queryset=None, **changes):
    out = io.BytesIO()
    with tenant_scope(tenant):
        rows = queryset if queryset is not None else Message.objects.filter(tenant=tenant)
    calls = []
    result = write_export(
        tenant=tenant,
        request=request(formats, **changes),
        messages=rows,
        out=out,
        progress=lambda done, total: calls.append((done, total)),
    )
    return result, out.getvalue(), calls


def zip_files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}


def test_an_export_of_the_archive_passes_bagit_and_its_own_verify_script(tenant_a, tmp_path):
    archive_for_export(tenant_a)
    result, data, calls = export(tenant_a)

    assert result.counts.messages == 6 and result.counts.conversations == 2
    assert result.counts.events == 4  # edit, reaction, its removal, deletion (no status)
    assert result.counts.attachments == 1
    assert result.size == len(data)
    assert calls[-1] == (6, 6)
    files = zip_files(data)
    assert {"log/checkpoint.json", "log/proofs.jsonl", "log/public-key.pem",
            "tagmanifest-sha256.txt.sig"} <= set(files)  # fmt: skip
    proofs = [json.loads(line) for line in files["log/proofs.jsonl"].splitlines()]
    tables = sorted(p["table"] for p in proofs)
    assert tables.count("archive.message") == 6
    assert tables.count("archive.messageevent") == 4
    assert tables.count("archive.attachmentfile") == 1
    checkpoint = json.loads(files["log/checkpoint.json"])
    assert checkpoint["size"] == result.tree_size

    target = tmp_path / "export.zip"
    target.write_bytes(data)
    with zipfile.ZipFile(target) as archive:
        archive.extractall(tmp_path / "unzipped")
    [folder] = (tmp_path / "unzipped").iterdir()
    bagit.Bag(str(folder)).validate()
    for path in (target, folder):
        done = subprocess.run(
            [sys.executable, "-I", str(folder / "verify.py"), str(path)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith("OK"), done.stdout
    assert verify.check(target)[0] == []


def test_nothing_to_export_and_unknown_formats_are_refused(tenant_a):
    with pytest.raises(NothingToExport):
        export(tenant_a)
    archive_for_export(tenant_a)
    with pytest.raises(UnknownFormat, match="pdf"):
        export(tenant_a, formats=("csv", "pdf"))
