"""ASCII digits: the one rule for every id, number and token part that people, files or Meta send.

``str.isdigit()`` is true for "²" and for Arabic-Indic and fullwidth digits; ``int()`` then
fails on the first and reads the others as numbers, and the regex ``\\d`` matches them all. Our
ids (database ids, Meta's phone number and account ids, the tenant part of a link's token) are
ASCII digits and nothing else, so every check goes through this module instead of those. Pure:
no Django, no database.
"""

from __future__ import annotations

from typing import Any

# PostgreSQL's bigint: the largest id a row can have, and so the largest worth looking up.
MAX_ID = 2**63 - 1
# Ids are at most 19 digits (MAX_ID has 19); anything longer is refused before int() reads it.
MAX_ID_DIGITS = len(str(MAX_ID))


def is_digits(value: Any, *, max_length: int | None = None) -> bool:
    """True when ``value`` is a non-empty string of ASCII digits (at most ``max_length``)."""
    return (
        isinstance(value, str)
        and value.isascii()
        and value.isdigit()
        and (max_length is None or len(value) <= max_length)
    )


def only_digits(value: str) -> str:
    """The ASCII digits of ``value``, in order ("+55 11 98765-4321" -> "5511987654321")."""
    return "".join(ch for ch in value if ch.isascii() and ch.isdigit())


def parse_id(value: Any) -> int | None:
    """A database id (1 .. 2**63-1) written in ASCII digits, or None for anything else."""
    if not is_digits(value, max_length=MAX_ID_DIGITS):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def parse_count(value: Any) -> int | None:
    """A non-negative whole number in ASCII digits (a size, a duration), at most 18 digits so
    that it always fits a bigint, or None."""
    return int(value) if is_digits(value, max_length=MAX_ID_DIGITS - 1) else None


def split_token(token: str) -> tuple[int, str] | None:
    """A link token ``<tenant id>.<secret>`` as (tenant id, secret), or None when malformed."""
    tenant_part, _, secret = token.partition(".")
    tenant_id = parse_id(tenant_part)
    if tenant_id is None or not secret:
        return None
    return tenant_id, secret
