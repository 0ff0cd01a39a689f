"""An officer's decision as the learning loop reads it (light: no scikit-learn, so the alerts
app can register its decisions without loading the classifiers)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decision:
    """One closed alert as the learning loop reads it: which message, in which conversation,
    which categories the alert named, and whether the officer found it a true positive."""

    key: str  # the alert's handle, so a page can name and exclude it
    message: int
    conversation: int
    text: str
    categories: tuple[str, ...]
    true_positive: bool
