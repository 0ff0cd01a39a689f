"""Page links of a search that cannot be forged or moved to another search.

The selector's keyset cursor (archive/search/selectors.py) says only where a page starts; given
to another query it would quietly skip results. Here it is signed (Django's signing, with the
project's secret) together with a fingerprint of the search it belongs to, so a forged link or
one from another search is refused with a clear message instead."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core import signing

from .query import QueryError

_SALT = "archive.search.cursor"


def _fingerprint(search: dict[str, Any]) -> str:
    canonical = json.dumps(search, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def seal_cursor(cursor: str, *, search: dict[str, Any]) -> str:
    """The link's cursor for the page after ``cursor`` of ``search`` (query, filters, order)."""
    return signing.dumps({"c": cursor, "s": _fingerprint(search)}, salt=_SALT, compress=True)


def open_cursor(token: str, *, search: dict[str, Any]) -> str:
    """The selector's cursor inside ``token``; :class:`QueryError` when it was not made here or
    belongs to another search."""
    try:
        sealed = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError):  # ValueError: text that is not even base64
        raise QueryError("This page link is not valid; start the search again.") from None
    if not isinstance(sealed, dict) or not isinstance(sealed.get("c"), str):
        raise QueryError("This page link is not valid; start the search again.")
    if sealed.get("s") != _fingerprint(search):
        raise QueryError("This page link belongs to another search; start the search again.")
    return sealed["c"]
