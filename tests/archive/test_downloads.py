"""Downloading an attachment's stored bytes, from the conversation page and the API: for the
readers of the archive only, another firm's or a not-yet-stored one is a 404, the bytes are
checked against their recorded SHA-256 first (a changed file is refused and the refusal audited),
always served as a file to save, never shown, and every download is in the audit trail."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.storage import default_storage

from archive.services import download_filename, download_mime_type
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from tests.archive.attachments import attachment
from tests.fixtures import login, make_person

PDF = b"%PDF-1.4 extrato de conta\n" * 100
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def pdf(tenant_a, ana):
    return attachment(tenant_a, ana, 1, content=PDF, mime="application/pdf", filename="extrato.pdf")


def page_url(row) -> str:
    return f"/archive/attachments/{row.pk}/download/"


def api_url(row) -> str:
    return f"/api/v1/attachments/{row.pk}/download/"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def trail(tenant, action: str) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action=action).order_by("id"))


@pytest.mark.parametrize("role", [Role.OFFICER, Role.AUDITOR, Role.ADMIN])
def test_each_reader_downloads_the_stored_bytes_as_a_file_and_it_is_audited(
    client, tenant_a, pdf, role
):
    person = make_person(f"{role}@firm-a.example", tenant=tenant_a, role=role)
    login(client, person)
    response = client.get(page_url(pdf))
    assert response.status_code == 200
    assert body(response) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="extrato.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    [event] = trail(tenant_a, "archive.download")
    assert event.actor == person.user
    assert (event.target_type, event.target_id) == ("attachment", str(pdf.pk))
    assert event.details["attachment"] == pdf.pk
    assert event.details["message"] == pdf.message_id
    assert event.details["sha256"] == hashlib.sha256(PDF).hexdigest()


@pytest.mark.parametrize("role", [Role.OFFICER, Role.AUDITOR, Role.ADMIN])
def test_each_reader_downloads_through_the_api(api_client_for, tenant_a, pdf, role):
    response = api_client_for(tenant_a, role).get(api_url(pdf))
    assert response.status_code == 200
    assert body(response) == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Checksum-SHA256"] == hashlib.sha256(PDF).hexdigest()
    [event] = trail(tenant_a, "archive.download")
    assert event.details["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert event.details["endpoint"] == api_url(pdf)


def test_another_firm_gets_404_and_nothing_is_audited(
    client, api_client_for, tenant_a, tenant_b, pdf, bob
):
    login(client, bob)
    assert client.get(page_url(pdf)).status_code == 404
    response = api_client_for(tenant_b, Role.ADMIN).get(api_url(pdf))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert trail(tenant_a, "archive.download") == []
    assert trail(tenant_b, "archive.download") == []


def test_an_attachment_not_stored_yet_is_404_like_a_missing_one(
    client, api_client_for, tenant_a, ana, audrey
):
    pending = attachment(tenant_a, ana, 2, content=None, mime="image/jpeg", filename="")
    login(client, audrey)
    assert client.get(page_url(pending)).status_code == 404
    assert client.get("/archive/attachments/999999/download/").status_code == 404
    assert api_client_for(tenant_a, Role.AUDITOR).get(api_url(pending)).status_code == 404
    assert trail(tenant_a, "archive.download") == []


def test_a_stored_html_file_is_saved_never_shown(client, tenant_a, ana, audrey):
    page = attachment(tenant_a, ana, 3, content=HTML, mime="text/html", filename='x"\r\n<b>.html')
    login(client, audrey)
    response = client.get(page_url(page))
    assert response.status_code == 200
    assert body(response) == HTML
    assert response["Content-Type"] == "text/html"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "\n" not in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_changed_file_is_refused_with_a_clear_page_and_the_refusal_audited(
    client, api_client_for, tenant_a, pdf, audrey, caplog
):
    with default_storage.open(pdf.file.name, "wb") as stored:
        stored.write(PDF.replace(b"extrato", b"EXTRATO"))
    login(client, audrey)
    with caplog.at_level("ERROR", logger="archive.services"):
        response = client.get(page_url(pdf))
    assert response.status_code == 409
    assert b"cannot be downloaded" in response.content
    assert b"EXTRATO" not in response.content
    assert "refused for download" in caplog.text
    [refusal] = trail(tenant_a, "archive.download_refused")
    assert refusal.actor == audrey.user
    assert refusal.details["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert refusal.details["found_sha256"] != refusal.details["sha256"]

    api = api_client_for(tenant_a, Role.AUDITOR).get(api_url(pdf))
    assert api.status_code == 409
    assert "verify_archive" in api.json()["error"]["message"]
    assert len(trail(tenant_a, "archive.download_refused")) == 2
    assert trail(tenant_a, "archive.download") == []


def test_the_conversation_page_links_each_stored_attachment(client, tenant_a, ana, pdf, audrey):
    pending = attachment(tenant_a, ana, 2, content=None, mime="image/jpeg", filename="foto.jpg")
    with tenant_scope(tenant_a):
        conversation_id = pdf.message.conversation_id
    login(client, audrey)
    response = client.get(f"/archive/conversations/{conversation_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{page_url(pdf)}"' in html
    assert page_url(pending) not in html
    assert "foto.jpg" in html


@pytest.mark.parametrize(
    ("filename", "mime", "expected"),
    [
        ("extrato.pdf", "application/pdf", "extrato.pdf"),
        ("../../etc/passwd", "text/plain", "passwd"),
        ("C:\\Users\\ana\\foto.jpg", "image/jpeg", "foto.jpg"),
        ('a"b\r\nc.txt', "text/plain", "a_b_c.txt"),
        ("", "image/jpeg", "attachment-7.jpg"),
        ("...", "application/x-unknown", "attachment-7.bin"),
    ],
)
def test_download_names_are_safe(filename, mime, expected):
    assert download_filename(filename=filename, mime_type=mime, attachment_id=7) == expected


def test_a_mime_type_that_is_not_plain_is_served_as_bytes():
    assert download_mime_type("image/jpeg; codecs=x") == "image/jpeg"
    assert download_mime_type("text/html\r\nSet-Cookie: a=b") == "application/octet-stream"
    assert download_mime_type("") == "application/octet-stream"


def test_a_file_larger_than_memory_s_share_streams_whole(client, tenant_a, ana, audrey):
    video = bytes(range(256)) * 6000  # 1.5 MB: the verified copy goes to a temporary file
    row = attachment(tenant_a, ana, 4, content=video, mime="video/mp4", filename="")
    login(client, audrey)
    response = client.get(page_url(row))
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(video))
    assert response["Content-Disposition"] == f'attachment; filename="attachment-{row.pk}.mp4"'
    assert body(response) == video
