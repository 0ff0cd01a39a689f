"""Small, well-formed files for the simulated media messages: a PNG picture, a one-page PDF and
a voice note's bytes. Made here rather than shipped, so each is different (a colour, a line of
text) and the demo's archive shows distinct attachments. Pure."""

from __future__ import annotations

import struct
import zlib
from typing import NamedTuple


class MediaFile(NamedTuple):
    kind: str  # the WhatsApp message type: image, document, audio
    mime_type: str
    data: bytes
    filename: str = ""


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain-colour PNG (RFC 2083): 8-bit RGB, no filter."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height, 9)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", raw)
        + _png_chunk(b"IEND", b"")
    )


def pdf(line: str) -> bytes:
    """A one-page PDF showing ``line`` (ASCII; anything else becomes '?')."""
    text = line.encode("ascii", "replace").replace(b"\\", b"\\\\")
    text = text.replace(b"(", b"\\(").replace(b")", b"\\)")
    stream = b"BT /F1 14 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += str(number).encode() + b" 0 obj\n" + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 " + str(len(objects) + 1).encode() + b"\n0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += b"trailer\n<< /Size " + str(len(objects) + 1).encode() + b" /Root 1 0 R >>\n"
    out += b"startxref\n" + str(xref).encode() + b"\n%%EOF\n"
    return bytes(out)


def voice_note(seed: int, seconds: int = 3) -> bytes:
    """Bytes standing for a voice note: an Ogg page header then noise. Not playable audio (an
    Opus encoder is more than a demo needs); the archive keeps and hashes it like any other."""
    body = bytes((seed * 7919 + i * 104729) % 251 for i in range(seconds * 2000))
    return b"OggS\x00\x02" + seed.to_bytes(8, "big") + body
