"""The EML writer: one journaled e-mail per conversation per UTC day that a mail archive files
under the employee, with the transcript, every version and event, and the media attached."""

from __future__ import annotations

import email
import email.policy

from archive.export.eml import eml_files
from archive.export.media import media_name

from .export_fixtures import PDF, PHOTO, VOICE, every_kind, every_kind_of_message


def parsed(content: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(content, policy=email.policy.default)


def test_one_mail_per_day_with_the_journaling_headers_archives_file_it_by():
    files = list(eml_files(every_kind(), generator="Compliance Hub 0.1.0"))

    assert [f.name for f in files] == ["acme-br_42_2025-03-10.eml", "acme-br_42_2025-03-11.eml"]
    mail = parsed(files[0].content)
    assert mail["From"].addresses[0].addr_spec == "ana.souza@acme-securities.example"
    assert mail["To"].addresses[0].display_name == "Carlos Silva"
    assert mail["To"].addresses[0].addr_spec == "5521998760002@s.whatsapp.net"
    assert mail["Subject"] == (
        "WhatsApp, 2 Users, 15 Messages, 21 Minutes: Carlos Silva ↔ Ana Souza (2025-03-10)"
    )
    assert mail["Date"] == "Mon, 10 Mar 2025 12:02:31 +0000"
    assert mail["X-GlobalRelay-MsgType"] == "WhatsApp"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["X-WhatsApp-ChatType"] == "direct"
    assert mail["X-WhatsApp-ChatID"] == "5521998760002"
    assert mail["X-ComplianceHub-Tenant"] == "acme-br"
    assert mail["X-ComplianceHub-MessageCount"] == "15"
    assert mail["X-ComplianceHub-BeginDate"] == "2025-03-10T12:02:31Z"
    assert mail["X-ComplianceHub-EndDate"] == "2025-03-10T12:24:00Z"
    assert mail["Message-ID"].endswith("@eml.compliance-hub.invalid>")
    assert parsed(files[1].content)["X-ComplianceHub-MessageCount"] == "2"


def test_the_body_keeps_every_version_and_the_media_travel_as_attachments():
    mail = parsed(next(eml_files(every_kind(), generator="test")).content)

    text = mail.get_body(("plain",)).get_content()
    for message in every_kind_of_message()[:15]:
        for version in message.versions:
            assert version in text
    assert "deleted for everyone at 2025-03-10T12:19:00Z by Carlos Silva" in text
    assert "Carlos Silva removed their reaction" not in text  # it was Ana's reaction
    assert "Ana Souza (Acme Securities) removed their reaction" in text
    assert "clip.mp4, video/mp4, 0 bytes, SHA-256 - (not captured)" in text

    attached = {part.get_filename(): part for part in mail.iter_attachments()}
    assert attached["ordem_PETR4.png"].get_content() == PHOTO
    assert attached["nota.pdf"].get_content() == PDF
    assert attached["nota.pdf"].get_content_type() == "application/pdf"
    voice = next(p for p in attached.values() if p.get_content_type() == "audio/ogg")
    assert voice.get_content() == VOICE
    assert "clip.mp4" not in attached

    # The HTML alternative shows the media through the attached parts, nothing outside.
    html = mail.get_body(("html",)).get_content()
    for part in attached.values():
        cid = part["Content-ID"].strip("<>")
        assert f"cid:{cid}" in html
    assert media_name(every_kind_of_message()[2].attachments[0]) in html


def test_the_same_input_gives_byte_identical_mails():
    first = [f.content for f in eml_files(every_kind(), generator="test")]
    second = [f.content for f in eml_files(every_kind(), generator="test")]

    assert first == second
    boundaries = {p.get_boundary() for p in parsed(first[0]).walk() if p.is_multipart()}
    assert len(boundaries) == 2
    assert all(b.startswith("eml-") for b in boundaries)
