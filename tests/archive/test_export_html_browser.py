"""An auditor opens an exported transcript offline, from the unzipped bag, in a real browser: the
chat reads as text (a message holding a script shows the script as words and runs nothing), the
photo shows from the bag's media folder, and the page asks for nothing outside the bag."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from datetime import UTC, datetime

import pytest

from archive.export.bag import BagInfo, write_bag_zip
from archive.export.payload import counts, payload_files
from archive.export.records import ConversationSlice, Direction, Message

from .export_fixtures import CLIENT, EMPLOYEE, at, attachment, conversation

pytestmark = pytest.mark.browser


def one_pixel_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_an_offline_transcript_shows_a_script_as_text_and_the_photo_from_the_bag(page, tmp_path):
    messages = (
        Message(
            "wamid.1",
            "text",
            CLIENT.key,
            Direction.INBOUND,
            at(10, 9, 0),
            text="<script>alert('x')</script><img src=x onerror=alert(1)>",
        ),
        Message(
            "wamid.2",
            "image",
            EMPLOYEE.key,
            Direction.OUTBOUND,
            at(10, 9, 1),
            text="a foto",
            attachments=(attachment(one_pixel_png(), "foto.png", "image/png"),),
        ),
    )
    selections = [ConversationSlice(conversation(), messages)]
    info = BagInfo(
        "acme-br",
        "5",
        "auditor",
        "",
        "",
        None,
        None,
        datetime(2025, 4, 1, tzinfo=UTC),
        "0.1.0",
        ("html",),
        counts(selections),
    )
    out = io.BytesIO()
    write_bag_zip(
        payload_files(selections, formats=("html",), generator="test"), info=info, out=out
    )
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        archive.extractall(tmp_path)
    transcript = tmp_path / "export-acme-br-5" / "data" / "html" / "acme-br_42.html"
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requests.append(request.url))

    page.goto(transcript.as_uri())

    page.get_by_text("<script>alert('x')</script><img src=x onerror=alert(1)>").wait_for()
    photo = page.get_by_role("img", name="foto.png")
    photo.wait_for()
    page.wait_for_function("document.images[0].complete")
    assert photo.evaluate("image => image.naturalWidth") == 1
    assert dialogs == []
    assert requests and all(url.startswith("file://") for url in requests), requests
    assert page.evaluate("document.scripts.length") == 0
