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
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import IO

from .payload import Counts, PayloadFile
from .records import utc_text
from .zipstream import FINAL_BLOCK, Deflating, ZipWriter

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


@dataclass(frozen=True)
class Segmented:
    """A file written elsewhere (another process) as its bytes in ``raw`` pieces and their raw
    deflate in ``deflated`` pieces, each piece a whole number of deflate streams ended by a
    sync flush (:class:`SegmentedWriter`): the bag concatenates both, adds the final block and
    deflates nothing itself."""

    raw: tuple[str, ...]
    deflated: tuple[str, ...]


TagContent = bytes | Callable[[IO[bytes]], object] | Segmented
SIGNATURE_SUFFIX = ".sig"
MANIFEST = "manifest-sha256.txt"
TAG_MANIFEST = "tagmanifest-sha256.txt"
BAGIT_TXT = b"BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n"  # as bagit writes it
# A staged part's whole files, in the order written, one line each:
# "<sha256> <size> <crc32> <deflated size> <path>"; their deflated bytes follow each other in
# DEFLATED.
LISTING = "listing.txt"
DEFLATED = "deflated.bin"
SEGMENTS = "segments"  # the deflated segments of the appended files: segments/<path>
MEDIA = "data/media/"


class SegmentedWriter:
    """Writes a file in segments: each segment's bytes go to ``raw`` as they are and to
    ``deflated`` through a deflate stream of its own, ended on a byte boundary (sync flush).
    A segment's deflate depends on its bytes alone, so the file's deflate is the same however
    its segments are shared out between processes, provided the segments are the same (a
    conversation's rows, a group of proofs)."""

    def __init__(self, raw: IO[bytes], deflated: IO[bytes]) -> None:
        self.raw = raw
        self.deflated = deflated

    def segment(self, write: Callable[[IO[bytes]], object]) -> None:
        """One segment: what ``write`` writes to the stream it is given."""
        sink = _Tee(self.raw, Deflating(self.deflated))
        write(sink)  # type: ignore[arg-type]  # write is all a writer calls
        sink.deflating.finish(zlib.Z_SYNC_FLUSH)


class _Tee:
    def __init__(self, raw: IO[bytes], deflating: Deflating) -> None:
        self.raw = raw
        self.deflating = deflating

    def write(self, data: bytes) -> int:
        self.raw.write(data)
        return self.deflating.write(data)


@dataclass(frozen=True)
class StagedPart:
    """A part of the payload written into ``folder`` by :func:`stage_payload`: its whole files
    deflated one after another in ``folder/deflated.bin`` and listed (in order, with SHA-256,
    size, CRC-32 and deflated size) in ``folder/listing.txt``, and the files it appended to
    (the CSV and JSON Lines: each part holds its rows, under ``folder/data/`` as they are and
    under ``folder/segments/`` deflated a conversation at a time; the bag concatenates the
    parts). Plain data: it crosses process bounds."""

    folder: str
    appended: tuple[str, ...]  # payload paths ("messages.csv"), in the order first written


def stage_payload(payload: Iterable[PayloadFile], folder: str) -> StagedPart:
    """Write ``payload`` into ``folder`` (empty or new), hashing and deflating each whole file
    as it is written and appending its line to the part's listing: nothing per file stays in
    memory, and the process that bags the parts deflates none of these files again."""
    appended: dict[str, SegmentedWriter] = {}
    handles: list[IO[bytes]] = []
    try:
        with (
            open(os.path.join(folder, LISTING), "w", encoding="utf-8") as listing,
            open(os.path.join(folder, DEFLATED), "wb") as deflated,
        ):
            for file in payload:
                relative = str(_inside(file.path))
                if file.append:
                    writer = appended.get(relative)
                    if writer is None:
                        raw_path = os.path.join(folder, "data", relative)
                        segments_path = os.path.join(folder, SEGMENTS, relative)
                        for path in (raw_path, segments_path):
                            os.makedirs(os.path.dirname(path), exist_ok=True)
                        raw, segments = open(raw_path, "wb"), open(segments_path, "wb")  # noqa: SIM115
                        handles += [raw, segments]
                        writer = appended[relative] = SegmentedWriter(raw, segments)
                    writer.segment(file.write)
                    continue
                digest = hashlib.sha256()
                deflating = Deflating(deflated, digest)
                file.write(deflating)  # type: ignore[arg-type]  # write is all a writer calls
                deflating.finish()
                listing.write(
                    f"{digest.hexdigest()} {deflating.size} {deflating.crc} "
                    f"{deflating.compressed} data/{relative}\n"
                )
    finally:
        for handle in handles:
            handle.close()
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
    proofs are known only after the records streamed past). A tag file is bytes, a function
    writing them, or a :class:`Segmented` file written elsewhere (large ones: inclusion
    proofs). ``sign`` (when given) turns the final tag manifest's bytes into a detached
    signature, stored as ``tagmanifest-sha256.txt.sig``: the one file no manifest lists (it
    signs the last one), which RFC 8493 allows (2.2.4: tag files need not be listed) and
    ``bagit`` accepts."""
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
    info = info() if callable(info) else info
    root = _safe_name(f"export-{info.tenant}-{info.export_id}")
    zipped = ZipWriter(out)
    with tempfile.TemporaryDirectory(prefix="bag-") as scratch:
        # The tag files by name: written here (one raw piece, deflated when zipped) or elsewhere.
        tags: dict[str, Segmented] = {}

        def local(name: str, content: bytes | Callable[[IO[bytes]], object]) -> None:
            target = os.path.join(scratch, f"tag{len(tags)}")
            with open(target, "wb") as handle:
                if isinstance(content, bytes):
                    handle.write(content)
                else:
                    content(handle)
            tags[name] = Segmented(raw=(target,), deflated=())

        manifest_path = os.path.join(scratch, "manifest")
        with open(manifest_path, "w", encoding="utf-8") as manifest:
            files, size = _zip_payload(parts, zipped, root, manifest)
        tags[MANIFEST] = Segmented(raw=(manifest_path,), deflated=())
        local("bagit.txt", BAGIT_TXT)
        local("bag-info.txt", tag_file_text(info, size, files))
        local("verify.py", VERIFY_SCRIPT.read_bytes())
        # Callables are called now: the payload is staged, so the counts are known.
        extra = tag_files() if callable(tag_files) else (tag_files or {})
        for name, content in sorted(extra.items()):
            inside = _inside(name)
            if inside.parts[0] == "data":
                raise ValueError(f"tag file {name!r} would land in the payload")
            if isinstance(content, Segmented):
                tags[str(inside)] = content
            else:
                local(str(inside), content)
        # bagit's tag manifest: "<sha256> <name>" (one space), every tag file but the manifest.
        lines = sorted(f"{_pieces_sha256(tags[n].raw)[0]} {n}\n" for n in tags)
        signed = "".join(lines).encode("utf-8")
        local(TAG_MANIFEST, signed)
        if sign is not None:
            local(TAG_MANIFEST + SIGNATURE_SUFFIX, sign(signed))
        for name in sorted(tags, key=lambda name: name.split("/")):
            _zip_pieces(zipped, f"{root}/{name}", tags[name], scratch)
        zipped.close()
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
    parts: Sequence[StagedPart], zipped: ZipWriter, root: str, manifest: IO[str]
) -> tuple[int, int]:
    """Zip the parts' payload and write its manifest; returns (files, bytes) for Payload-Oxum."""
    files = size = 0
    media: set[str] = set()  # media zipped so far (their names: few next to the other files)
    for part in parts:
        with (
            open(os.path.join(part.folder, LISTING), encoding="utf-8") as listing,
            open(os.path.join(part.folder, DEFLATED), "rb") as deflated,
        ):
            for line in listing:
                digest, length, crc, compressed, path = line.rstrip("\n").split(" ", 4)
                if path.startswith(MEDIA):
                    if path in media:
                        deflated.seek(int(compressed), os.SEEK_CUR)
                        continue
                    media.add(path)
                zipped.add_deflated(
                    f"{root}/{path}", crc=int(crc), size=int(length), compressed=int(compressed),
                    chunks=_read(deflated, int(compressed)),
                )  # fmt: skip
                manifest.write(f"{digest}  {_encode_filename(path)}\n")
                files += 1
                size += int(length)
    appended = dict.fromkeys(name for part in parts for name in part.appended)
    for name in appended:
        holders = [p for p in parts if name in p.appended]
        whole = Segmented(
            raw=tuple(os.path.join(p.folder, "data", name) for p in holders),
            deflated=tuple(os.path.join(p.folder, SEGMENTS, name) for p in holders),
        )
        whole_digest, whole_size = _zip_pieces(zipped, f"{root}/data/{name}", whole, None)
        manifest.write(f"{whole_digest}  {_encode_filename('data/' + name)}\n")
        files += 1
        size += whole_size
    return files, size


def _zip_pieces(
    zipped: ZipWriter, name: str, file: Segmented, scratch: str | None
) -> tuple[str, int]:
    """Zip ``file`` as ``name``; returns its SHA-256 (hex) and size. A file with no deflated
    pieces (a tag file written here) is deflated now, into ``scratch``."""
    digest, size, crc = _pieces_sha256(file.raw)
    if file.deflated:
        pieces, tail = file.deflated, FINAL_BLOCK
    else:
        assert scratch is not None and len(file.raw) == 1
        target = os.path.join(scratch, "deflating")
        with open(target, "wb") as handle, open(file.raw[0], "rb") as source:
            deflating = Deflating(handle)
            while chunk := source.read(CHUNK):
                deflating.write(chunk)
            deflating.finish()
        pieces, tail = (target,), b""
    compressed = sum(os.path.getsize(piece) for piece in pieces) + len(tail)
    zipped.add_deflated(
        name, crc=crc, size=size, compressed=compressed, chunks=_chained(pieces, tail)
    )
    return digest, size


def _chained(pieces: Sequence[str], tail: bytes) -> Iterator[bytes]:
    for piece in pieces:
        with open(piece, "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
    if tail:
        yield tail


def _read(handle: IO[bytes], length: int) -> Iterator[bytes]:
    while length > 0:
        chunk = handle.read(min(CHUNK, length))
        if not chunk:
            raise ValueError("a staged part's deflated file ends early")
        length -= len(chunk)
        yield chunk


def _pieces_sha256(pieces: Sequence[str]) -> tuple[str, int, int]:
    """SHA-256 (hex), size and CRC-32 of the concatenation of the files ``pieces``."""
    digest = hashlib.sha256()
    size = crc = 0
    for piece in pieces:
        with open(piece, "rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                crc = zlib.crc32(chunk, crc)
                size += len(chunk)
    return digest.hexdigest(), size, crc


def _encode_filename(path: str) -> str:
    # RFC 8493 2.1.3 (and bagit): a CR or LF in a name is percent-encoded in manifests.
    return path.replace("\r", "%0D").replace("\n", "%0A")


def _inside(path: str) -> PurePosixPath:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise ValueError(f"{path!r} is not a path inside the bag")
    return pure


def _safe_name(text: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in text)
