"""Benchmark: the concept block (policies/ml/concepts.py) on the validation cut (issue 11, quality).

The same cut and recipe as bench/classifier_heads.py (the training split, held-out groups removed,
cut again by the validation salt; the shipped head, Platt sigmoid on GroupKFold out-of-fold
scores, best-F1 cut per category): the shipped char and word blocks, and beside them the concept
block at a few weights, with and without concept pairs and negation marks. The held-out groups
are never read here.

Run: .venv/bin/python bench/classifier_concepts.py [NAME ...]   (no database)
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np  # noqa: E402
from scipy import sparse  # noqa: E402

from bench import classifier_heads as heads  # noqa: E402
from bench.classifier_heads import Bench, run_table, svm  # noqa: E402
from policies.ml.model import Params, _concepts  # noqa: E402
from policies.ml.text import fold  # noqa: E402


def concepts(bench: Bench, *, pairs: bool = True, negation: bool = True) -> tuple:
    """The concept block of the fit and validation parts, as `train` builds it (unscaled)."""
    vectorizer = _concepts(replace(Params(), concept_pairs=pairs, negation=negation))
    fit = vectorizer.fit_transform([fold(e.text) for e in bench.fit])
    validation = vectorizer.transform([fold(e.text) for e in bench.validation])
    lit = np.mean(np.diff(fit.indptr) > 0)
    print(f"    ({len(vectorizer.vocabulary_)} concept tokens; {lit:.0%} of fit lines light one)")
    return fit, validation


def concept_block(bench: Bench, scale: float, *, pairs: bool, negation: bool) -> tuple:
    fit, validation = concepts(bench, pairs=pairs, negation=negation)
    return (
        sparse.hstack([bench.x, fit * scale], format="csr"),
        sparse.hstack([bench.x_validation, validation * scale], format="csr"),
    )


def main() -> None:
    # --salt S: another validation cut of the same training split (what a gain is worth
    # against the cut's own noise); the default is bench/classifier_errors.py's.
    arguments = sys.argv[1:]
    if arguments[:1] == ["--salt"]:
        heads.VALIDATION_SALT, arguments = arguments[1], arguments[2:]
    bench = Bench()

    def head(column: int, x: object, x_validation: object) -> tuple:
        return bench.scores(svm(), column, x, x_validation)

    variants = {
        "shipped": lambda: bench.run("shipped (no concepts)", head),
    }
    for scale in (0.1, 0.2, 0.3, 0.5, 0.75, 1.0):
        for pairs in (True, False):
            for negation in (True, False):
                name = f"c{scale}{'p' if pairs else ''}{'n' if negation else ''}"
                variants[name] = lambda s=scale, p=pairs, n=negation, name=name: bench.run(
                    f"{name}: concepts x{s}, pairs {p}, negation {n}",
                    head,
                    features=concept_block(bench, s, pairs=p, negation=n),
                )
    variants["only"] = lambda: bench.run(
        "concepts alone (x1, pairs, negation; no n-grams)",
        head,
        features=concepts(bench),
    )
    run_table(bench, variants, arguments or ["shipped", "c0.2pn"])


if __name__ == "__main__":
    main()
