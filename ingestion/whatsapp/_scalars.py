"""Reading Meta's scalar fields defensively: identifiers, text and Unix timestamps.

Every function here takes any JSON value and returns a plain value; none of them raises.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from compliance_hub.digits import is_digits

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def text_of(value: Any) -> str:
    """``value`` if it is a string, else ``""``."""
    return value if isinstance(value, str) else ""


def ident_of(value: Any) -> str:
    """An identifier as a string: strings as they are, integers in decimal, anything else ``""``.

    Meta sends ids as strings, but error codes and a few ids (``entry[].id`` in some samples) come
    as numbers; booleans are not identifiers."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def parse_timestamp(value: Any) -> datetime | None:
    """A Unix timestamp in seconds (Meta sends a string of digits; ints and floats are accepted)
    as an aware UTC datetime, or ``None`` when it is missing, negative, not finite or out of
    range."""
    seconds: float
    if isinstance(value, str):
        candidate = value.strip()
        if is_digits(candidate):
            try:
                seconds = int(candidate)
            except ValueError:  # more digits than int() accepts from a string
                return None
        elif not candidate.isascii():  # float() would read "١٢٣" as 123.0
            return None
        else:
            try:
                seconds = float(candidate)
            except ValueError:
                return None
    elif isinstance(value, bool):
        return None
    elif isinstance(value, int | float):
        seconds = value
    else:
        return None
    if isinstance(seconds, float) and not math.isfinite(seconds):
        return None
    if seconds < 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
