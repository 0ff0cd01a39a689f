"""A zip written from entries deflated elsewhere, with its central directory spooled to disk.

Why not :mod:`zipfile`: an export of a million messages zips ~300,000 files. zipfile deflates
each one in the process that closes the zip (the payload is written by several processes, so
that deflate was the largest serial share left, docs/benchmarks.md) and keeps a ``ZipInfo`` per
entry until it closes (~900 bytes each, ~270 MB). Here an entry arrives already deflated (raw
deflate, as zipfile's own compressor writes it: :func:`deflater`) with its CRC-32 and sizes, so
its local header is written before its bytes (no data descriptor, nothing to seek back to), and
its central-directory record goes to a temporary file: memory stays flat whatever the count.

The layout is APPNOTE's (6.3.x), as zipfile writes it: fixed time (1980-01-01), Unix as the
creator, rw-r--r-- permissions, UTF-8 names flagged (bit 11) when not ASCII, ZIP64 extra fields
and end records only when a size, an offset or the count needs them. zipfile, ``unzip`` and
bagit.py read these zips (tests/archive/test_export_zipstream.py).
"""

from __future__ import annotations

import hashlib
import struct
import tempfile
import zlib
from collections.abc import Iterable
from typing import IO

# 1980-01-01 00:00:00 in DOS time and date: the earliest a zip can hold (determinism).
DOS_TIME = 0
DOS_DATE = (0 << 9) | (1 << 5) | 1
DEFLATED = 8
UNIX = 3
PERMISSIONS = 0o644 << 16  # rw-r--r--, as archive.export.zips.zip_entry sets it
UTF8_NAME = 0x800
LIMIT = 0xFFFFFFFF
COUNT_LIMIT = 0xFFFF
# The last deflate block of every entry written in segments (see SegmentedDeflate): BFINAL set,
# fixed Huffman codes, only the end-of-block code.
FINAL_BLOCK = b"\x03\x00"

_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_END64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR64 = struct.Struct("<4sLQL")


def deflater() -> zlib._Compress:
    """A raw deflate stream, as zipfile's ZIP_DEFLATED entries are written (level 6)."""
    return zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)


class Deflating:
    """A write-only stream that deflates what passes through it into ``target`` and keeps what
    a zip entry and a manifest need: CRC-32, SHA-256 (when given a hash), sizes."""

    def __init__(self, target: IO[bytes], digest: hashlib._Hash | None = None) -> None:
        self.target = target
        self.digest = digest
        self.crc = 0
        self.size = 0
        self.compressed = 0
        self._deflate = deflater()

    def write(self, data: bytes) -> int:
        if self.digest is not None:
            self.digest.update(data)
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        out = self._deflate.compress(data)
        self.compressed += len(out)
        self.target.write(out)
        return len(data)

    def finish(self, mode: int = zlib.Z_FINISH) -> None:
        """End the stream (``Z_FINISH``), or end a segment on a byte boundary
        (``Z_SYNC_FLUSH``: another deflate stream's blocks may follow; see ZipWriter.add)."""
        out = self._deflate.flush(mode)
        self.compressed += len(out)
        self.target.write(out)


class ZipWriter:
    """Entries appended to a write-only stream ``out``; :meth:`close` writes the directory."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.offset = 0
        self.count = 0
        self.directory = tempfile.TemporaryFile(prefix="zip-directory-")  # noqa: SIM115

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.offset += len(data)

    def add_deflated(
        self, name: str, *, crc: int, size: int, compressed: int, chunks: Iterable[bytes]
    ) -> None:
        """An entry whose raw deflate bytes (``compressed`` of them, for ``size`` bytes of
        content with CRC-32 ``crc``) are ``chunks``."""
        encoded, flags = _name(name)
        zip64 = size >= LIMIT or compressed >= LIMIT
        extra = struct.pack("<2H2Q", 1, 16, size, compressed) if zip64 else b""
        version = 45 if zip64 else 20
        offset = self.offset
        self._write(
            _LOCAL.pack(
                b"PK\x03\x04",
                version,
                0,
                flags,
                DEFLATED,
                DOS_TIME,
                DOS_DATE,
                crc,
                LIMIT if zip64 else compressed,
                LIMIT if zip64 else size,
                len(encoded),
                len(extra),
            )
            + encoded
            + extra
        )
        written = 0
        for chunk in chunks:
            self._write(chunk)
            written += len(chunk)
        if written != compressed:
            raise ValueError(f"{name}: {written} deflated bytes, {compressed} announced")
        # The central record's ZIP64 field holds, in this order, what did not fit in 32 bits.
        wide = [size, compressed] if zip64 else []
        if offset >= LIMIT:
            wide.append(offset)
        central_extra = struct.pack(f"<2H{len(wide)}Q", 1, 8 * len(wide), *wide) if wide else b""
        version = 45 if wide else 20
        self.directory.write(
            _CENTRAL.pack(
                b"PK\x01\x02",
                version,
                UNIX,
                version,
                0,
                flags,
                DEFLATED,
                DOS_TIME,
                DOS_DATE,
                crc,
                LIMIT if zip64 else compressed,
                LIMIT if zip64 else size,
                len(encoded),
                len(central_extra),
                0,
                0,
                0,
                PERMISSIONS,
                LIMIT if offset >= LIMIT else offset,
            )
            + encoded
            + central_extra
        )
        self.count += 1

    def add(self, name: str, content: bytes) -> None:
        """An entry of ``content``, deflated here (small files: the bag's tag files)."""
        deflate = deflater()
        data = deflate.compress(content) + deflate.flush()
        self.add_deflated(
            name, crc=zlib.crc32(content), size=len(content), compressed=len(data), chunks=[data]
        )

    def close(self) -> None:
        start = self.offset
        self.directory.seek(0)
        size = 0
        while chunk := self.directory.read(1 << 20):
            self._write(chunk)
            size += len(chunk)
        self.directory.close()
        if self.count >= COUNT_LIMIT or start >= LIMIT or size >= LIMIT:
            end64 = self.offset
            self._write(
                _END64.pack(
                    b"PK\x06\x06",
                    _END64.size - 12,
                    45,
                    45,
                    0,
                    0,
                    self.count,
                    self.count,
                    size,
                    start,
                )
            )
            self._write(_LOCATOR64.pack(b"PK\x06\x07", 0, end64, 1))
        self._write(
            _END.pack(
                b"PK\x05\x06",
                0,
                0,
                min(self.count, COUNT_LIMIT),
                min(self.count, COUNT_LIMIT),
                min(size, LIMIT),
                min(start, LIMIT),
                0,
            )
        )


def _name(name: str) -> tuple[bytes, int]:
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), UTF8_NAME


def copy_chunks(path: str, start: int = 0, length: int | None = None) -> Iterable[bytes]:
    """``length`` bytes of the file at ``path`` from ``start`` (to its end when None)."""
    with open(path, "rb") as handle:
        handle.seek(start)
        left = length
        while left is None or left > 0:
            chunk = handle.read(1 << 20 if left is None else min(1 << 20, left))
            if not chunk:
                break
            if left is not None:
                left -= len(chunk)
            yield chunk
