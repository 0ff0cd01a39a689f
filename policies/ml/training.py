"""Train from the corpus, evaluate on held-out groups and on the unseen set: one procedure,
used by `manage.py train_models` and by the built-in model that scoring trains on first use."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from policies.detectors.findings import ML_CATEGORIES
from policies.ml import corpus, evaluate
from policies.ml.corpus import Example
from policies.ml.model import Params, TextModel, train


@dataclass(frozen=True, slots=True)
class Trained:
    model: TextModel
    data_hash: str
    metrics: dict[str, object]


def _counts(examples: Sequence[Example]) -> dict[str, int]:
    tally: Counter[str] = Counter()
    for example in examples:
        tally[f"{example.kind}/{example.lang}"] += 1
        for label in example.labels:
            tally[f"positive/{label}"] += 1
    return dict(sorted(tally.items()))


def train_from_corpus(root: Path = corpus.CORPUS_DIR, params: Params | None = None) -> Trained:
    """Fit on the training split of `root/train`, evaluate on its held-out groups and on
    `root/unseen`. The model returned is the one measured (fitted on the training split only),
    so metrics.json describes exactly what scores messages."""
    params = params or Params()
    examples = corpus.load(root, corpus.TRAIN)
    unseen = corpus.load(root, corpus.UNSEEN)
    problems = corpus.check_unseen(examples, unseen)
    if problems:
        raise corpus.CorpusError("; ".join(problems[:10]))
    fit_part, held_out = evaluate.split(examples)
    model, _ = train(fit_part, ML_CATEGORIES, params)
    metrics: dict[str, object] = {
        "model_fit_on": "training split (held-out groups excluded)",
        "params": params.as_dict(),
        "thresholds": model.thresholds,
        "threshold_rule": "best F1 on out-of-fold (GroupKFold) calibrated probabilities",
        "categories_trained": list(model.categories),
        "categories_missing": [c for c in ML_CATEGORIES if c not in model.categories],
        "split": {
            "held_out_share_of_groups_percent": evaluate.TEST_SHARE,
            "train_lines": len(fit_part),
            "held_out_lines": len(held_out),
            "train_counts": _counts(fit_part),
            "held_out_counts": _counts(held_out),
        },
        "held_out": evaluate.report(model, held_out),
        "unseen": evaluate.report(model, unseen),
        "unseen_counts": _counts(unseen),
    }
    return Trained(model=model, data_hash=corpus.data_hash([*examples, *unseen]), metrics=metrics)
