"""The export's own quoted-printable encoder (archive/export/mailpolicy.py) and its cache of UTC
times (archive/export/records.py) give exactly what they replace: the email package's
``quoprimime.body_encode`` and the plain ``isoformat`` of the time in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from archive.export import mailpolicy
from archive.export.records import utc_text

# Lines of every length around the 78-character limit, with "=", trailing spaces and tabs,
# non-ASCII (escaped as several "=XX"), every kind of line break, and control characters.
pieces = st.sampled_from(
    ["a", "=", " ", "\t", "é", "👍", "\r", "\n", "\r\n", "\x0b", "\x85", "\u2028", "\x00", "~"]
)
awkward = st.lists(st.one_of(pieces, st.text(max_size=5)), max_size=400).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(awkward, st.text(max_size=300)))
def test_quoted_printable_is_the_librarys(text: str) -> None:
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return  # not UTF-8 encodable: neither writer is ever given one
    assert mailpolicy.quoted_printable(text) == mailpolicy.quoted_printable_by_email(text)


def test_quoted_printable_edges() -> None:
    for text in ("", "\n", " ", "x" * 76 + " ", "x" * 77 + "\t", "x" * 78 + " ", "x" * 76 + "é"):
        assert mailpolicy.quoted_printable(text) == mailpolicy.quoted_printable_by_email(text)
    assert mailpolicy.quoted_printable("a = b \n") == b"a =3D b=20\r\n"


def reference(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=-3)), ZoneInfo("Europe/London"), ZoneInfo("America/Sao_Paulo")]
)


@settings(max_examples=300, deadline=None)
@given(moment=st.datetimes(timezones=zones), fold=st.sampled_from([0, 1]))
def test_utc_text_is_the_isoformat_in_utc_each_time(moment: datetime, fold: int) -> None:
    moment = moment.replace(fold=fold)
    assert utc_text(moment) == reference(moment)
    assert utc_text(moment) == reference(moment)  # from the kept texts when in UTC


def test_equal_wall_times_in_a_zone_are_not_confused() -> None:
    # 01:30 on the night London's clocks go back: two instants an hour apart, equal as keys.
    london = ZoneInfo("Europe/London")
    first = datetime(2026, 10, 25, 1, 30, tzinfo=london)
    second = first.replace(fold=1)
    assert utc_text(first) == "2026-10-25T00:30:00Z"
    assert utc_text(second) == "2026-10-25T01:30:00Z"
