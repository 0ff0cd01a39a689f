"""The header shortcuts of archive/export/mailpolicy.py give exactly the email package's bytes:
plain unstructured values written as they are, address headers kept per list of addresses."""

from __future__ import annotations

from email.headerregistry import Address

from hypothesis import given, settings
from hypothesis import strategies as st

from archive.export import mailpolicy

NAMES = ["Subject", "X-RSMF-BeginDate", "X-ComplianceHub-Day", "X-WhatsApp-ChatName", "Precedence"]


def library(name: str, value: object) -> bytes:
    policy = mailpolicy.HEADER_POLICY
    return policy.fold_binary(name, mailpolicy.POLICY.header_store_parse(name, value)[1])


printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120)


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(NAMES), value=printable)
def test_plain_values_are_written_as_the_library_writes_them(name: str, value: str) -> None:
    assert mailpolicy.header_bytes(name, value) == library(name, value)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(NAMES), value=st.text(max_size=60))
def test_any_other_value_still_matches_the_library(name: str, value: str) -> None:
    if len(value.splitlines()) > 1 or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        return  # the library refuses these for every header; so do we (not the question here)
    assert mailpolicy.header_bytes(name, value) == library(name, value)


def test_the_shortcut_is_taken_only_where_it_is_safe() -> None:
    assert mailpolicy._plain("Subject", "WhatsApp, 2 Users, 7 Messages: Acme (2026-12-07)")
    assert not mailpolicy._plain("Subject", "two  spaces")
    assert not mailpolicy._plain("Subject", " leading")
    assert not mailpolicy._plain("Subject", "=?utf-8?q?x?=")
    assert not mailpolicy._plain("Subject", "ações")
    assert not mailpolicy._plain("Subject", "x" * 1000)
    assert not mailpolicy._plain("Date", "Mon, 07 Dec 2026 01:00:00 +0000")  # structured
    assert not mailpolicy._plain("Message-ID", "<a@b.invalid>")


ADDRESSES = [
    Address(display_name="Ana Souza", addr_spec="ana@firm.example"),
    Address(display_name='João "Jo" Ção, Jr.', addr_spec="5511987650000@s.whatsapp.net"),
    Address(display_name="", addr_spec="client-1@whatsapp.invalid"),
]


def test_address_headers_are_the_librarys_bytes_each_time() -> None:
    for name in ("From", "To"):
        for value in (ADDRESSES[0], ADDRESSES[1], ADDRESSES, ADDRESSES[1:]):
            expected = library(name, value)
            assert mailpolicy.header_bytes(name, value) == expected
            assert mailpolicy.header_bytes(name, value) == expected  # from the kept bytes
    # The same people under another header name are not confused with the first.
    assert mailpolicy.header_bytes("Cc", ADDRESSES).startswith(b"Cc: ")
