"""How the policy pages name detectors and choices, in the officers' words."""

from __future__ import annotations

from django import template

register = template.Library()

DETECTOR_LABELS = {
    "classifier": "Meaning (machine learning)",
    "lexicon": "Term rule",
    "pii": "Personal data",
    "links": "Links",
    "sampling": "Random sample for review",
}
COMBINE_LABELS = {
    "any": "any of these tests is met",
    "all": "all of these tests are met",
    "none": "none of these tests is met",
}


@register.filter
def detector_label(slug: str) -> str:
    return DETECTOR_LABELS.get(slug, slug)


@register.filter
def combine_label(op: str) -> str:
    return COMBINE_LABELS.get(op, op)


@register.filter
def words(slug: str) -> str:
    """A slug as words: "off_channel" -> "off channel"."""
    return str(slug).replace("_", " ")
