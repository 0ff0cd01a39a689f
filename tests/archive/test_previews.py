"""Photos, stickers, voice notes and video shown in the conversation page: served inline only when
the file's own bytes are one of those formats (an HTML or SVG file declared as a photo is offered
as a download only), through the same SHA-256-checked read as downloads, for the archive's readers
only, another firm's a 404; audited once per reader, attachment and day."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from tests.archive.attachments import attachment, png
from tests.fixtures import login, make_person

OPUS = b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x13OpusHead\x01\x01\x38\x01" + b"\x00" * 200
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 200
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 200
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 100
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
SVG = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def preview_url(row) -> str:
    return f"/archive/attachments/{row.pk}/preview/"


def conversation_url(tenant, row) -> str:
    with tenant_scope(tenant):
        return f"/archive/conversations/{row.message.conversation_id}/"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def trail(tenant, action: str) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action=action).order_by("id"))


@pytest.fixture
def photo(tenant_a, ana):
    return attachment(
        tenant_a, ana, 1, content=png(), mime="image/png", filename="", message_type="image"
    )


@pytest.mark.parametrize(
    ("content", "declared", "message_type", "served_as"),
    [
        (png(), "image/png", "image", "image/png"),
        (JPEG, "image/jpeg", "image", "image/jpeg"),
        (WEBP, "image/webp", "sticker", "image/webp"),
        (OPUS, "audio/ogg; codecs=opus", "audio", "audio/ogg"),
        (MP3, "audio/mpeg", "audio", "audio/mpeg"),
        (MP4, "video/mp4", "video", "video/mp4"),
        # The declared type is not what decides: a JPEG sent as a "document" still shows.
        (JPEG, "application/octet-stream", "document", "image/jpeg"),
    ],
)
def test_each_kind_is_shown_inline_as_its_own_bytes_say(
    client, tenant_a, ana, audrey, content, declared, message_type, served_as
):
    row = attachment(
        tenant_a, ana, 1, content=content, mime=declared, filename="", message_type=message_type
    )
    login(client, audrey)
    response = client.get(preview_url(row))
    assert response.status_code == 200
    assert body(response) == content
    assert response["Content-Type"] == served_as
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("content", [HTML, SVG], ids=["html", "svg"])
def test_html_or_svg_declared_as_a_photo_is_never_shown(client, tenant_a, ana, audrey, content):
    row = attachment(
        tenant_a, ana, 1, content=content, mime="image/png", filename="foto.png",
        message_type="image",
    )  # fmt: skip
    login(client, audrey)
    response = client.get(preview_url(row))
    assert response.status_code == 415
    assert response["Content-Type"].startswith("text/html")  # our page, not the file
    assert content not in response.content
    assert b"offered as a download only" in response.content
    assert f'href="/archive/attachments/{row.pk}/download/"'.encode() in response.content
    assert trail(tenant_a, "archive.preview") == []

    page = client.get(conversation_url(tenant_a, row)).content.decode()
    assert preview_url(row) not in page
    assert "<img" not in page
    assert f'href="/archive/attachments/{row.pk}/download/"' in page


def test_a_changed_file_is_refused_and_the_refusal_audited(client, tenant_a, photo, audrey, caplog):
    with default_storage.open(photo.file.name, "wb") as stored:
        stored.write(png(3, 3))
    login(client, audrey)
    with caplog.at_level("ERROR", logger="archive.services"):
        response = client.get(preview_url(photo))
    assert response.status_code == 409
    assert b"no longer matches" in response.content
    assert "refused for preview" in caplog.text
    [refusal] = trail(tenant_a, "archive.download_refused")
    assert refusal.actor == audrey.user
    assert refusal.details["purpose"] == "preview"
    assert refusal.details["found_sha256"] != refusal.details["sha256"]
    assert trail(tenant_a, "archive.preview") == []


@pytest.mark.parametrize("role", [Role.OFFICER, Role.AUDITOR, Role.ADMIN])
def test_each_reader_sees_previews(client, tenant_a, photo, role):
    person = make_person(f"{role}@firm-a.example", tenant=tenant_a, role=role)
    login(client, person)
    assert client.get(preview_url(photo)).status_code == 200


def test_a_visitor_who_is_not_logged_in_is_sent_to_log_in(client, photo):
    response = client.get(preview_url(photo))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_another_firm_and_a_pending_attachment_get_404(client, tenant_a, tenant_b, ana, photo, bob):
    login(client, bob)
    assert client.get(preview_url(photo)).status_code == 404
    assert trail(tenant_a, "archive.preview") == []
    assert trail(tenant_b, "archive.preview") == []
    pending = attachment(tenant_a, ana, 2, content=None, mime="image/jpeg", filename="")
    client.logout()
    login(client, make_person("o2@firm-a.example", tenant=tenant_a, role=Role.OFFICER))
    assert client.get(preview_url(pending)).status_code == 404
    assert client.get("/archive/attachments/999999/preview/").status_code == 404


def test_a_preview_is_audited_once_per_reader_and_day(client, tenant_a, photo, audrey, oscar):
    login(client, audrey)
    for _ in range(3):
        assert client.get(preview_url(photo)).status_code == 200
    [event] = trail(tenant_a, "archive.preview")
    assert event.actor == audrey.user
    assert (event.target_type, event.target_id) == ("attachment", str(photo.pk))
    assert event.details["sha256"] == hashlib.sha256(png()).hexdigest()
    assert event.details["mime_type"] == "image/png"
    client.logout()
    login(client, oscar)
    client.get(preview_url(photo))
    assert [e.actor for e in trail(tenant_a, "archive.preview")] == [audrey.user, oscar.user]


def test_the_page_shows_each_kind_with_its_element_and_keeps_the_download(
    client, tenant_a, ana, audrey
):
    photo = attachment(tenant_a, ana, 1, content=png(), mime="image/png", filename="",
                       message_type="image")  # fmt: skip
    sticker = attachment(tenant_a, ana, 2, content=WEBP, mime="image/webp", filename="",
                         message_type="sticker")  # fmt: skip
    voice = attachment(tenant_a, ana, 3, content=OPUS, mime="audio/ogg; codecs=opus",
                       filename="", message_type="audio")  # fmt: skip
    video = attachment(tenant_a, ana, 4, content=MP4, mime="video/mp4", filename="clip.mp4",
                       message_type="video")  # fmt: skip
    pending = attachment(tenant_a, ana, 5, content=None, mime="image/jpeg", filename="late.jpg",
                         message_type="image")  # fmt: skip
    login(client, audrey)
    html = client.get(conversation_url(tenant_a, photo)).content.decode()
    assert f'<img src="{preview_url(photo)}" loading="lazy" alt="Photo" class="photo">' in html
    assert f'<img src="{preview_url(sticker)}" loading="lazy" alt="Photo" class="sticker">' in html
    assert f'<audio controls preload="none" src="{preview_url(voice)}"' in html
    assert f'<video controls preload="none" src="{preview_url(video)}"' in html
    for row in (photo, sticker, voice, video):
        assert f'href="/archive/attachments/{row.pk}/download/"' in html
    assert preview_url(pending) not in html
    assert "late.jpg" in html
    assert html.count("<img") == 2
    # Showing the page serves no bytes: nothing is audited as a preview until one is fetched.
    assert trail(tenant_a, "archive.preview") == []
