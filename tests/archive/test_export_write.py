"""write_export: from the archive's rows to a signed bag that bagit validates and the bag's own
verify.py passes; each exported record proved against the signed checkpoint."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime

import bagit
import pytest

from archive.export import verify
from archive.exporting.build import NothingToExport, UnknownFormat, write_export
from archive.ledger.services import inclusion_proof
from archive.models import Message
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from tests.archive.export_db import PDF, archive_for_export, request

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


def jsonl_rows(files: dict[str, bytes]) -> list[dict]:
    return [json.loads(line) for line in files["data/messages.jsonl"].splitlines()]


def test_the_rows_carry_every_version_reaction_deletion_quote_and_file(tenant_a):
    archive_for_export(tenant_a)
    _, data, _ = export(tenant_a, formats=("jsonl", "media"))
    rows = jsonl_rows(zip_files(data))
    by_kind: dict[str, list[dict]] = {}
    for row in rows:
        by_kind.setdefault(row["record_type"], []).append(row)
    [edit] = by_kind["edit"]
    assert (edit["previous_text"], edit["text"]) == (
        "Mensagem 0: ações da Petrobras a R$ 37,50",
        "fixed",
    )
    assert [r["text"] for r in by_kind["reaction"]] == ["👍", ""]
    [deletion] = by_kind["deletion"]
    assert deletion["actor_role"] == "counterparty"
    messages = {r["message_id"]: r for r in by_kind["message"]}
    quoting = messages[f"wamid.{tenant_a.pk}.1"]
    assert quoting["quoted_message_id"] == f"wamid.{tenant_a.pk}.0"
    assert quoting["quoted_text"].startswith("Mensagem 0")
    document = messages[f"wamid.{tenant_a.pk}.3"]
    assert document["attachment_names"] == ["nota.pdf"]
    assert document["attachment_sha256"] == [hashlib.sha256(PDF).hexdigest()]
    photo = messages[f"wamid.{tenant_a.pk}.4"]
    assert photo["attachment_files"] == [""]  # never captured: named, no file invented
    assert all(len(r["record_hash"]) == 64 for r in by_kind["message"])
    assert "status" not in by_kind


def test_two_exports_of_the_same_state_have_identical_payload_manifest_and_proofs(tenant_a):
    archive_for_export(tenant_a)
    first, one, _ = export(tenant_a)
    second, two, _ = export(
        tenant_a,
        export_id="exp-2",
        requester="someone.else@firm-a.example",
        created_at=datetime(2026, 5, 9, 8, 0, tzinfo=UTC),
    )
    a, b = zip_files(one), zip_files(two)
    assert set(a) == set(b)
    same = [n for n in a if n.startswith(("data/", "log/")) or n == "manifest-sha256.txt"]
    assert len(same) > 10
    for name in same:
        assert a[name] == b[name], name
    assert a["bag-info.txt"] != b["bag-info.txt"]  # the export's own id, requester and date
    assert first.checkpoint_id == second.checkpoint_id

    # Something logged in between (here: the audit of a read) signs a new checkpoint for the
    # next export: its proofs change, its payload does not.
    with tenant_scope(tenant_a):
        record_event("archive.read", tenant=tenant_a, actor=Actor.system(), target_label="x")
    third, three, _ = export(tenant_a)
    c = zip_files(three)
    assert third.checkpoint_id != first.checkpoint_id
    for name in same:
        if name.startswith("data/") or name == "manifest-sha256.txt":
            assert a[name] == c[name], name
    assert a["log/checkpoint.json"] != c["log/checkpoint.json"]


def test_another_tenants_messages_never_enter_the_bag_whatever_the_queryset_names(
    tenant_a, tenant_b
):
    archive_for_export(tenant_a)
    archive_for_export(tenant_b)
    with tenant_scope(tenant_b):
        b_ids = list(Message.objects.values_list("pk", flat=True))
    with tenant_scope(tenant_a):
        a_ids = list(Message.objects.values_list("pk", flat=True))
    # Built with the manager that spans tenants: only the writer's own scoping stands.
    only_b = Message.all_tenants.filter(pk__in=b_ids)
    with pytest.raises(NothingToExport):
        export(tenant_a, queryset=only_b)

    both = Message.all_tenants.filter(pk__in=a_ids + b_ids)
    result, data, _ = export(tenant_a, queryset=both)
    assert result.counts.messages == len(a_ids)
    files = zip_files(data)
    wamids = {r["message_id"] for r in jsonl_rows(files)}
    assert wamids and all(w.startswith(f"wamid.{tenant_a.pk}.") for w in wamids)
    everything = b"".join(files.values())
    assert f"wamid.{tenant_b.pk}.".encode() not in everything


def test_proofs_across_many_tiles_match_the_logs_own_proofs(tenant_a, tmp_path):
    # Over 600 leaves: complete 256-leaf tiles and a partial last one.
    archive_for_export(tenant_a, messages=600)
    with tenant_scope(tenant_a):
        some = Message.objects.filter(tenant=tenant_a).order_by("id")[::7]
        chosen = Message.objects.filter(pk__in=[m.pk for m in some])
    result, data, _ = export(tenant_a, formats=("jsonl",), queryset=chosen)
    assert result.tree_size > 600 and result.tree_size % 256
    target = tmp_path / "bag.zip"
    target.write_bytes(data)
    assert verify.check(target)[0] == []
    proofs = [json.loads(x) for x in zip_files(data)["log/proofs.jsonl"].splitlines()]
    assert len({p["leaf_index"] >> 8 for p in proofs}) >= 3
    for proof in proofs[:: max(1, len(proofs) // 10)]:
        expected = inclusion_proof(
            tenant=tenant_a, record_table=proof["table"], record_id=proof["id"]
        ).as_dict()
        assert (proof["leaf_index"], proof["leaf_hash"], proof["path"]) == (
            expected["leaf_index"], expected["leaf_hash"], expected["path"]
        )  # fmt: skip
