"""The .eml files without attachments are written directly (archive.export.eml.
alternative_document), not by the ``email`` package's generator: the bytes must stay the ones the
library writes, on input that exercises its folding, address and quoted-printable rules."""

from __future__ import annotations

from dataclasses import replace
from email.headerregistry import Address

import pytest

from archive.export import eml
from archive.export.media import distinct_media

from .export_fixtures import every_kind

AWKWARD_TEXT = (
    "WhatsApp conversation: José Álvarez ↔ Zoë\n"
    "A line ending in spaces   \n"
    "A tab\tinside and one at the end\t\n"
    "= signs = everywhere =3D and a soft break " + "x" * 120 + "\n"
    "From the start of a line\n.\n\n"
    "Emoji 📈🚀 and accents: ação, naïve, Straße, ½\n"
    "Windows line\r\nOld Mac line\rend\n" + "é" * 40 + "\n" + "ü" * 80
)
AWKWARD_HTML = '<p class="x">Ação &amp; <b>naïve</b></p>\n' * 30 + "<p>" + "=" * 100 + "</p>"


def headers(name: str, subject: str, others: list[Address]) -> list[tuple[str, object]]:
    custodian = Address(display_name=name, addr_spec="ana@firm.example")
    return [
        ("From", custodian),
        ("To", others or [custodian]),
        ("Subject", subject),
        ("Date", "Mon, 10 Mar 2025 12:00:00 +0000"),
        ("Message-ID", "<abc@eml.compliance-hub.invalid>"),
        ("X-WhatsApp-ChatName", subject),
        ("X-ComplianceHub-Custodian", name),
    ]


CASES = {
    "plain": (headers("Ana Souza", "WhatsApp, 2 Users", []), "Hello\n", "<p>Hello</p>\n"),
    "non-ASCII names and a long subject": (
        headers(
            "José Álvarez",
            "WhatsApp, 3 Users, 9 Messages, 4 Minutes: " + "Ação ordinária PETR4, " * 60,
            [
                Address(display_name="Zoë O'Brien, Jr.", addr_spec="5511999990000@s.whatsapp.net"),
                Address(display_name='María "Mari" Núñez', addr_spec="client-1@whatsapp.invalid"),
                Address(display_name="客户 🚀", addr_spec="5511888880000@s.whatsapp.net"),
            ],
        ),
        AWKWARD_TEXT,
        AWKWARD_HTML,
    ),
    "no final newlines": (headers("Ana", "S" * 80, []), "no newline", "<p>none</p>"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_direct_writer_writes_the_email_packages_bytes(case):
    header_list, text, html = case
    boundary = "eml-0123456789abcdef0123456789abcdef-0"

    direct = eml.alternative_document(header_list, text, html, boundary)

    assert direct == eml.alternative_document_by_email(header_list, text, html, boundary)


def test_a_day_without_media_gives_the_file_the_email_package_wrote(monkeypatch):
    selection = every_kind()
    plain = replace(
        selection, messages=tuple(m for m in selection.messages if not distinct_media([m]))
    )
    assert len(plain.messages) >= 5
    direct = [f.content for f in eml.eml_files(plain, generator="Compliance Hub 0.1.0")]
    monkeypatch.setattr(eml, "alternative_document", eml.alternative_document_by_email)

    by_email = [f.content for f in eml.eml_files(plain, generator="Compliance Hub 0.1.0")]

    assert direct == by_email
