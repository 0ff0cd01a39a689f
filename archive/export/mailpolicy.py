"""The e-mail policy of the RSMF and .eml writers: SMTPUTF8 (raw UTF-8 headers: RFC 2047 words
draw Relativity's validator warnings), with a header registry that builds each header class once.

The standard library's :class:`~email.headerregistry.HeaderRegistry` creates a new class with
``type()`` for every header it parses or sets; measured by bench/export.py that was about a
third of the time of writing an RSMF or .eml file. The classes it makes for a name are
interchangeable (no state lives on them), so one per name gives the same bytes.

Most headers of an export's files repeat from file to file (a conversation's From, To,
participants, custodian and collection id on each of its days; the MIME parts' Content-Type,
Content-Transfer-Encoding, Content-Disposition on every file), and parsing a header value into
its token tree, then folding that tree back, was most of the rest of that time (cProfile over
bench/export.py). :class:`CachingPolicy` parses a given text once (a bounded cache: header
objects are immutable) and keeps each header object's folded bytes on it, so a repeated header
costs a dictionary lookup; the bytes are the library's own (tests/archive/test_export_rsmf.py).
"""

from __future__ import annotations

import binascii
import email.policy
import re
from collections import OrderedDict
from email import quoprimime
from email.headerregistry import (
    Address,
    BaseHeader,
    DateHeader,
    HeaderRegistry,
    MessageIDHeader,
    UnstructuredHeader,
)
from email.policy import EmailPolicy
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

PARSED_KEPT = 256  # (name, text) pairs kept parsed, least recently used dropped (~5 KB each)


class CachedHeaderRegistry(HeaderRegistry):
    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


_parsed: OrderedDict[tuple[str, str], Any] = OrderedDict()


class CachingPolicy(EmailPolicy):
    """An :class:`EmailPolicy` that parses a header's text once and folds a header object once
    per folding setting (same bytes: both steps are pure functions of their input)."""

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if type(value) is not str:  # Address lists, header objects: the library's way
            return super().header_store_parse(name, value)
        key = (name.lower(), value)
        parsed = _parsed.get(key)
        if parsed is not None:
            _parsed.move_to_end(key)
        else:
            parsed = super().header_store_parse(name, value)[1]
            _parsed[key] = parsed
            if len(_parsed) > PARSED_KEPT:
                _parsed.popitem(last=False)
        return (name, parsed)

    def fold_binary(self, name: str, value: Any) -> bytes:
        setting = (name, self.max_line_length, self.linesep, self.utf8, self.cte_type,
                   self.refold_source)  # fmt: skip
        kept = getattr(value, "_ch_folded", None)
        if kept is not None and kept[0] == setting:
            folded: bytes = kept[1]
            return folded
        folded = super().fold_binary(name, value)
        if isinstance(value, BaseHeader):
            value._ch_folded = (setting, folded)  # type: ignore[attr-defined]
        return folded


POLICY = CachingPolicy(**email.policy.SMTPUTF8.__dict__).clone(
    header_factory=CachedHeaderRegistry()
)
# Headers written unfolded up to RFC 5322's 998-character line limit: a folded X-RSMF header reads
# back with the fold's whitespace, and Relativity compares some of them exactly.
HEADER_POLICY = POLICY.clone(max_line_length=998)
# The body line length set_content encodes to (SMTPUTF8's 78).
BODY_LINE_LENGTH: int = POLICY.max_line_length or 78


def header_bytes(name: str, value: object) -> bytes:
    """A header as ``EmailMessage`` stores it (parsed by POLICY) and its generator writes it
    (folded by HEADER_POLICY): for the writers that lay out the MIME structure themselves.

    Shortcuts give the library's bytes without its parser, which was a third of an export's
    CPU (cProfile of bench/export.py, 2026-12-07), then a seventh (after the first two):
    a plain unstructured value (printable words, in any script, separated by single spaces, no
    encoded-word marker, one line) is written as it is, which is what parsing and refolding it
    gives under this UTF-8 policy; so are the exact shapes the writers give the Date (as
    ``format_datetime`` writes it), Message-ID and multipart Content-Type headers, each unique
    to its file; and an address header's bytes are kept per list of addresses (a
    conversation's From and To repeat on each of its days).
    tests/archive/test_export_mailpolicy.py checks each against the library."""
    if type(value) is str and (_plain(name, value) or _verbatim(name, value)):
        return f"{name}: {value}\r\n".encode()
    key = _address_key(name, value)
    if key is not None:
        folded = _addresses.get(key)
        if folded is None:
            folded = HEADER_POLICY.fold_binary(name, POLICY.header_store_parse(name, value)[1])
            if len(_addresses) >= PARSED_KEPT:
                _addresses.pop(next(iter(_addresses)))
            _addresses[key] = folded
        return folded
    return HEADER_POLICY.fold_binary(name, POLICY.header_store_parse(name, value)[1])


# Words of non-space characters separated by single ASCII spaces; with str.isprintable (no
# control, format, private-use, unassigned or non-ASCII space characters) the parser's
# unstructured tokens are exactly these words, and the UTF-8 policy writes them unencoded.
_PLAIN_VALUE = re.compile(r"[^\s]+(?: [^\s]+)*")
_HEADER_LINE = HEADER_POLICY.max_line_length or 998
_REGISTRY = CachedHeaderRegistry()  # the header classes POLICY's factory makes
_unstructured: dict[str, bool] = {}
_addresses: dict[tuple[object, ...], bytes] = {}
# The writers' own shapes of three structured headers (tests/archive/test_export_mailpolicy.py
# compares each with the library, which writes them back unchanged).
_DATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9]"
    r" (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4}"
    r" [0-2][0-9]:[0-5][0-9]:[0-5][0-9] \+0000",
    re.ASCII,
)
_MESSAGE_ID = re.compile(r"<[0-9a-z]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,4}>", re.ASCII)
_MULTIPART = re.compile(r'multipart/(?:mixed|alternative); boundary="[0-9a-z-]{1,100}"', re.ASCII)


def _plain(name: str, value: str) -> bool:
    kind = _unstructured.get(name)
    if kind is None:
        kind = _unstructured[name] = issubclass(_REGISTRY[name], UnstructuredHeader)
    return (
        kind
        and len(name) + 2 + len(value) <= _HEADER_LINE
        and "=?" not in value
        and value.isprintable()
        and _PLAIN_VALUE.fullmatch(value) is not None
    )


def _verbatim(name: str, value: str) -> bool:
    """A Date, Message-ID or multipart Content-Type in the exact shape the writers give it."""
    header = _REGISTRY[name]
    if issubclass(header, DateHeader):
        # The library keeps format_datetime(parsedate_to_datetime(value)): the same text only
        # for a real date in that format (a 31 February is not).
        if _DATE.fullmatch(value) is None:
            return False
        try:
            return format_datetime(parsedate_to_datetime(value)) == value
        except ValueError:
            return False
    if issubclass(header, MessageIDHeader):
        return _MESSAGE_ID.fullmatch(value) is not None
    return name.lower() == "content-type" and _MULTIPART.fullmatch(value) is not None


def _address_key(name: str, value: object) -> tuple[object, ...] | None:
    """A hashable key for an Address or a list of them (Address defines no hash)."""
    items = [value] if isinstance(value, Address) else value
    if not isinstance(items, list) or not items:
        return None
    if not all(isinstance(item, Address) for item in items):
        return None
    return (name.lower(), *((a.display_name, a.username, a.domain) for a in items))


def quoted_printable(text: str) -> bytes:
    """A text part's body as ``set_content(text, charset="utf-8", cte="quoted-printable")``
    stores it and the generator writes it: the lines joined by LF, encoded by the library's
    quoted-printable (:func:`quoted_printable_by_email`) to lines of at most
    BODY_LINE_LENGTH, then CRLF line ends.

    Written here rather than by ``quoprimime.body_encode``, whose per-character escaping
    (``str.translate`` with a table of strings) and per-line loop made the transcripts' encoding
    7% of an export's CPU (py-spy of bench/export.py, 2026-12-07). Here the bytes to escape
    are found at once (``bytes.translate`` deleting the safe ones) and each distinct one is
    replaced in one pass (a transcript holds a handful: "=" and its non-ASCII letters' bytes);
    lines are broken by the library's rule, in Python only for lines that need it (longer
    than the limit, or ending in white space). The same bytes:
    tests/archive/test_export_quoted_printable.py (hypothesis, against the library)."""
    data = b"\n".join(text.encode("utf-8").splitlines()) + b"\n"
    unsafe = data.translate(None, _QP_SAFE)
    if unsafe:
        if b"=" in unsafe:  # first: the escapes below bring their own "="
            data = data.replace(b"=", b"=3D")
        for byte in set(unsafe) - {0x3D}:
            data = data.replace(bytes((byte,)), b"=%02X" % byte)
    maxlen = BODY_LINE_LENGTH
    lines = data.split(b"\n")  # the last is empty: the text ends with the LF added above
    if b" \n" not in data and b"\t\n" not in data and max(map(len, lines)) <= maxlen:
        return data.replace(b"\n", b"\r\n")  # no line to break or to end with "=XX"
    out: list[bytes] = []
    append = out.append
    for line in lines[:-1]:
        if len(line) <= maxlen and line[-1:] not in (b" ", b"\t"):
            append(line)
            continue
        # Pieces of maxlen - 1 characters and a soft break, never splitting an "=XX".
        start = 0
        laststart = len(line) - 1 - maxlen
        while start <= laststart:
            stop = start + maxlen - 1
            if line[stop - 2] == 0x3D:  # "="
                append(line[start : stop - 1])
                start = stop - 2
            elif line[stop - 1] == 0x3D:
                append(line[start:stop])
                start = stop - 1
            else:
                append(line[start:stop] + b"=")
                start = stop
        if line[-1:] in (b" ", b"\t"):  # trailing white space is quoted (RFC 2045 6.7 (3))
            quoted = b"=20" if line[-1] == 0x20 else b"=09"
            room = start - laststart
            if room >= 3:
                tail = quoted
            elif room == 2:
                tail = line[-1:] + b"=\r\n"
            else:
                tail = b"=\r\n" + quoted
            append(line[start:-1] + tail)
        else:
            append(line[start:])
    append(b"")
    return b"\r\n".join(out)


def quoted_printable_by_email(text: str) -> bytes:
    """:func:`quoted_printable` by the library's ``quoprimime.body_encode``: the reference."""
    lines = text.encode("utf-8").splitlines()
    data = quoprimime.body_encode((b"\n".join(lines) + b"\n").decode("latin-1"), BODY_LINE_LENGTH)
    return data.replace("\n", "\r\n").encode("ascii")


# Bytes a body carries as they are: printable ASCII but "=", space, tab (and the LF between
# lines); quoted-printable escapes every other byte as "=XX".
_QP_SAFE = bytes(c for c in range(256) if c in b"\t\n " or (0x21 <= c <= 0x7E and c != 0x3D))


def base64_body(data: bytes) -> bytes:
    """Bytes as ``set_content(data, ...)`` encodes them (base64 lines of
    BODY_LINE_LENGTH // 4 * 3 bytes) and the generator writes them (CRLF)."""
    step = BODY_LINE_LENGTH // 4 * 3
    return b"".join(
        binascii.b2a_base64(data[i : i + step]).replace(b"\n", b"\r\n")
        for i in range(0, len(data), step)
    )
