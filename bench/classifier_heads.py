"""Benchmark: model choices for the ML classifiers on a validation cut (issue 11, quality).

Where bench/classifier_variants.py retrains the whole pipeline per variant and reads the held-out
groups, this one never looks at them: the training split (held-out groups removed) is cut again
by bench/classifier_errors.py's validation salt, the shipped features are vectorized ONCE on the
fit part, and every variant is a different head on that same matrix, chosen the way `train`
chooses (Platt sigmoid on GroupKFold out-of-fold scores, the best-F1 cut per category, never
under the floor). So a variant is a few seconds of fitting, and the comparison is of the model
alone. What wins here is then confirmed once on the held-out groups (bench/classifier.py).

Every variant below stays a linear score over the shipped features (so scoring would be one
product, as now) except where noted; that is why no kernel, forest or boosted model is here.

Run: .venv/bin/python bench/classifier_heads.py [NAME ...]   (no database; about a minute a
variant on a quiet machine; the table goes to docs/benchmarks.md)
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np  # noqa: E402
from scipy import sparse  # noqa: E402
from sklearn.decomposition import TruncatedSVD  # noqa: E402
from sklearn.linear_model import LogisticRegression, SGDClassifier  # noqa: E402
from sklearn.model_selection import GroupKFold  # noqa: E402
from sklearn.preprocessing import normalize  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from bench.classifier_errors import VALIDATION_SALT  # noqa: E402
from policies.detectors.findings import ML_CATEGORIES  # noqa: E402
from policies.ml import corpus, evaluate  # noqa: E402
from policies.ml.model import (  # noqa: E402
    Params,
    _vectorizer,
    _words,
    best_threshold,
    label_matrix,
)
from policies.ml.text import fold  # noqa: E402

Head = Callable[[object, np.ndarray, np.ndarray], tuple[np.ndarray, float]]


def svm(c: float = 0.5, balanced: bool = True) -> Head:
    def fit(x: object, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
        head = LinearSVC(C=c, class_weight="balanced" if balanced else None, random_state=1)
        head.fit(x, y, sample_weight=w)
        return head.coef_[0].astype(np.float64), float(head.intercept_[0])

    return fit


def logreg(c: float) -> Head:
    def fit(x: object, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
        head = LogisticRegression(C=c, class_weight="balanced", solver="liblinear")
        head.fit(x, y, sample_weight=w)
        return head.coef_[0].astype(np.float64), float(head.intercept_[0])

    return fit


def sgd(alpha: float) -> Head:
    def fit(x: object, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
        head = SGDClassifier(
            loss="modified_huber",
            alpha=alpha,
            class_weight="balanced",
            random_state=1,
            max_iter=50,
            tol=None,
        )
        head.fit(x, y, sample_weight=w)
        return head.coef_[0].astype(np.float64), float(head.intercept_[0])

    return fit


def with_nb(base: Head, share: float) -> Head:
    """The SVM's weights plus `share` times a multinomial NB's log-count ratio: a binary NB is
    linear too, so the sum is one linear model (an NB/SVM interpolation, Wang & Manning 2012)."""

    def fit(x: object, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
        coef, bias = base(x, y, w)
        positive = np.asarray(x[y == 1].T @ w[y == 1]).ravel() + 1.0  # type: ignore[index]
        negative = np.asarray(x[y == 0].T @ w[y == 0]).ravel() + 1.0  # type: ignore[index]
        ratio = np.log(positive / positive.sum()) - np.log(negative / negative.sum())
        return coef + share * ratio, bias

    return fit


class Bench:
    def __init__(self) -> None:
        training_split, _held_out = evaluate.split(corpus.load(corpus.CORPUS_DIR, corpus.TRAIN))
        self.fit, self.validation = evaluate.split(training_split, salt=VALIDATION_SALT)
        params = Params()
        chars, words = _vectorizer(params), _words(params)
        fit_texts = [fold(e.text) for e in self.fit]
        validation_texts = [fold(e.text) for e in self.validation]
        self.x = sparse.hstack(
            [chars.fit_transform(fit_texts), words.fit_transform(fit_texts)], format="csr"
        )
        self.x_validation = sparse.hstack(
            [chars.transform(validation_texts), words.transform(validation_texts)], format="csr"
        )
        self.categories = list(ML_CATEGORIES)
        self.y = label_matrix(self.fit, self.categories)
        self.y_validation = label_matrix(self.validation, self.categories)
        self.groups = np.array([e.group for e in self.fit])
        self.folds = list(
            GroupKFold(n_splits=params.folds).split(self.x, self.y[:, 0], self.groups)
        )
        hard = np.array([e.kind == "hard_negative" for e in self.fit])
        self.weight = np.where(hard, params.hard_negative_weight, 1.0)
        self.kinds = np.array([e.kind for e in self.validation])

    def scores(self, head: Head, column: int, x: object, x_validation: object) -> tuple:
        y = self.y[:, column]
        out_of_fold = np.zeros(len(y))
        for fit_rows, held_rows in self.folds:
            coef, bias = head(x[fit_rows], y[fit_rows], self.weight[fit_rows])  # type: ignore[index]
            out_of_fold[held_rows] = x[held_rows] @ coef + bias  # type: ignore[index]
        coef, bias = head(x, y, self.weight)
        return out_of_fold, x_validation @ coef + bias  # type: ignore[operator]

    def multinomial(self, c: float) -> Callable[[int, object, object], tuple]:
        """One softmax over "nothing" and the eight categories (a line with two labels counts
        once for each); a category's score is its logit minus nothing's, still linear."""
        cache: dict[str, np.ndarray] = {}

        def fit(x: object, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            rows, classes, weights = [], [], []
            for i, labels in enumerate(y):
                for label in np.flatnonzero(labels) + 1 if labels.any() else [0]:
                    rows.append(i)
                    classes.append(label)
                    weights.append(w[i])
            head = LogisticRegression(C=c, max_iter=300, class_weight="balanced")
            head.fit(x[rows], np.array(classes), sample_weight=np.array(weights))  # type: ignore[index]
            return (head.coef_[1:] - head.coef_[0]).T, head.intercept_[1:] - head.intercept_[0]

        def scores(column: int, x: object, x_validation: object) -> tuple:
            if not cache:
                out_of_fold = np.zeros(self.y.shape)
                for fit_rows, held_rows in self.folds:
                    coef, bias = fit(x[fit_rows], self.y[fit_rows], self.weight[fit_rows])  # type: ignore[index]
                    out_of_fold[held_rows] = x[held_rows] @ coef + bias  # type: ignore[index]
                coef, bias = fit(x, self.y, self.weight)
                cache["oof"], cache["validation"] = out_of_fold, x_validation @ coef + bias  # type: ignore[operator]
            return cache["oof"][:, column], cache["validation"][:, column]

        return scores

    def latent(self, components: int, scale: float) -> tuple[object, object]:
        """The features plus a latent block: an SVD of the groups' pooled rows (a group holds a
        phrasing in four languages, so its components tie translations together, as in
        cross-language LSI). Linear in the features, so the weights would fold back into one."""
        _, inverse = np.unique(self.groups, return_inverse=True)
        pool = sparse.csr_matrix((np.ones(len(inverse)), (inverse, np.arange(len(inverse)))))
        svd = TruncatedSVD(components, random_state=1).fit(normalize(pool @ self.x))
        projection = svd.components_.T
        z, z_validation = self.x @ projection, self.x_validation @ projection
        size = float(np.mean(np.linalg.norm(z, axis=1)))
        return (
            sparse.hstack([self.x, sparse.csr_matrix(z * scale / size)], format="csr"),
            sparse.hstack([self.x_validation, sparse.csr_matrix(z_validation * scale / size)]),
        )

    def run(
        self,
        name: str,
        scores: Callable[[int, object, object], tuple],
        floor: float = 0.5,
        features: tuple[object, object] | None = None,
    ) -> None:
        started = time.process_time()
        x, x_validation = features or (self.x, self.x_validation)
        flagged = np.zeros(self.y_validation.shape, dtype=bool)
        f1s = {}
        for column, category in enumerate(self.categories):
            y = self.y[:, column]
            out_of_fold, validation = scores(column, x, x_validation)
            sigmoid = LogisticRegression(C=1e4).fit(out_of_fold.reshape(-1, 1), y)
            a, b = float(sigmoid.coef_[0, 0]), float(sigmoid.intercept_[0])
            cut = best_threshold(y, 1 / (1 + np.exp(-(a * out_of_fold + b))), floor)
            flagged[:, column] = 1 / (1 + np.exp(-(a * np.asarray(validation) + b))) >= cut
            truth = self.y_validation[:, column] == 1
            tp = np.sum(flagged[:, column] & truth)
            wrong = np.sum(flagged[:, column] ^ truth)
            f1s[category] = 2 * tp / (2 * tp + wrong) if tp else 0.0
        any_flag = flagged.any(axis=1)
        low = min(f1s, key=f1s.__getitem__)
        print(
            f"| {name} | {np.mean(list(f1s.values())):.3f} | {low} {f1s[low]:.2f} | "
            f"{any_flag[self.kinds == 'hard_negative'].mean():.1%} | "
            f"{any_flag[self.kinds == 'ordinary'].mean():.1%} | "
            f"{time.process_time() - started:.0f} |",
            flush=True,
        )
        print("    " + ", ".join(f"{c} {f:.2f}" for c, f in f1s.items()), flush=True)


def main() -> None:
    bench = Bench()

    def head(fit: Head) -> Callable[[int, object, object], tuple]:
        return lambda column, x, x_validation: bench.scores(fit, column, x, x_validation)

    variants: dict[str, Callable[[], None]] = {
        "shipped": lambda: bench.run("shipped: LinearSVC C 0.5, balanced", head(svm())),
        "floor04": lambda: bench.run("threshold floor 0.4", head(svm()), floor=0.4),
        "c1": lambda: bench.run("C 1.0", head(svm(1.0))),
        "c025": lambda: bench.run("C 0.25", head(svm(0.25))),
        "unbalanced": lambda: bench.run("no class weight", head(svm(balanced=False))),
        "logreg": lambda: bench.run("LogisticRegression C 4", head(logreg(4.0))),
        "sgd": lambda: bench.run("SGD modified Huber, alpha 1e-5", head(sgd(1e-5))),
        "nb": lambda: bench.run("SVM + 0.05 x NB log-count ratio", head(with_nb(svm(), 0.05))),
        "multinomial": lambda: bench.run("multinomial LR C 4", bench.multinomial(4.0)),
        "latent": lambda: bench.run(
            "+ cross-language LSI block (300)", head(svm()), features=bench.latent(300, 1.0)
        ),
    }
    run_table(bench, variants, sys.argv[1:] or list(variants))


def run_table(bench: Bench, variants: dict[str, Callable[[], None]], chosen: list[str]) -> None:
    """The table's head, then a row (and its per-category line) per chosen variant."""
    print(f"fit {len(bench.fit)} lines, validation {len(bench.validation)} lines")
    print(
        "| variant | validation macro F1 | lowest | hard neg. flagged | ordinary flagged | CPU s |"
    )
    print("|---|---|---|---|---|---|")
    for name in chosen:
        variants[name]()


if __name__ == "__main__":
    main()
