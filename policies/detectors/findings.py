"""What every detector returns: a finding with its category, score, spans and explanation.

Offsets in a `Span` are into the *original* text the detector was given (not the normalized one),
so the alert page can highlight exactly what the person wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# The ML categories (issue 11), then the two detector categories. These slugs are the public
# vocabulary of `scan_jsonl`, the API and the policy documents.
ML_CATEGORIES: tuple[str, ...] = (
    "off_channel",
    "secrecy",
    "guarantee",
    "mnpi",
    "bribery",
    "off_label",
    "harassment",
    "complaint",
)
PII = "pii"
MALICIOUS_LINK = "malicious_link"
CATEGORIES: tuple[str, ...] = (*ML_CATEGORIES, PII, MALICIOUS_LINK)
# How pages name them: officers read "Inside information", not "mnpi". A firm's own lexicon
# categories have no entry and are shown as the firm wrote them.
CATEGORY_LABELS: Mapping[str, str] = {
    "off_channel": "Moving the conversation off WhatsApp",
    "secrecy": "Hiding things from the records",
    "guarantee": "Guaranteed or risk-free returns",
    "mnpi": "Inside information",
    "bribery": "Gifts and kickbacks",
    "off_label": "Off-label promotion",
    "harassment": "Harassment",
    "complaint": "Customer complaint",
    PII: "Personal data",
    MALICIOUS_LINK: "Risky link",
}

PII_TYPES: tuple[str, ...] = (
    "credit_card",
    "iban",
    "us_ssn",
    "br_cpf",
    "br_cnpj",
    "in_aadhaar",
    "in_pan",
    "email",
    "phone",
    "health",
)


@dataclass(frozen=True, slots=True)
class Span:
    """Characters `start` (inclusive) to `end` (exclusive) of the original text."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"a span runs forwards from 0: got {self.start}..{self.end}")


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a detector found in one text.

    `category` is one of CATEGORIES or a lexicon rule's own category; `detector` names what found
    it (`lexicon`, `pii`, `links`, `classifier`, `sampling`); `score` is in [0, 1]; `explanation`
    is a sentence a compliance officer understands ("Brazilian CPF with valid check digits, next to
    the word 'cpf'"). `attributes` carries what a category adds: `type` and `value` for pii, `url`
    for malicious_link, `rule` for a lexicon rule.
    """

    category: str
    detector: str
    score: float
    spans: tuple[Span, ...]
    explanation: str
    # Left out of the hash (a dict has none), still compared: findings can be deduplicated.
    attributes: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"a score lies in [0, 1]: got {self.score}")

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of `scan_jsonl` and the API (attributes flattened into the finding)."""
        out: dict[str, object] = {
            "category": self.category,
            "detector": self.detector,
            "score": round(self.score, 4),
            "spans": [[span.start, span.end] for span in self.spans],
            "explanation": self.explanation,
        }
        out.update(self.attributes)
        return out
