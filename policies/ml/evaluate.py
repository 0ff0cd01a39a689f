"""Held-out evaluation: a split of whole groups, and the figures metrics.json reports."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from policies.ml.corpus import LANGUAGES, Example
from policies.ml.model import TextModel

TEST_SHARE = 20  # percent of groups held out


def is_held_out(group: str, *, salt: str = "") -> bool:
    """Whether a group is in the held-out split: a hash of its id, not a shuffle.

    Deterministic, and stable as the corpus grows (adding a file moves no existing group), so a
    figure measured today and one measured after more lines were written hold out the same groups.
    """
    digest = hashlib.sha256(f"{salt}{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100 < TEST_SHARE


def split(examples: Sequence[Example], *, salt: str = "") -> tuple[list[Example], list[Example]]:
    train = [e for e in examples if not is_held_out(e.group, salt=salt)]
    test = [e for e in examples if is_held_out(e.group, salt=salt)]
    return train, test


def _prf(flagged: NDArray[np.bool_], truth: NDArray[np.bool_]) -> dict[str, float | int]:
    tp = int(np.sum(flagged & truth))
    fp = int(np.sum(flagged & ~truth))
    fn = int(np.sum(~flagged & truth))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "positives": int(np.sum(truth)),
        "flagged": int(np.sum(flagged)),
    }


def report(model: TextModel, examples: Sequence[Example]) -> dict[str, object]:
    """Per category (and per category and language) precision/recall/F1 at the model's
    thresholds, macro F1 over the categories with positives here, and the false-positive rates on
    hard negatives and on ordinary chat (share of those messages flagged by any category)."""
    if not examples:
        return {"examples": 0}
    probabilities = model.predict_proba([e.text for e in examples])
    cuts = np.array([model.thresholds[c] for c in model.categories])
    flagged = probabilities >= cuts
    langs = np.array([e.lang for e in examples])
    kinds = np.array([e.kind for e in examples])
    per_category: dict[str, object] = {}
    f1s = []
    for column, category in enumerate(model.categories):
        truth = np.array([category in e.labels for e in examples])
        figures: dict[str, object] = dict(_prf(flagged[:, column], truth))
        by_lang = {}
        for lang in LANGUAGES:
            rows = langs == lang
            if np.any(truth[rows]):
                by_lang[lang] = _prf(flagged[rows, column], truth[rows])
        figures["by_language"] = by_lang
        per_category[category] = figures
        if np.any(truth):
            f1s.append(float(figures["f1"]))  # type: ignore[arg-type]
    any_flag: NDArray[np.bool_] = np.asarray(flagged.any(axis=1), dtype=bool)

    def rate(rows: NDArray[np.bool_]) -> dict[str, float | int]:
        count = int(np.sum(rows))
        return {
            "messages": count,
            "flagged_share": round(float(np.mean(any_flag[rows])), 4) if count else 0.0,
        }

    return {
        "examples": len(examples),
        "macro_f1": round(float(np.mean(f1s)), 4) if f1s else 0.0,
        "categories": per_category,
        "hard_negative_fpr": {
            "all": rate(kinds == "hard_negative"),
            **{lang: rate((kinds == "hard_negative") & (langs == lang)) for lang in LANGUAGES},
        },
        "ordinary_fpr": rate(kinds == "ordinary"),
    }
