"""``{% load masking %}{{ masking|employee_of:alert }}`` and ``{{ masking|client_of:alert }}``:
people as this viewer may see them (alerts/masking.py holds the rule). Autoescaped as any text."""

from __future__ import annotations

from django import template

from alerts.masking import Masking
from alerts.models import Alert

register = template.Library()


@register.filter
def employee_of(masking: Masking, alert: Alert) -> str:
    return masking.employee(alert)


@register.filter
def client_of(masking: Masking, alert: Alert) -> str:
    return masking.counterparty(alert)


@register.filter
def masks(masking: Masking, alert: Alert) -> bool:
    return masking.masks(alert)
