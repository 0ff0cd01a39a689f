"""CSV exports that a spreadsheet opens safely."""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    """Neutralise spreadsheet formulas: a cell a person wrote may start with = + - @
    (OWASP "CSV injection"); a leading apostrophe makes Excel and LibreOffice show it as text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text
