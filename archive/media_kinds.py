"""Which stored attachments a browser may show in the page (a preview), decided by the file's own
first bytes: never by the MIME type or the name the sender declared, since both are the sender's
words and an HTML or SVG file declared ``image/png`` would run script in our origin if shown.

Only the formats a WhatsApp conversation carries and a browser plays without plugins pass:
JPEG, PNG, GIF and WebP images (stickers are WebP), Ogg (voice notes are Ogg Opus), MP3 and AAC
audio, MP4 audio and video. Everything else is offered as a download only.

Hand-written rather than a type-guessing library: the question is a short allowlist, and a
library that recognizes hundreds of formats would still need this list on top, while its guesses
(e.g. "text/html" for a file that merely starts with a tag) are exactly what we must not trust.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MediaKind = Literal["image", "audio", "video"]

# How many leading bytes :func:`sniff` needs to decide.
HEAD_SIZE = 64


@dataclass(frozen=True)
class Preview:
    """How to show a file: the element kind and the type to serve its bytes as."""

    kind: MediaKind
    mime_type: str


_JPEG = Preview("image", "image/jpeg")
_PNG = Preview("image", "image/png")
_GIF = Preview("image", "image/gif")
_WEBP = Preview("image", "image/webp")
_OGG = Preview("audio", "audio/ogg")
_MP3 = Preview("audio", "audio/mpeg")
_AAC = Preview("audio", "audio/aac")
_MP4_AUDIO = Preview("audio", "audio/mp4")
_MP4_VIDEO = Preview("video", "video/mp4")

# ISO media brands that hold sound only (iTunes-style audio and audio books).
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B "})


def _mpeg_audio(head: bytes) -> Preview | None:
    """An MPEG audio frame header without an ID3 tag: an MP3 frame (sync, layer III, a real
    bitrate and sample rate) or an AAC ADTS frame (12 sync bits, layer 0). Checked closely
    because the sync byte alone (0xFF) also starts text such as a UTF-16 byte-order mark."""
    if len(head) < 3 or head[0] != 0xFF:
        return None
    if head[1] & 0xF6 == 0xF0:
        return _AAC
    version, layer = (head[1] >> 3) & 0x03, (head[1] >> 1) & 0x03
    bitrate, sample_rate = head[2] >> 4, (head[2] >> 2) & 0x03
    if head[1] & 0xE0 != 0xE0 or version == 1 or layer != 1:
        return None
    return _MP3 if bitrate not in (0, 15) and sample_rate != 3 else None


def sniff(head: bytes) -> Preview | None:
    """The preview of a file starting with ``head`` (its first :data:`HEAD_SIZE` bytes), or None
    when it is not one of the formats shown in the page."""
    if head.startswith(b"\xff\xd8\xff"):
        return _JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return _GIF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _WEBP
    if head.startswith(b"OggS"):
        # The first page carries the codec's header packet: Opus (voice notes) or Vorbis sound.
        # An Ogg video (Theora) is not a WhatsApp format and is left to download.
        return _OGG if b"OpusHead" in head or b"\x01vorbis" in head else None
    if head.startswith(b"ID3"):
        return _MP3
    if head[4:8] == b"ftyp":
        return _MP4_AUDIO if head[8:12] in _AUDIO_BRANDS else _MP4_VIDEO
    return _mpeg_audio(head)
