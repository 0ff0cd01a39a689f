"""Error analysis of the ML classifiers on a validation split (issue 11, classifier quality).

What corpus writers read before writing more lines, without ever looking at the held-out groups:
the training split (held-out groups removed, as `train_from_corpus` removes them) is split again
by a second hash salt into a fit part and a validation part; the model is trained on the fit
part with the shipped `Params` and scored on the validation part. Printed: per category F1 on
validation, the confusions (a positive flagged as nothing or as another category; a hard
negative or ordinary line flagged as a category), and with --lines every misclassified line
with its file, labels, verdict and the probabilities above 0.3.

Run: .venv/bin/python bench/classifier_errors.py [--lines] [--category secrecy]
(no database; one training, about a minute on a quiet machine).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np  # noqa: E402

from policies.detectors.findings import ML_CATEGORIES  # noqa: E402
from policies.ml import corpus, evaluate  # noqa: E402
from policies.ml.model import Params, train  # noqa: E402

# Not the held-out split's (empty) salt: a different cut of the training split's groups.
VALIDATION_SALT = "validation"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", action="store_true", help="print every misclassified line")
    parser.add_argument("--category", help="only the lines whose labels or verdict hold this")
    parser.add_argument("--corpus", type=Path, default=corpus.CORPUS_DIR)
    args = parser.parse_args()

    training_split, _held_out = evaluate.split(corpus.load(args.corpus, corpus.TRAIN))
    fit, validation = evaluate.split(training_split, salt=VALIDATION_SALT)
    model, _ = train(fit, ML_CATEGORIES, Params())
    report = evaluate.report(model, validation)
    categories = report["categories"]
    assert isinstance(categories, dict)
    print(f"fit on {len(fit)} lines, validation {len(validation)} lines")
    print(f"validation macro F1 {report['macro_f1']:.3f}")
    for category in model.categories:
        figures = categories[category]
        print(
            f"  {category:<12} P {figures['precision']:.2f} R {figures['recall']:.2f} "
            f"F1 {figures['f1']:.2f} ({figures['positives']} positives)"
        )

    probabilities = model.predict_proba([e.text for e in validation])
    cuts = np.array([model.thresholds[c] for c in model.categories])
    flagged = probabilities >= cuts
    confusions: Counter[tuple[str, str]] = Counter()
    wrong = []
    for row, example in enumerate(validation):
        verdict = {c for c, hit in zip(model.categories, flagged[row], strict=True) if hit}
        truth = set(example.labels)
        if verdict == truth:
            continue
        for missed in sorted(truth - verdict):
            confusions[missed, ", ".join(sorted(verdict)) or "nothing"] += 1
        for extra in sorted(verdict - truth):
            confusions[", ".join(sorted(truth)) or example.kind, f"+{extra}"] += 1
        if args.category is None or args.category in truth | verdict:
            scores = {
                c: round(float(p), 2)
                for c, p in zip(model.categories, probabilities[row], strict=True)
                if p > 0.3
            }
            wrong.append(
                f"{example.source}\t{example.kind}\t{sorted(truth)} -> {sorted(verdict)}"
                f"\t{scores}\t{example.text}"
            )
    print("\nconfusions (truth -> verdict; '+x': flagged x as well or instead):")
    for (truth_label, verdict_label), count in confusions.most_common():
        print(f"  {count:>4}  {truth_label} -> {verdict_label}")
    if args.lines:
        print("\nmisclassified lines:")
        print("\n".join(wrong))


if __name__ == "__main__":
    main()
