"""Phone numbers, normalised with Google's libphonenumber (the ``phonenumbers`` package)."""

from __future__ import annotations

import phonenumbers


class InvalidPhoneNumber(ValueError):
    """The message is safe to show to an admin."""


def normalize_phone(value: str, region: str = "") -> str:
    """``value`` as E.164 (``+5511987654321``); ``region`` (ISO alpha-2) reads national formats."""
    text = (value or "").strip()
    if not text:
        raise InvalidPhoneNumber("A phone number is required.")
    try:
        parsed = phonenumbers.parse(text, region.upper() or None)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(
            "Cannot read this phone number; write it with the country code, e.g. +55 11 98765-4321."
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber("Not a valid phone number for its country.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_region(code: str) -> bool:
    return code.upper() in phonenumbers.SUPPORTED_REGIONS


def region_of(e164: str) -> str:
    """The country (ISO alpha-2) a number belongs to, or "" when unknown."""
    if not e164:
        return ""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or ""
    except phonenumbers.NumberParseException:
        return ""
