"""The e-mail policy of the RSMF and .eml writers: SMTPUTF8 (raw UTF-8 headers: RFC 2047 words
draw Relativity's validator warnings), with a header registry that builds each header class once.

The standard library's :class:`~email.headerregistry.HeaderRegistry` creates a new class with
``type()`` for every header it parses or sets; measured by bench/export.py that was about a
third of the time of writing an RSMF or .eml file. The classes it makes for a name are
interchangeable (no state lives on them), so one per name gives the same bytes.
"""

from __future__ import annotations

import email.policy
from email.headerregistry import BaseHeader, HeaderRegistry


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


POLICY = email.policy.SMTPUTF8.clone(header_factory=CachedHeaderRegistry())
# Headers written unfolded up to RFC 5322's 998-character line limit: a folded X-RSMF header reads
# back with the fold's whitespace, and Relativity compares some of them exactly.
HEADER_POLICY = POLICY.clone(max_line_length=998)
