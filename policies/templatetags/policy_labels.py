"""How the policy pages name detectors and choices, in the officers' words."""

from __future__ import annotations

from django import template

from policies.detectors.findings import CATEGORY_LABELS

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


@register.filter
def category_label(slug: str) -> str:
    """A finding's category in the officers' words; a firm's own category as the firm wrote it."""
    text = str(slug)
    return CATEGORY_LABELS.get(text) or text.replace("_", " ")


@register.filter
def category_labels(slugs: object) -> str:
    """Several categories, named and joined: "Inside information, Personal data"."""
    if not isinstance(slugs, (list, tuple)):
        return ""
    return ", ".join(category_label(slug) for slug in slugs)


@register.simple_tag
def built_in_categories() -> list[tuple[str, str]]:
    """(slug, name) of every built-in category, for pickers."""
    return list(CATEGORY_LABELS.items())
