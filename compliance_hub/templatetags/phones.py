"""``{% load phones %}{{ number|phone }}``: a number as people read it (see phones.py)."""

from __future__ import annotations

from django import template

from compliance_hub.phones import phone_for_display

register = template.Library()


@register.filter
def phone(number: str) -> str:
    return phone_for_display(number)
