"""An export as a BagIt bag (RFC 8493) in a zip, written as the payload streams past and zipped
deterministically.

The bag holds the payload under ``data/`` (see :mod:`archive.export.payload`), SHA-256 manifests,
``bag-info.txt`` with the export's facts (tenant, export id, requester, matter, query, date range,
counts, software version) and ``verify.py``, the standalone checker, as a tag file (so the
tag manifest pins it too). Callers may add more tag files (a log checkpoint, inclusion proofs).

Written here, not with ``bagit.make_bag``: bagit walks the finished folder and keeps every
manifest entry in memory (with the walk's paths and zipfile's entries, ~1.4 KB per file, so
~420 MB for a million-message export of ~300,000 files). Here each payload file is hashed as it
is written and its manifest line appended to a file on disk; the zip's central directory is the
one per-file list held in memory. The layout and the tag files' bytes are bagit's (bagit.py
validates the bags, tests/archive/test_export_bag.py), so nothing changes for whoever checks one.

The payload may be written in parts (:func:`stage_payload`, one per range of conversations, in
separate processes) and bagged together (:func:`write_staged_bag_zip`): the parts are taken in
order, so the bag is the same bytes as one written in one part.

Deterministic: the bag's date is the export's own (never "today"); the payload files are listed
and zipped in the order they were written (conversation by conversation; the CSV and JSON Lines,
written a conversation at a time, after them), the tag files sorted; the zip has fixed times and
modes. No Django: the caller gives plain records and an output stream.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import IO

from .payload import Counts, PayloadFile
from .records import utc_text
from .zips import zip_entry

VERIFY_SCRIPT = Path(__file__).with_name("verify.py")
CHUNK = 1 << 20


@dataclass(frozen=True)
class BagInfo:
    """What ``bag-info.txt`` says about the export."""

    tenant: str
    export_id: str
    requester: str
    matter: str
    query: str
    date_from: date | None
    date_until: date | None
    created_at: datetime  # when the export was requested: the bag's date
    software_version: str
    formats: Sequence[str]
    counts: Counts
    legal_hold: str = ""  # the hold the export is of ("" for an export by a search)

    def fields(self) -> dict[str, str]:
        """RFC 8493's reserved fields where one fits, then ours; values on one line."""
        span = f"{self.date_from or 'the beginning'} to {self.date_until or 'the end'}"
        return {
            "Source-Organization": self.tenant,
            "Contact-Name": self.requester,
            "External-Identifier": self.export_id,
            "External-Description": (
                f"WhatsApp archive export {self.export_id} of {self.tenant}"
                + (f" for matter {self.matter}" if self.matter else "")
            ),
            "Bagging-Date": self.created_at.astimezone(UTC).date().isoformat(),
            "Bag-Software-Agent": f"Compliance Hub {self.software_version}",
            "Tenant": self.tenant,
            "Export-Id": self.export_id,
            "Export-Created": utc_text(self.created_at),
            "Requester": self.requester,
            "Matter": self.matter or "(none)",
            "Search-Query": (
                "(the messages the legal hold covers)"
                if self.legal_hold
                else self.query or "(everything in the date range)"
            ),
            "Date-Range": span,
            **({"Legal-Hold": self.legal_hold} if self.legal_hold else {}),
            "Formats": ", ".join(self.formats),
            "Conversation-Count": str(self.counts.conversations),
            "Message-Count": str(self.counts.messages),
            "Event-Count": str(self.counts.events),
            "Attachment-Count": str(self.counts.attachments),
            "Software-Version": self.software_version,
        }


TagContent = bytes | Callable[[IO[bytes]], object]
SIGNATURE_SUFFIX = ".sig"
MANIFEST = "manifest-sha256.txt"
TAG_MANIFEST = "tagmanifest-sha256.txt"
BAGIT_TXT = b"BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n"  # as bagit writes it
LISTING = (
    "listing.txt"  # a staged part's whole files, in the order written: "<sha256> <size> <path>"
)
MEDIA = "data/media/"


@dataclass(frozen=True)
class StagedPart:
    """A part of the payload written into ``folder`` by :func:`stage_payload`: its files under
    ``folder/data/``, the ones written whole listed (in order, with SHA-256 and size) in
    ``folder/listing.txt``, and the files it appended to (the CSV and JSON Lines: each part
    holds its rows; the bag concatenates the parts). Plain data: it crosses process bounds."""

    folder: str
    appended: tuple[str, ...]  # payload paths ("messages.csv"), in the order first written


def stage_payload(payload: Iterable[PayloadFile], folder: str) -> StagedPart:
    """Write ``payload`` into ``folder`` (empty or new), hashing each whole file as it is written
    and appending its line to the part's listing: nothing per file stays in memory."""
    data = os.path.join(folder, "data")
    made: set[str] = set()  # folders created: a handful (rsmf/, eml/, html/, media/)
    appended: dict[str, None] = {}
    with open(os.path.join(folder, LISTING), "w", encoding="utf-8") as listing:
        for file in payload:
            relative = str(_inside(file.path))
            target = os.path.join(data, relative)
            parent = os.path.dirname(target)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            if file.append:
                with open(target, "ab") as handle:
                    file.write(handle)
                appended.setdefault(relative)
                continue
            with open(target, "wb") as handle:
                hashing = _Hashing(handle)
                file.write(hashing)  # type: ignore[arg-type]  # write is all a writer calls
            listing.write(f"{hashing.hexdigest()} {hashing.size} data/{relative}\n")
    return StagedPart(folder=folder, appended=tuple(appended))


def write_bag_zip(
    payload: Iterable[PayloadFile],
    *,
    info: BagInfo | Callable[[], BagInfo],
    out: IO[bytes],
    tag_files: Mapping[str, TagContent] | Callable[[], Mapping[str, TagContent]] | None = None,
    sign: Callable[[bytes], bytes] | None = None,
) -> str:
    """Write the bag, zipped under one top folder named for the export, to ``out``; returns the
    SHA-256 (hex) of its ``tagmanifest-sha256.txt``.

    ``info`` and ``tag_files`` may be callables, called once the payload is written (counts and
    proofs are known only after the records streamed past). A tag file is bytes or a function
    writing them (large ones: inclusion proofs). ``sign`` (when given) turns the final tag
    manifest's bytes into a detached signature, stored as ``tagmanifest-sha256.txt.sig``: the
    one file no manifest lists (it signs the last one), which RFC 8493 allows (2.2.4: tag files
    need not be listed) and ``bagit`` accepts."""
    with tempfile.TemporaryDirectory(prefix="bag-part-") as folder:
        part = stage_payload(payload, folder)
        return write_staged_bag_zip([part], info=info, out=out, tag_files=tag_files, sign=sign)


def write_staged_bag_zip(
    parts: Sequence[StagedPart],
    *,
    info: BagInfo | Callable[[], BagInfo],
    out: IO[bytes],
    tag_files: Mapping[str, TagContent] | Callable[[], Mapping[str, TagContent]] | None = None,
    sign: Callable[[bytes], bytes] | None = None,
) -> str:
    """:func:`write_bag_zip` of a payload staged in ``parts`` (in order): their whole files as
    listed, a media file once (the same name is the same bytes: content-addressed), then each
    appended file as its parts' pieces concatenated."""
    # Callables are called now: the payload is staged, so the counts are known.
    info = info() if callable(info) else info
    root = _safe_name(f"export-{info.tenant}-{info.export_id}")
    with tempfile.TemporaryDirectory(prefix="bag-") as scratch, zipfile.ZipFile(out, "w") as zipped:
        tags = os.path.join(scratch, "tags")
        os.makedirs(tags)
        with open(os.path.join(tags, MANIFEST), "w", encoding="utf-8") as manifest:
            files, size = _zip_payload(parts, zipped, root, manifest)
        _write(os.path.join(tags, "bagit.txt"), BAGIT_TXT)
        _write(os.path.join(tags, "bag-info.txt"), tag_file_text(info, size, files))
        shutil.copyfile(VERIFY_SCRIPT, os.path.join(tags, "verify.py"))
        extra = tag_files() if callable(tag_files) else (tag_files or {})
        for name, content in sorted(extra.items()):
            inside = _inside(name)
            if inside.parts[0] == "data":
                raise ValueError(f"tag file {name!r} would land in the payload")
            target = os.path.join(tags, str(inside))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as handle:
                if isinstance(content, bytes):
                    handle.write(content)
                else:
                    content(handle)
        names = sorted(_files_under(tags), key=lambda name: name.split("/"))
        # bagit's tag manifest: "<sha256> <name>" (one space), every tag file but the manifest.
        lines = sorted(
            f"{_file_sha256(os.path.join(tags, n))} {n}\n" for n in names if n != TAG_MANIFEST
        )
        signed = "".join(lines).encode("utf-8")
        _write(os.path.join(tags, TAG_MANIFEST), signed)
        if sign is not None:
            _write(os.path.join(tags, TAG_MANIFEST + SIGNATURE_SUFFIX), sign(signed))
        for name in sorted(_files_under(tags), key=lambda name: name.split("/")):
            source = os.path.join(tags, name)
            _zip_file(zipped, f"{root}/{name}", [source], os.path.getsize(source))
    return hashlib.sha256(signed).hexdigest()


def tag_file_text(info: BagInfo, payload_bytes: int, payload_files: int) -> bytes:
    """``bag-info.txt`` as bagit writes it: the fields sorted by name, ``Payload-Oxum`` among
    them, each value on one line (CR and LF dropped) without surrounding whitespace."""
    fields = {**info.fields(), "Payload-Oxum": f"{payload_bytes}.{payload_files}"}
    lines = (
        f"{name}: {_NEWLINES.sub('', value).strip()}\n" for name, value in sorted(fields.items())
    )
    return "".join(lines).encode("utf-8")


_NEWLINES = re.compile(r"[\r\n]")


def _zip_payload(
    parts: Sequence[StagedPart], zipped: zipfile.ZipFile, root: str, manifest: IO[str]
) -> tuple[int, int]:
    """Zip the parts' payload and write its manifest; returns (files, bytes) for Payload-Oxum."""
    files = size = 0
    media: set[str] = set()  # media zipped so far (their names: few next to the other files)
    for part in parts:
        with open(os.path.join(part.folder, LISTING), encoding="utf-8") as listing:
            for line in listing:
                digest, length, path = line.rstrip("\n").split(" ", 2)
                if path.startswith(MEDIA):
                    if path in media:
                        continue
                    media.add(path)
                _zip_file(zipped, f"{root}/{path}", [os.path.join(part.folder, path)], int(length))
                manifest.write(f"{digest}  {_encode_filename(path)}\n")
                files += 1
                size += int(length)
    appended = dict.fromkeys(name for part in parts for name in part.appended)
    for name in appended:
        pieces = [os.path.join(p.folder, "data", name) for p in parts if name in p.appended]
        total = sum(os.path.getsize(piece) for piece in pieces)
        whole = f"data/{name}"
        digest = _zip_file(zipped, f"{root}/{whole}", pieces, total)
        manifest.write(f"{digest}  {_encode_filename(whole)}\n")
        files += 1
        size += total
    return files, size


def _zip_file(zipped: zipfile.ZipFile, name: str, sources: list[str], length: int) -> str:
    """Zip the concatenation of ``sources`` (``length`` bytes) as ``name``; returns its SHA-256."""
    entry = zip_entry(name)
    entry.file_size = length
    digest = hashlib.sha256()
    large = length >= zipfile.ZIP64_LIMIT
    with zipped.open(entry, "w", force_zip64=large) as target:
        for source in sources:
            with open(source, "rb") as handle:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
                    target.write(chunk)
    return digest.hexdigest()


class _Hashing:
    """A write-only stream that hashes and counts what passes through it to ``target``."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.target.write(data)

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def _encode_filename(path: str) -> str:
    # RFC 8493 2.1.3 (and bagit): a CR or LF in a name is percent-encoded in manifests.
    return path.replace("\r", "%0D").replace("\n", "%0A")


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write(path: str, content: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(content)


def _inside(path: str) -> PurePosixPath:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise ValueError(f"{path!r} is not a path inside the bag")
    return pure


def _files_under(root: str) -> Iterator[str]:
    for folder, _, files in os.walk(root):
        relative = os.path.relpath(folder, root)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        for file in files:
            yield prefix + file


def _safe_name(text: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in text)
