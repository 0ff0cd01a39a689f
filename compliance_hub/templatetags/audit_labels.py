"""``{% load audit_labels %}{{ label|actor }}``: who acted, in words (see describe_label)."""

from __future__ import annotations

from django import template

from compliance_hub.audit.actors import describe_label

register = template.Library()


@register.filter
def actor(label: str) -> str:
    return describe_label(label or "")
