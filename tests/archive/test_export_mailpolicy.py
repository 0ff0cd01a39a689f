"""The header shortcuts of archive/export/mailpolicy.py give exactly the email package's bytes:
plain unstructured values (any script) written as they are, the writers' Date, Message-ID and
multipart Content-Type shapes written as they are, address headers kept per list of addresses."""

from __future__ import annotations

from datetime import UTC, datetime
from email.headerregistry import Address
from email.utils import format_datetime

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
    assert mailpolicy._plain("Subject", "WhatsApp: José Álvarez and Zoë 👍 (2026-03-01)")
    assert not mailpolicy._plain("Subject", "no\xa0break")  # a non-ASCII space
    assert not mailpolicy._plain("Subject", "joiner\u200d")  # a format character
    assert not mailpolicy._plain("Subject", "ç" * 997)  # over the line, counted in characters
    assert not mailpolicy._plain("Subject", "x" * 1000)
    assert not mailpolicy._plain("Date", "Mon, 07 Dec 2026 01:00:00 +0000")  # structured
    assert not mailpolicy._plain("Message-ID", "<a@b.invalid>")
    assert mailpolicy._verbatim("Date", "Mon, 07 Dec 2026 01:00:00 +0000")
    assert not mailpolicy._verbatim("Date", "Mon, 31 Feb 2026 01:00:00 +0000")  # no such day
    assert not mailpolicy._verbatim("Date", "Sun, 07 Dec 2026 01:00:00 +0000")  # wrong weekday
    assert mailpolicy._verbatim("Message-ID", "<a@b.invalid>")
    assert mailpolicy._verbatim("Content-Type", 'multipart/mixed; boundary="rsmf-0a-1"')
    assert not mailpolicy._verbatim("Content-Type", 'text/plain; boundary="x"')
    assert not mailpolicy._verbatim("Subject", 'multipart/mixed; boundary="x"')


# Every character but surrogates (the library refuses them) and line breaks (a header is one
# line); long enough to cross the 998-character line.
LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
any_script = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters=LINE_BREAKS), max_size=1000
)
words = st.lists(
    st.text(st.characters(blacklist_categories=("Cs", "Z", "Cc")), min_size=1, max_size=12),
    min_size=1,
    max_size=90,
).map(" ".join)


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(NAMES), value=st.one_of(words, any_script))
def test_values_in_any_script_are_written_as_the_library_writes_them(name: str, value: str) -> None:
    assert mailpolicy.header_bytes(name, value) == library(name, value)


@settings(max_examples=300, deadline=None)
@given(moment=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 1, 1)))
def test_dates_as_the_writers_give_them_are_the_librarys_bytes(moment: datetime) -> None:
    value = format_datetime(moment.replace(tzinfo=UTC))
    assert mailpolicy._verbatim("Date", value)
    assert mailpolicy.header_bytes("Date", value) == library("Date", value)


date_like = st.from_regex(
    r"\A(Mon|Sun|Fri), [0-3]\d (Jan|Feb|Dec) (0000|1999|2026) [0-2]\d:[0-5]\d:[0-6]\d [+-]0[01]00\Z"
)


@settings(max_examples=300, deadline=None)
@given(value=date_like)
def test_date_lookalikes_match_the_library(value: str) -> None:
    assert mailpolicy.header_bytes("Date", value) == library("Date", value)


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(
        st.from_regex(r"\A<[0-9a-z]{1,70}@[a-z0-9-]{1,70}(\.[a-z0-9-]{1,70}){0,5}>\Z"),
        st.from_regex(r"\A<[0-9A-Za-z_-]{1,20}@[0-9A-Za-z._-]{1,20}>\Z"),
    )
)
def test_message_ids_match_the_library(value: str) -> None:
    assert mailpolicy.header_bytes("Message-ID", value) == library("Message-ID", value)


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(
        st.from_regex(r'\Amultipart/(mixed|alternative); boundary="[0-9a-z-]{1,110}"\Z'),
        st.from_regex(r'\Amultipart/(mixed|alternative); boundary="[ -~]{1,30}"\Z'),
    )
)
def test_multipart_content_types_match_the_library(value: str) -> None:
    assert mailpolicy.header_bytes("Content-Type", value) == library("Content-Type", value)


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
