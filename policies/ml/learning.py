"""A firm's own model: its officers' decisions as labelled lines beside the shipped corpus, one
training with the same code as the built-in model, and the comparison that decides whether the
new model may replace the one in use. Pure: the Django side (policies/learning.py) gathers the
decisions and keeps the result.

Evaluation is fair to both models: they are measured on the SAME held-out lines, the held-out
groups of the shipped corpus plus a held-out share of the firm's decisions. The firm's lines are
split by conversation (their group), so a conversation never sits on both sides: messages of one
conversation quote each other, and a model that saw one would be judged on memory.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import joblib

from policies.detectors.findings import ML_CATEGORIES
from policies.ml import evaluate
from policies.ml.corpus import Example
from policies.ml.decision import Decision
from policies.ml.model import FORMAT, Params, TextModel, train

FIRM_LANG = "firm"  # the firm's lines carry no language: they count in totals, not per language
FIRM_SALT = "firm-decisions:"  # their split is drawn apart from the corpus's groups


def examples_from(decisions: Iterable[Decision]) -> list[Example]:
    """One line per decided message: the categories of its true-positive alerts are positive;
    a message with only false positives is a negative line (kind `hard_negative`: something
    that looked like a category and was not).

    The model has no "unknown" label, so a false positive on `guarantee` also counts as a
    negative for the other categories; a true positive on another alert of the same message
    wins over that. Categories outside the ML eight (a term rule's own) are not learned."""
    by_message: dict[int, tuple[Decision, set[str]]] = {}
    for decision in sorted(decisions, key=lambda d: (d.message, d.key)):
        if not decision.text.strip():
            continue  # disposed or restricted: nothing left to learn from
        _, positives = by_message.setdefault(decision.message, (decision, set()))
        if decision.true_positive:
            positives.update(c for c in decision.categories if c in ML_CATEGORIES)
    lines = []
    for first, positives in by_message.values():
        labels = tuple(sorted(positives))
        lines.append(
            Example(
                text=first.text,
                lang=FIRM_LANG,
                labels=labels,
                group=f"conversation-{first.conversation}",
                kind="positive" if labels else "hard_negative",
                source=first.key,
            )
        )
    return lines


def split_firm(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """(training lines, held-out lines) of the firm's examples, whole conversations each side."""
    return evaluate.split(examples, salt=FIRM_SALT)


@dataclass(frozen=True, slots=True)
class Retrained:
    model: TextModel
    held_out: list[Example]  # what both models are measured on
    counts: dict[str, int]


def retrain(
    corpus_lines: Sequence[Example],
    firm_lines: Sequence[Example],
    *,
    firm_weight: float,
    params: Params | None = None,
) -> Retrained:
    """Fit on the corpus's training groups plus the firm's training conversations (each firm
    line weighing `firm_weight` corpus lines); hold out the rest of both."""
    corpus_fit, corpus_held = evaluate.split(corpus_lines)
    firm_fit, firm_held = split_firm(firm_lines)
    fit = [*corpus_fit, *firm_fit]
    weights = [1.0] * len(corpus_fit) + [firm_weight] * len(firm_fit)
    model, _ = train(fit, ML_CATEGORIES, params or Params(), line_weights=weights)
    return Retrained(
        model=model,
        held_out=[*corpus_held, *firm_held],
        counts={
            "corpus_train": len(corpus_fit),
            "corpus_held_out": len(corpus_held),
            "firm_train": len(firm_fit),
            "firm_held_out": len(firm_held),
        },
    )


def category_counts(examples: Iterable[Example]) -> dict[str, dict[str, int]]:
    """Per ML category: positive and negative firm lines (what the examples page lists)."""
    tally: Counter[tuple[str, str]] = Counter()
    for example in examples:
        for category in ML_CATEGORIES:
            tally[category, "positive" if category in example.labels else "negative"] += 1
    return {
        category: {"positive": tally[category, "positive"], "negative": tally[category, "negative"]}
        for category in ML_CATEGORIES
    }


@dataclass(frozen=True, slots=True)
class Verdict:
    better: bool
    reasons: tuple[str, ...]  # why not, in an admin's words; empty when better


def _f1(report: Mapping[str, object], category: str) -> float | None:
    categories = report.get("categories")
    if not isinstance(categories, Mapping):
        return None
    figures = categories.get(category)
    if not isinstance(figures, Mapping) or not figures.get("positives"):
        return None
    value = figures.get("f1", 0.0)
    return float(value) if isinstance(value, int | float) else 0.0


def compare(
    current: Mapping[str, object], candidate: Mapping[str, object], *, margin: float
) -> Verdict:
    """Whether `candidate` may replace `current` (evaluate.report outputs on the same lines): its
    macro F1 is not lower, and no category the current model detects loses more than `margin`
    of F1 (a category the candidate lost entirely counts as F1 0)."""
    reasons = []
    current_macro = float(current.get("macro_f1", 0.0))  # type: ignore[arg-type]
    candidate_macro = float(candidate.get("macro_f1", 0.0))  # type: ignore[arg-type]
    if candidate_macro < current_macro:
        reasons.append(
            f"its average F1 is lower ({candidate_macro:.3f} against {current_macro:.3f})"
        )
    for category in ML_CATEGORIES:
        before = _f1(current, category)
        if before is None:
            continue
        after = _f1(candidate, category) or 0.0
        if after < before - margin:
            reasons.append(
                f"{category.replace('_', ' ')} drops from {before:.3f} to {after:.3f} "
                f"(more than the {margin:.2f} allowed)"
            )
    return Verdict(better=not reasons, reasons=tuple(reasons))


class ModelBytesError(ValueError):
    """Stored model bytes that are not a model this code can run."""


def to_bytes(model: TextModel) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    return buffer.getvalue()


def from_bytes(data: bytes) -> TextModel:
    """Unpickle a model the caller has ALREADY checked (sha256 and signature: policies/learning.py):
    joblib files are pickles, and unpickling runs code."""
    model = joblib.load(io.BytesIO(data))
    if not isinstance(model, TextModel):
        raise ModelBytesError("the stored bytes hold no TextModel")
    if getattr(model, "format", 1) != FORMAT:
        raise ModelBytesError("the stored model was written by an older version of the code")
    return model
