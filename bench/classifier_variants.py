"""Benchmark: the classifier variants tried for issue 11's quality and speed targets, side by side.

Each variant is a `Params` (policies/ml/model.py) trained exactly as `train_models` trains
(`train_from_corpus`: fit on the training split, C and thresholds chosen on out-of-fold
predictions of whole groups) and measured on the held-out groups; the unseen set is printed
beside it and never used to choose. Speed: `predict_proba` over the corpus texts in batches of
500, median messages per CPU second of this process (one core).

Run: .venv/bin/python bench/classifier_variants.py [NAME or PREFIX* ...]
(no database; a few minutes; CORPUS=folder measures on another corpus folder of the same layout)
The table goes to docs/benchmarks.md ("Detection: classifiers", variants tried).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

from policies.ml import corpus  # noqa: E402
from policies.ml.model import Params  # noqa: E402
from policies.ml.training import train_from_corpus  # noqa: E402

# The setup before this comparison; Params() is now "hard negatives weigh 3, negation" with the
# negation reaching the char block too.
BASE = Params(negation=False, char_negation=False, hard_negative_weight=1.0)
GRID = (0.1, 0.25, 0.5, 1.0, 2.0)
VARIANTS: dict[str, Params] = {
    "baseline (svm C=0.5, char_wb 2..5 + words 1..2)": BASE,
    "negation": replace(BASE, negation=True),
    "C per category": replace(BASE, c_grid=GRID),
    "logreg": replace(BASE, loss="logreg", c=4.0),
    "logreg, C per category": replace(BASE, loss="logreg", c_grid=(1.0, 4.0, 16.0, 64.0)),
    "no class weight": replace(BASE, balanced=False),
    "char_wb 3..5": replace(BASE, ngram_min=3),
    "char_wb 1..5": replace(BASE, ngram_min=1),
    "char_wb 2..6": replace(BASE, ngram_max=6),
    "words 1..3": replace(BASE, word_max=3),
    "min_df 1": replace(BASE, min_df=1),
    "min_df 3": replace(BASE, min_df=3),
    "words min_df 2": replace(BASE, word_min_df=2),
    "raw tf": replace(BASE, sublinear=False),
    "negation (+ sem/sin/without)": replace(BASE, negation=True),
    "group weights": replace(BASE, group_weight=True),
    "hard negatives weigh 2": replace(BASE, hard_negative_weight=2.0),
    "hard negatives weigh 3, negation": replace(BASE, hard_negative_weight=3.0, negation=True),
    "hard negatives weigh 3, negation, C per category": replace(
        BASE, hard_negative_weight=3.0, negation=True, c_grid=GRID
    ),
    "hard negatives weigh 3, negation, char_wb 3..5": replace(
        BASE, hard_negative_weight=3.0, negation=True, ngram_min=3
    ),
    "hard negatives weigh 3, negation in both blocks (kept: Params())": Params(),
    "hard negatives weigh 3, negation in the word block only": Params(char_negation=False),
    "word block x1.5 (+ negation, hard negatives 3)": Params(word_scale=1.5),
    "word block x2 (+ negation, hard negatives 3)": Params(word_scale=2.0),
    "C 1.0": replace(BASE, c=1.0),
    "C 0.25": replace(BASE, c=0.25),
    "NBSVM": replace(BASE, nb=True),
    "NBSVM alpha 0.1": replace(BASE, nb=True, nb_alpha=0.1),
    "NBSVM, C per category": replace(BASE, nb=True, c_grid=GRID),
    "threshold floor 0.3": replace(BASE, threshold_floor=0.3),
    "char_wb 2..6 + words 1..3": replace(BASE, ngram_max=6, word_max=3),
    "char_wb 2..6 + words 1..3 + negation": replace(BASE, ngram_max=6, word_max=3, negation=True),
}


def speed(model: object, texts: list[str]) -> float:
    batches = [texts[i : i + 500] for i in range(0, len(texts), 500)]
    rates = []
    for batch in batches:
        started = time.process_time()
        model.predict_proba(batch)  # type: ignore[attr-defined]
        rates.append(len(batch) / max(time.process_time() - started, 1e-9))
    return statistics.median(rates)


def main() -> None:
    chosen = sys.argv[1:]
    # Another corpus folder (same layout) to compare on, e.g. one with lines not yet merged.
    root = Path(os.environ.get("CORPUS", corpus.CORPUS_DIR))
    texts = [e.text for part in (corpus.TRAIN, corpus.UNSEEN) for e in corpus.load(root, part)]
    print(
        "| variant | held-out macro F1 | lowest category | hard neg. flagged | ordinary flagged "
        "| unseen macro F1 | predict_proba msg/s |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, params in VARIANTS.items():
        if chosen and not any(
            c == name or (c.endswith("*") and name.startswith(c[:-1])) for c in chosen
        ):
            continue
        trained = train_from_corpus(root, params=params)
        held, unseen = trained.metrics["held_out"], trained.metrics["unseen"]
        assert isinstance(held, dict) and isinstance(unseen, dict)
        f1s = {c: v["f1"] for c, v in held["categories"].items()}
        low = min(f1s, key=f1s.__getitem__)
        print(
            f"| {name} | {held['macro_f1']:.3f} | {low} {f1s[low]:.2f} | "
            f"{held['hard_negative_fpr']['all']['flagged_share']:.0%} | "
            f"{held['ordinary_fpr']['flagged_share']:.0%} | {unseen.get('macro_f1', 0):.3f} | "
            f"{speed(trained.model, texts):,.0f} |",
            flush=True,
        )
        if params.c_grid:
            print(f"    C chosen: {trained.model.c_chosen}", flush=True)
        print("    " + ", ".join(f"{c} {f:.2f}" for c, f in f1s.items()), flush=True)


if __name__ == "__main__":
    main()
