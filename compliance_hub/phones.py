"""Phone numbers as people read them, one rule for every page."""

from __future__ import annotations

import phonenumbers

from .digits import is_digits


def phone_for_display(number: str) -> str:
    """``+55 11 98765-4321`` for an E.164 number or a WhatsApp id (its digits without "+");
    anything libphonenumber cannot read is shown as given, with "+" before bare digits."""
    text = (number or "").strip()
    if not text:
        return ""
    if is_digits(text):
        text = f"+{text}"
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_possible_number(parsed):
        return text
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
