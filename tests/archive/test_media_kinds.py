"""Which files the conversation page may show, by their own first bytes: the formats WhatsApp
carries pass, and anything else (HTML, SVG, PDF, an Ogg video) is left to download whatever it
was declared as."""

from __future__ import annotations

import pytest

from archive.media_kinds import HEAD_SIZE, sniff

OGG_PAGE = b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x13"
SAMPLES = {
    "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "gif": b"GIF89a\x01\x00\x01\x00",
    "webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    "opus": OGG_PAGE + b"OpusHead\x01\x01",
    "vorbis": OGG_PAGE + b"\x01vorbis\x00",
    "mp3-id3": b"ID3\x04\x00\x00\x00\x00\x00\x00",
    "mp3-frame": b"\xff\xfb\x90\x64\x00",
    "aac": b"\xff\xf1\x50\x80\x02\x1f\xfc",
    "m4a": b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00",
    "mp4": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00",
}


@pytest.mark.parametrize(
    ("sample", "kind", "mime_type"),
    [
        ("jpeg", "image", "image/jpeg"),
        ("png", "image", "image/png"),
        ("gif", "image", "image/gif"),
        ("webp", "image", "image/webp"),
        ("opus", "audio", "audio/ogg"),
        ("vorbis", "audio", "audio/ogg"),
        ("mp3-id3", "audio", "audio/mpeg"),
        ("mp3-frame", "audio", "audio/mpeg"),
        ("aac", "audio", "audio/aac"),
        ("m4a", "audio", "audio/mp4"),
        ("mp4", "video", "video/mp4"),
    ],
)
def test_whatsapp_media_are_shown_as_their_own_bytes_say(sample, kind, mime_type):
    preview = sniff(SAMPLES[sample][:HEAD_SIZE])
    assert preview is not None
    assert (preview.kind, preview.mime_type) == (kind, mime_type)


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        b"<?xml version='1.0'?><svg/>",
        b"<html><script>alert(document.cookie)</script></html>",
        b"\xef\xbb\xbf<!DOCTYPE html>",
        b"%PDF-1.4",
        b"RIFF\x24\x00\x00\x00AVI LIST",  # RIFF, but not WebP
        OGG_PAGE + b"\x80theora",  # an Ogg video: not a WhatsApp format
        b"\xff\xfe<\x00h\x00",  # UTF-16 text: a sync byte, then no MPEG header
        b"PK\x03\x04",
    ],
)
def test_anything_else_is_download_only(head):
    assert sniff(head) is None
