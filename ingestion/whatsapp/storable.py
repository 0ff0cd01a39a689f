"""Making what Meta sent storable in PostgreSQL without losing it (pure).

PostgreSQL refuses NUL in ``text`` and ``jsonb``, and a lone UTF-16 surrogate (``\\ud800``, which
JSON allows) cannot be encoded at all; one such character would fail the whole delivery on every
retry. Each becomes U+FFFD in the archive copy; the delivery's raw bytes keep the original.
"""

from __future__ import annotations

import re
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable_text(value: str) -> str:
    return _UNSTORABLE.sub(REPLACEMENT, value) if _UNSTORABLE.search(value) else value


def storable(value: Any) -> Any:
    """``value`` (JSON-like) with every string, keys included, made storable."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(str(k)): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(item) for item in value]
    return value
