"""The bag's own verify.py on a real export (archive rows made through the archive's services):
it passes; one changed byte in ANY file, or any one file removed, fails naming the file; and a
wrong signature, a tampered proof, a checkpoint signed by another key each fail with their own
words even when the forger fixed the manifests and re-signed everything they could."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from archive.export import verify
from archive.exporting.build import write_export
from archive.ledger.models import LogCheckpoint
from archive.ledger.signing import sign
from archive.models import Message
from compliance_hub.tenancy.context import tenant_scope
from tests.archive.export_db import archive_for_export, request

pytestmark = pytest.mark.usefixtures("anchor_dir")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def exported(tenant_a):
    archive_for_export(tenant_a)
    out = io.BytesIO()
    with tenant_scope(tenant_a):
        rows = Message.objects.filter(tenant=tenant_a)
    result = write_export(tenant=tenant_a, request=request(), messages=rows, out=out)
    with tenant_scope(tenant_a):
        key = LogCheckpoint.objects.get(pk=result.checkpoint_id).key
    return out.getvalue(), key


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def problems_of(files: dict[str, bytes], tmp_path) -> list[str]:
    target = tmp_path / "bag.zip"
    target.write_bytes(rezip(files))
    return verify.check(target)[0]


def forge(files: dict[str, bytes], changed: dict[str, bytes], key) -> dict[str, bytes]:
    """The bag with ``changed`` tag files, its tag manifest updated and re-signed by ``key``
    (the firm's own key: the strongest forger there is)."""
    root = next(iter(files)).split("/", 1)[0] + "/"
    files = dict(files)
    for name, content in changed.items():
        files[root + name] = content
    lines = []
    for line in files[root + "tagmanifest-sha256.txt"].decode().splitlines():
        _, path = line.split(" ", 1)
        path = path.strip()
        lines.append(f"{hashlib.sha256(files[root + path]).hexdigest()}  {path}")
    manifest = "".join(f"{line}\n" for line in lines).encode()
    files[root + "tagmanifest-sha256.txt"] = manifest
    files[root + "tagmanifest-sha256.txt.sig"] = sign(key, manifest)
    return files


def test_verify_passes_on_a_real_export_and_names_the_key(exported, tmp_path, capsys):
    data, key = exported
    target = tmp_path / "bag.zip"
    target.write_bytes(data)
    assert verify.main(["verify.py", str(target)]) == 0
    printed = capsys.readouterr().out
    assert f"signed by key {key.key_id}" in printed
    assert "records proved in the archive log's checkpoint" in printed


def test_one_changed_byte_in_any_file_or_any_removed_file_fails_naming_it(exported, tmp_path):
    data, _ = exported
    files = unzip(data)
    assert len(files) >= 15
    for name in sorted(files):
        short = name.split("/", 1)[1]
        changed = dict(files)
        content = bytearray(files[name])
        content[len(content) // 2] ^= 0x01
        changed[name] = bytes(content)
        problems = problems_of(changed, tmp_path)
        assert any(short in p for p in problems), (short, problems)

        removed = dict(files)
        del removed[name]
        problems = problems_of(removed, tmp_path)
        assert any(short in p for p in problems), (short, problems)


def test_a_signature_by_another_key_fails_with_its_own_message(exported, tmp_path):
    data, _ = exported
    files = unzip(data)
    [sig] = [n for n in files if n.endswith(".sig")]
    manifest = files[sig.removesuffix(".sig")]
    files[sig] = Ed25519PrivateKey.generate().sign(manifest)

    assert problems_of(files, tmp_path) == [
        "tagmanifest-sha256.txt.sig is not a valid signature of tagmanifest-sha256.txt by the "
        "key in log/public-key.pem"
    ]


def test_a_tampered_proof_fails_with_its_own_message(exported, tmp_path):
    data, key = exported
    files = unzip(data)
    [name] = [n for n in files if n.endswith("log/proofs.jsonl")]
    lines = files[name].decode().splitlines()
    proof = json.loads(lines[0])
    proof["path"][0] = "00" * 32
    lines[0] = json.dumps(proof, sort_keys=True, separators=(",", ":"))
    forged = forge(files, {"log/proofs.jsonl": "".join(f"{x}\n" for x in lines).encode()}, key)

    problems = problems_of(forged, tmp_path)

    assert len(problems) >= 1, problems
    assert problems[0] == (
        f"log/proofs.jsonl line 1 ({proof['table']} {proof['id']}): the proof does not lead to "
        "the checkpoint's root"
    )
    # The record it proved now lacks a proof: the counts say so too.
    assert all("proof" in p or "proves" in p for p in problems), problems


def test_a_checkpoint_signed_by_another_key_fails_with_its_own_message(exported, tmp_path):
    data, key = exported
    files = unzip(data)
    [name] = [n for n in files if n.endswith("log/checkpoint.json")]
    document = json.loads(files[name])
    other = Ed25519PrivateKey.generate()
    raw = other.public_key().public_bytes_raw()
    document.update(
        signature=base64.b64encode(other.sign(document["signed_note"].encode())).decode(),
        public_key=base64.b64encode(raw).decode(),
        key_id=hashlib.sha256(raw).hexdigest(),
    )
    forged = forge(files, {"log/checkpoint.json": json.dumps(document).encode()}, key)

    assert problems_of(forged, tmp_path) == [
        f"log/checkpoint.json is signed by key {hashlib.sha256(raw).hexdigest()}, not by the "
        f"key that signed the bag ({key.key_id})"
    ]


def test_a_checkpoint_whose_signature_was_changed_fails(exported, tmp_path):
    data, key = exported
    files = unzip(data)
    [name] = [n for n in files if n.endswith("log/checkpoint.json")]
    document = json.loads(files[name])
    document["signed_note"] = document["signed_note"].replace("time 20", "time 19")
    forged = forge(files, {"log/checkpoint.json": json.dumps(document).encode()}, key)

    assert problems_of(forged, tmp_path) == [
        "log/checkpoint.json: its signature does not match its note and public key"
    ]
