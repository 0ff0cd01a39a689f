#!/usr/bin/env python3
"""Verify a Compliance Hub export bag: ``python3 verify.py EXPORT.zip`` (or the unzipped folder).

Standalone on purpose: it travels inside every bag, and an auditor runs it years later on a
machine with Python 3.11+ and, for the signatures, the ``cryptography`` package (no network, no
Compliance Hub). It prints ``OK`` and the key id that signed the bag and exits 0 when the bag is
intact, or names exactly what fails (file, record, reason) and exits 1. Compare the key id with
the one the firm publishes: a bag re-signed by anyone else carries another key id.

What it checks (RFC 8493, BagIt):

- ``bagit.txt`` declares the BagIt version and UTF-8 tag files;
- every file in ``manifest-sha256.txt`` is there with that SHA-256, and every file under
  ``data/`` is in the manifest (nothing added, nothing removed, nothing changed);
- ``Payload-Oxum`` in ``bag-info.txt`` matches the payload's byte and file counts;
- every tag file (``bagit.txt``, ``bag-info.txt``, the manifest, this script, ``log/...``) is in
  ``tagmanifest-sha256.txt`` with that SHA-256, so the manifest itself cannot be edited.

What it checks of a signed export (one with ``tagmanifest-sha256.txt.sig`` or ``log/`` proofs):

- ``tagmanifest-sha256.txt.sig`` is the Ed25519 signature of ``tagmanifest-sha256.txt`` by the
  key in ``log/public-key.pem``: so every file of the bag, through the two manifests, is signed;
- ``log/checkpoint.json`` is a checkpoint of the firm's archive log (Merkle tree, RFC 9162)
  whose note is signed by that same key, and whose size and root are the ones the note says;
- every line of ``log/proofs.jsonl`` is an inclusion proof (RFC 9162 2.1.3.2, computed here)
  of its leaf hash at its index in the checkpoint's tree;
- every exported record has a proof: as many message proofs as ``Message-Count`` in
  ``bag-info.txt`` and event proofs as ``Event-Count``; and, when ``data/messages.jsonl`` is
  there, every message row's ``record_hash`` is the leaf hash of the proof naming that message
  (and every event row is matched in number by event proofs); every file in ``data/media/`` has
  a stored-file proof for its SHA-256.

What is tied, exactly. A proof shows that a leaf hash is in the signed log. For a stored file,
the proof line carries the file's record (its canonical bytes) and this script recomputes the
leaf hash from it (SHA-256 of 0x00 + record) and checks that it names the SHA-256 of the media
file in the bag: the file is tied to the log end to end. For a message, the leaf hash is of the
archived record in its canonical form, which holds more than the export shows (Meta's raw
payload, the capture time, internal ids), so the leaf hash cannot be recomputed from the
exported row: the tie is that the row's ``record_hash`` equals the proven leaf hash of the
proof naming the same WhatsApp message id, and the firm's archive (``verify_archive``) can
produce the record whose hash it is. Events are tied by count only (their rows carry the
message's id, not the event's). The rendered formats (RSMF, e-mail, HTML, CSV) are tied to the
proofs through the manifests and the signature, not record by record.

The same checks with standard tools: ``bagit.py --validate FOLDER``; ``sha256sum -c
manifest-sha256.txt`` and ``sha256sum -c tagmanifest-sha256.txt`` in the bag; and ``openssl
pkeyutl -verify -pubin -inkey log/public-key.pem -rawin -in tagmanifest-sha256.txt -sigfile
tagmanifest-sha256.txt.sig`` (see the product's docs/exports.md).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol

MANIFEST = "manifest-sha256.txt"
TAG_MANIFEST = "tagmanifest-sha256.txt"
SIGNATURE = TAG_MANIFEST + ".sig"  # signs the tag manifest, so no manifest can list it
REQUIRED_TAG_FILES = ("bagit.txt", "bag-info.txt", MANIFEST)
CHUNK = 1 << 20


class Bag(Protocol):
    def names(self) -> set[str]: ...
    def chunks(self, name: str) -> Iterator[bytes]: ...
    def open(self, name: str) -> IO[bytes]: ...


class FolderBag:
    def __init__(self, root: Path) -> None:
        self.root = root

    def names(self) -> set[str]:
        return {p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()}

    def chunks(self, name: str) -> Iterator[bytes]:
        with (self.root / name).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def open(self, name: str) -> IO[bytes]:
        return (self.root / name).open("rb")


class ZipBag:
    """A zipped bag: one top folder holding the bag, read without unzipping."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        files = [i.filename for i in archive.infolist() if not i.is_dir()]
        tops = {name.split("/", 1)[0] for name in files}
        self.prefix = f"{tops.pop()}/" if len(tops) == 1 and all("/" in n for n in files) else ""
        self.files = {n[len(self.prefix) :] for n in files if n.startswith(self.prefix)}

    def names(self) -> set[str]:
        return set(self.files)

    def chunks(self, name: str) -> Iterator[bytes]:
        with self.archive.open(self.prefix + name) as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def open(self, name: str) -> IO[bytes]:
        return self.archive.open(self.prefix + name)


def sha256(bag: Bag, name: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in bag.chunks(name):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def read_text(bag: Bag, name: str) -> str:
    return b"".join(bag.chunks(name)).decode("utf-8")


def manifest_entries(bag: Bag, manifest: str, problems: list[str]) -> dict[str, str]:
    """Path -> expected SHA-256 from a manifest (RFC 8493 2.1.3: percent-encoded CR, LF, %)."""
    entries: dict[str, str] = {}
    for number, line in enumerate(read_text(bag, manifest).splitlines(), start=1):
        if not line.strip():
            continue
        digest, _, path = line.partition(" ")
        path = path.lstrip(" ")
        path = path.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
        pure = PurePosixPath(path)
        if len(digest) != 64 or not path or pure.is_absolute() or ".." in pure.parts:
            problems.append(f"{manifest} line {number} is not '<sha256> <path>' inside the bag")
            continue
        entries[path] = digest.lower()
    return entries


def verify(bag: Bag) -> tuple[list[str], int, int]:
    """(problems, payload files checked, tag files checked)."""
    problems: list[str] = []
    names = bag.names()
    if "bagit.txt" not in names:
        return ["bagit.txt is missing: this is not a BagIt bag"], 0, 0
    declaration = read_text(bag, "bagit.txt")
    if (
        "BagIt-Version:" not in declaration
        or "Tag-File-Character-Encoding: UTF-8" not in declaration
    ):
        problems.append("bagit.txt does not declare the BagIt version and UTF-8 tag files")
    for required in (MANIFEST, TAG_MANIFEST, "bag-info.txt"):
        if required not in names:
            problems.append(f"{required} is missing")
    if problems:
        return problems, 0, 0

    payload = manifest_entries(bag, MANIFEST, problems)
    total = 0
    for path in sorted(payload):
        if not path.startswith("data/"):
            problems.append(f"{MANIFEST} names {path}, which is outside data/")
        elif path not in names:
            problems.append(f"{path} is missing (it is in {MANIFEST})")
        else:
            digest, size = sha256(bag, path)
            total += size
            if digest != payload[path]:
                problems.append(f"{path} has been changed (its SHA-256 differs from {MANIFEST})")
    for path in sorted(n for n in names if n.startswith("data/") and n not in payload):
        problems.append(f"{path} is not in {MANIFEST} (a file was added)")

    oxum = _bag_info(read_text(bag, "bag-info.txt")).get("Payload-Oxum", "")
    expected_oxum = f"{total}.{len([p for p in payload if p in names])}"
    if oxum and oxum != expected_oxum:
        problems.append(f"Payload-Oxum in bag-info.txt is {oxum}, the payload is {expected_oxum}")

    tags = manifest_entries(bag, TAG_MANIFEST, problems)
    for required in REQUIRED_TAG_FILES:
        if required not in tags:
            problems.append(f"{TAG_MANIFEST} does not cover {required}")
    for path in sorted(tags):
        if path not in names:
            problems.append(f"{path} is missing (it is in {TAG_MANIFEST})")
        elif sha256(bag, path)[0] != tags[path]:
            problems.append(f"{path} has been changed (its SHA-256 differs from {TAG_MANIFEST})")
    for path in sorted(names):
        if (
            not path.startswith("data/")
            and path not in (TAG_MANIFEST, SIGNATURE)
            and path not in tags
        ):
            problems.append(f"{path} is not in {TAG_MANIFEST} (a file was added)")
    return problems, len(payload), len(tags)


def _bag_info(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and not line.startswith((" ", "\t")):
            fields[name.strip()] = value.strip()
    return fields


# --- The signature, the checkpoint and the inclusion proofs ---------------------------------

PUBLIC_KEY = "log/public-key.pem"
CHECKPOINT = "log/checkpoint.json"
PROOFS = "log/proofs.jsonl"
SIGNED_FILES = (SIGNATURE, PUBLIC_KEY, CHECKPOINT, PROOFS)
JSONL = "data/messages.jsonl"
MESSAGE, EVENT, STORED_FILE = "archive.message", "archive.messageevent", "archive.attachmentfile"


class Report:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.payload_files = 0
        self.tag_files = 0
        self.signed = False
        self.key_id = ""
        self.checkpoint_key_id = ""
        self.tree_size = 0
        self.proofs = 0


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def inclusion_ok(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2: does ``path`` lead from leaf hash ``leaf`` at ``index`` of a tree of
    ``size`` leaves to ``root``? (Written here again, not imported: this script stands alone.)"""
    if not 0 <= index < size or len(leaf) != 32:
        return False
    fn, sn, node = index, size - 1, leaf
    for sibling in path:
        if sn == 0 or len(sibling) != 32:
            return False
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and node == root


def _ed25519(raw_or_pem: bytes, pem: bool) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if not pem:
        return Ed25519PublicKey.from_public_bytes(raw_or_pem)
    key = serialization.load_pem_public_key(raw_or_pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def _raw(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    raw: bytes = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw


def _signature_ok(key: Any, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def verify_log(bag: Bag, names: set[str], report: Report) -> None:
    """The signature, the checkpoint and the proofs of a signed export (see the docstring)."""
    problems = report.problems
    if not any(name in names for name in (SIGNATURE, PUBLIC_KEY, PROOFS)):
        return  # an unsigned bag: main() says so
    report.signed = True
    missing = [name for name in SIGNED_FILES if name not in names]
    for name in missing:
        problems.append(f"{name} is missing: a signed export needs it")
    if missing:
        return
    try:
        import cryptography  # noqa: F401
    except ImportError:
        problems.append(
            "the signatures cannot be checked: install the Python package 'cryptography' "
            "(pip install cryptography) and run this again"
        )
        return
    manifest = b"".join(bag.chunks(TAG_MANIFEST))
    try:
        key = _ed25519(b"".join(bag.chunks(PUBLIC_KEY)), pem=True)
    except ValueError as error:
        problems.append(f"{PUBLIC_KEY} is not an Ed25519 public key ({error})")
        return
    report.key_id = hashlib.sha256(_raw(key)).hexdigest()
    if not _signature_ok(key, b"".join(bag.chunks(SIGNATURE)), manifest):
        problems.append(
            f"{SIGNATURE} is not a valid signature of {TAG_MANIFEST} by the key in {PUBLIC_KEY}"
        )
    checkpoint = _checkpoint(bag, report)
    if checkpoint is not None:
        _verify_proofs(bag, names, report, *checkpoint)


def _checkpoint(bag: Bag, report: Report) -> tuple[int, bytes] | None:
    """(size, root) of a checkpoint whose signature holds, else None (problems said why)."""
    problems = report.problems
    try:
        document = json.loads(read_text(bag, CHECKPOINT))
        note = str(document["signed_note"])
        signature = base64.b64decode(document["signature"], validate=True)
        public = base64.b64decode(document["public_key"], validate=True)
        size, root = int(document["size"]), bytes.fromhex(document["root"])
    except (ValueError, KeyError, TypeError) as error:
        problems.append(f"{CHECKPOINT} cannot be read as a checkpoint ({error})")
        return None
    report.checkpoint_key_id = hashlib.sha256(public).hexdigest()
    report.tree_size = size
    lines = note.splitlines()
    facts = dict(line.split(" ", 1) for line in lines[1:] if " " in line)
    if facts.get("size") != str(size) or facts.get("root") != root.hex():
        problems.append(f"{CHECKPOINT}: the size or root differ from the signed note's")
        return None
    try:
        signer = _ed25519(public, pem=False)
    except ValueError as error:
        problems.append(f"{CHECKPOINT}: its public key is not an Ed25519 key ({error})")
        return None
    if not _signature_ok(signer, signature, note.encode("utf-8")):
        problems.append(f"{CHECKPOINT}: its signature does not match its note and public key")
        return None
    if report.key_id and report.checkpoint_key_id != report.key_id:
        problems.append(
            f"{CHECKPOINT} is signed by key {report.checkpoint_key_id}, not by the key that "
            f"signed the bag ({report.key_id})"
        )
        return None
    return size, root


def _verify_proofs(bag: Bag, names: set[str], report: Report, size: int, root: bytes) -> None:
    problems = report.problems
    messages: dict[str, bytes] = {}  # wamid -> proven leaf hash
    counts = {MESSAGE: 0, EVENT: 0, STORED_FILE: 0}
    files: set[str] = set()  # SHA-256 of the stored files proven
    seen: set[int] = set()
    with bag.open(PROOFS) as handle:
        for number, raw in enumerate(io.TextIOWrapper(handle, "utf-8"), start=1):
            where = f"{PROOFS} line {number}"
            try:
                proof = json.loads(raw)
                table, record = str(proof["table"]), proof["id"]
                index = int(proof["leaf_index"])
                leaf = bytes.fromhex(proof["leaf_hash"])
                path = [bytes.fromhex(node) for node in proof["path"]]
            except (ValueError, KeyError, TypeError) as error:
                problems.append(f"{where} is not an inclusion proof ({error})")
                continue
            where += f" ({table} {record})"
            if table not in counts:
                problems.append(f"{where}: not a table of exported records")
                continue
            if index in seen:
                problems.append(f"{where}: leaf {index} is proved twice")
            seen.add(index)
            if not inclusion_ok(leaf, index, size, path, root):
                problems.append(f"{where}: the proof does not lead to the checkpoint's root")
                continue
            counts[table] += 1
            if table == MESSAGE:
                messages[str(proof.get("message_id", ""))] = leaf
            elif table == STORED_FILE:
                text = str(proof.get("record", ""))
                if leaf_hash(text.encode("utf-8")) != leaf:
                    problems.append(f"{where}: its record does not hash to its leaf hash")
                    continue
                try:
                    files.add(str(json.loads(text)["fields"]["sha256"]).lower())
                except (ValueError, KeyError, TypeError):
                    problems.append(f"{where}: its record names no SHA-256")
    report.proofs = sum(counts.values())
    info = _bag_info(read_text(bag, "bag-info.txt")) if "bag-info.txt" in names else {}
    for table, field, what in ((MESSAGE, "Message-Count", "messages"),
                               (EVENT, "Event-Count", "events")):  # fmt: skip
        if info and info.get(field, "") != str(counts[table]):
            problems.append(
                f"bag-info.txt says {info.get(field, 'nothing')} {what} ({field}), "
                f"{PROOFS} proves {counts[table]}"
            )
    for name in sorted(names):
        if name.startswith("data/media/"):
            digest = name.removeprefix("data/media/").split(".", 1)[0].lower()
            if digest not in files:
                problems.append(f"{name}: no stored-file proof names its SHA-256")
    if JSONL in names:
        _tie_rows(bag, report, messages, counts[EVENT])


def _tie_rows(bag: Bag, report: Report, messages: dict[str, bytes], event_proofs: int) -> None:
    problems = report.problems
    rows_seen: set[str] = set()
    events = 0
    with bag.open(JSONL) as handle:
        for number, raw in enumerate(io.TextIOWrapper(handle, "utf-8"), start=1):
            try:
                row = json.loads(raw)
                kind, wamid = row["record_type"], str(row["message_id"])
            except (ValueError, KeyError, TypeError) as error:
                problems.append(f"{JSONL} line {number} cannot be read ({error})")
                continue
            if kind != "message":
                events += 1
                continue
            rows_seen.add(wamid)
            proven = messages.get(wamid)
            if proven is None:
                problems.append(f"{JSONL} line {number} (message {wamid}): no proof names it")
            elif str(row.get("record_hash", "")) != proven.hex():
                problems.append(
                    f"{JSONL} line {number} (message {wamid}): its record_hash is not the "
                    "proven leaf hash"
                )
    for wamid in sorted(set(messages) - rows_seen):
        problems.append(f"{PROOFS} proves message {wamid}, which {JSONL} does not hold")
    if events != event_proofs:
        problems.append(f"{JSONL} holds {events} event rows, {PROOFS} proves {event_proofs}")


def check_report(path: Path) -> Report:
    report = Report()
    if path.is_dir():
        _check(FolderBag(path), report)
        return report
    try:
        with zipfile.ZipFile(path) as archive:
            _check(ZipBag(archive), report)
    except (OSError, zipfile.BadZipFile) as error:
        report.problems = [f"{path} cannot be read as a zip file or folder: {error}"]
    return report


def _check(bag: Bag, report: Report) -> None:
    problems, report.payload_files, report.tag_files = verify(bag)
    report.problems.extend(problems)
    if "bagit.txt" in bag.names() and TAG_MANIFEST in bag.names():
        verify_log(bag, bag.names(), report)


def check(path: Path) -> tuple[list[str], int, int]:
    report = check_report(path)
    return report.problems, report.payload_files, report.tag_files


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python3 verify.py EXPORT.zip|EXPORT_FOLDER", file=sys.stderr)
        return 2
    report = check_report(Path(argv[1]))
    if report.problems:
        print("FAILED")
        for problem in report.problems:
            print(f"- {problem}")
        if report.key_id:
            print(f"The bag names signing key {report.key_id}.")
        return 1
    print(
        f"OK: {report.payload_files} payload files and {report.tag_files} tag files match their "
        "SHA-256 manifests"
    )
    if report.signed:
        print(f"OK: the tag manifest is signed by key {report.key_id}")
        print(
            f"OK: {report.proofs} records proved in the archive log's checkpoint of "
            f"{report.tree_size} records, signed by the same key"
        )
        print("Compare the key id with the one your firm publishes for its archive.")
    else:
        print(
            "NOTE: this bag is not signed and carries no log proofs: the files match their "
            "manifests, which does not show who made them"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
