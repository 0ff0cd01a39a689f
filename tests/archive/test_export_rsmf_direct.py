"""The .rsmf files' MIME structure is written directly (archive.export.rsmf.mime_document), not by
the ``email`` package's generator: the bytes must stay the ones the library writes, on input
that exercises its folding, address and quoted-printable rules."""

from __future__ import annotations

import os
from email.headerregistry import Address

import pytest

from archive.export import rsmf

from .export_fixtures import every_kind

LONG_SUBJECT = "WhatsApp: " + "Ação ordinária PETR4, " * 60 + "(2025-03-10)"  # > 998 characters
AWKWARD_BODY = (
    "WhatsApp conversation: José Álvarez ↔ Zoë\n"
    "A line ending in spaces   \n"
    "A tab\tinside and one at the end\t\n"
    "= signs = everywhere =3D and a soft break test " + "x" * 120 + "\n"
    "From the start of a line\n"
    ".\n"
    "\n"
    "Emoji 📈🚀 and accents: ação, naïve, Straße, ½\n"
    "Windows line\r\nOld Mac line\rend\n" + "é" * 40 + "\n" + "long word without spaces " + "ü" * 80
)


def headers(name: str, subject: str, others: list[Address]) -> list[tuple[str, object]]:
    custodian = Address(display_name=name, addr_spec="ana@firm.example")
    return [
        ("From", custodian),
        ("To", others or [custodian]),
        ("Subject", subject),
        ("Date", "Mon, 10 Mar 2025 12:00:00 +0000"),
        ("Message-ID", "<abc@rsmf.compliance-hub.invalid>"),
        ("X-RSMF-Version", "2.0.0"),
        ("X-RSMF-Custodian", name),
        ("X-RSMF-Participants", ", ".join([name, *(a.display_name for a in others)])),
        ("X-RSMF-EventCollectionID", "acme-br:whatsapp:42"),
    ]


CASES = {
    "plain": (
        headers("Ana Souza", "WhatsApp: Ana and a client (2025-03-10)", []),
        "Hello\n",
        b"PK\x05\x06" + bytes(18),
    ),
    "non-ASCII names and a long subject": (
        headers(
            "José Álvarez",
            LONG_SUBJECT,
            [
                Address(display_name="Zoë O'Brien, Jr.", addr_spec="5511999990000@s.whatsapp.net"),
                Address(display_name='María "Mari" Núñez', addr_spec="client-1@whatsapp.invalid"),
                Address(display_name="客户 🚀", addr_spec="5511888880000@s.whatsapp.net"),
            ],
        ),
        AWKWARD_BODY,
        os.urandom(57 * 3 + 1),
    ),
    "subject of 80 characters and an empty archive line": (
        headers("Ana", "S" * 80, [Address(display_name="", addr_spec="x@whatsapp.invalid")]),
        "no newline at the end",
        b"",
    ),
    "a large archive": (
        headers("Ana", "Subject", []),
        "=\n" * 500,
        os.urandom(200_000),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_direct_writer_writes_the_email_packages_bytes(case):
    header_list, body, archive = case
    boundary = "rsmf-0123456789abcdef0123456789abcdef"

    direct = rsmf.mime_document(header_list, body, archive, boundary)

    assert direct == rsmf.mime_document_by_email(header_list, body, archive, boundary)


def test_every_kind_of_message_gives_the_files_the_email_package_wrote(monkeypatch):
    direct = [f.content for f in rsmf.rsmf_files(every_kind(), generator="Compliance Hub 0.1.0")]
    monkeypatch.setattr(rsmf, "mime_document", rsmf.mime_document_by_email)

    by_email = [f.content for f in rsmf.rsmf_files(every_kind(), generator="Compliance Hub 0.1.0")]

    assert direct == by_email
    assert len(direct) == 2
