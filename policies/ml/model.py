"""One shared vectorizing pass, one calibrated linear model per category (multi-label).

Training: a TF-IDF of character n-grams within words (char_wb 2..5) next to one of words and word
pairs, both over folded text and fitted once (the word block added 4.5 macro-F1 points on the
held-out groups of 2026-12-06 at the same hard-negative rate: "signal processing" is a pair);
per category a LinearSVC on those features, and a Platt sigmoid fitted on out-of-fold decision
scores, the folds made of whole groups. Scoring: one sparse product gives every category's score
for a batch (the vectorizer is ~99 % of the cost, so categories share it: reference, section 6.2).

Why not CalibratedClassifierCV: its internal folds split rows, not groups, unless metadata
routing is switched on for the whole process; variants of one phrasing on both sides of a fold
make the sigmoid overconfident. The sigmoid here is the same Platt scaling (a 1-feature
LogisticRegression), fitted on GroupKFold out-of-fold scores; `ensemble=False` in its terms.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.svm import LinearSVC

from policies.ml.corpus import Example
from policies.ml.text import fold, tokens

MIN_POSITIVES = 10  # a category with fewer training positives is left out of the model


@dataclass(frozen=True, slots=True)
class Params:
    ngram_min: int = 2
    ngram_max: int = 5
    min_df: int = 2
    c: float = 0.5
    folds: int = 4
    seed: int = 20261206

    def as_dict(self) -> dict[str, float | int]:
        return {
            "ngram_min": self.ngram_min,
            "ngram_max": self.ngram_max,
            "min_df": self.min_df,
            "c": self.c,
            "folds": self.folds,
            "seed": self.seed,
        }


@dataclass(slots=True)
class TextModel:
    """What scoring needs: the fitted vectorizer and, per category, weights and a sigmoid."""

    categories: tuple[str, ...]
    vectorizer: TfidfVectorizer  # char_wb n-grams
    words: TfidfVectorizer  # words and word pairs; its columns follow the char columns
    weights: NDArray[np.float32]  # (features, categories)
    bias: NDArray[np.float32]  # (categories,)
    platt_a: NDArray[np.float64]  # calibrated p = 1 / (1 + exp(-(a * score + b)))
    platt_b: NDArray[np.float64]
    thresholds: dict[str, float] = field(default_factory=dict)
    params: Params = field(default_factory=Params)

    def features(self, texts: Sequence[str]) -> object:
        """The batch's sparse TF-IDF matrix (the one costly step)."""
        folded = [fold(text) for text in texts]
        return sparse.hstack(
            [self.vectorizer.transform(folded), self.words.transform(folded)], format="csr"
        )

    def scores(self, matrix: object) -> NDArray[np.float64]:
        """Decision scores (texts, categories) from an already vectorized batch."""
        raw = matrix @ self.weights  # type: ignore[operator]
        return np.asarray(raw, dtype=np.float64) + self.bias

    def probabilities(self, matrix: object) -> NDArray[np.float64]:
        scores = self.scores(matrix)
        probabilities = 1.0 / (1.0 + np.exp(-(self.platt_a * scores + self.platt_b)))
        # A text with no known n-gram (empty, emoji the corpus never used, another script) has
        # no evidence: its score would be the bias alone, which says nothing about the text.
        silent = np.asarray(matrix.getnnz(axis=1)) == 0  # type: ignore[attr-defined]
        probabilities[silent] = 0.0
        return probabilities

    def predict_proba(self, texts: Sequence[str]) -> NDArray[np.float64]:
        return self.probabilities(self.features(texts))

    def word_contributions(
        self, text: str, categories: Sequence[str], row: Any = None
    ) -> dict[str, list[tuple[int, int, float]]]:
        """Per category, (start, end, share of the decision score) for each word of the ORIGINAL
        text. `row` is the text's row of the batch's matrix when the caller has it.

        Each n-gram's term (its TF-IDF value times its weight) is split over the words it occurs
        in by count, so the words' shares add up to the score (minus the bias).
        """
        columns = [self.categories.index(category) for category in categories]
        if row is None:
            row = self.features([text])
        value = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
        chars, chars_vocabulary = _analyzer(self.vectorizer), self.vectorizer.vocabulary_
        word_vocabulary: dict[str, int] = self.words.vocabulary_
        offset = len(chars_vocabulary)
        # Per word of the text: {feature: occurrences}. A word pair counts half for each word.
        words: list[tuple[int, int, dict[int, float]]] = []
        total_count: dict[int, float] = {}

        def add(grams: dict[int, float], index: int | None, weight: float = 1.0) -> None:
            if index is not None:
                grams[index] = grams.get(index, 0.0) + weight
                total_count[index] = total_count.get(index, 0.0) + weight

        previous: tuple[str, dict[int, float]] | None = None
        for start, end, folded in tokens(text):
            grams: dict[int, float] = {}
            for gram in chars(folded):
                add(grams, chars_vocabulary.get(gram))
            for word in _WORD.findall(folded):
                index = word_vocabulary.get(word)
                add(grams, None if index is None else offset + index)
                if previous is not None:
                    pair = word_vocabulary.get(f"{previous[0]} {word}")
                    if pair is not None:
                        add(grams, offset + pair, 0.5)
                        add(previous[1], offset + pair, 0.5)
                previous = (word, grams)
            words.append((start, end, grams))
        out: dict[str, list[tuple[int, int, float]]] = {}
        for category, column in zip(categories, columns, strict=True):
            weights = self.weights[:, column]
            out[category] = [
                (
                    start,
                    end,
                    sum(
                        value.get(index, 0.0) * float(weights[index]) * count / total_count[index]
                        for index, count in grams.items()
                    ),
                )
                for start, end, grams in words
            ]
        return out


@functools.lru_cache(maxsize=4)
def _analyzer(vectorizer: TfidfVectorizer) -> Callable[[str], list[str]]:
    """The vectorizer's own n-gram function, built once per loaded model (estimators hash by
    identity, so a retrained model gets its own)."""
    analyzer: Callable[[str], list[str]] = vectorizer.build_analyzer()
    return analyzer


# The word block's tokens (a letter or digit run): the same pattern in the vectorizer and in
# the explanation, so the explanation finds every word feature the score used.
WORD_PATTERN = r"(?u)\b\w+\b"
_WORD = re.compile(WORD_PATTERN)


def _words(params: Params) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        token_pattern=WORD_PATTERN,
        sublinear_tf=True,
        lowercase=False,
        dtype=np.float32,
    )


def _vectorizer(params: Params) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(params.ngram_min, params.ngram_max),
        min_df=params.min_df,
        sublinear_tf=True,
        lowercase=False,  # fold() already did, with accents and stretched letters
        dtype=np.float32,
    )


def _svm(params: Params) -> LinearSVC:
    return LinearSVC(C=params.c, class_weight="balanced", random_state=params.seed)


def label_matrix(examples: Sequence[Example], categories: Sequence[str]) -> NDArray[np.int8]:
    return np.array(
        [[category in example.labels for category in categories] for example in examples],
        dtype=np.int8,
    ).reshape(len(examples), len(categories))


def trainable_categories(examples: Sequence[Example], candidates: Sequence[str]) -> tuple[str, ...]:
    return tuple(
        category
        for category in candidates
        if sum(category in example.labels for example in examples) >= MIN_POSITIVES
    )


def best_threshold(y: NDArray[np.int8], p: NDArray[np.float64]) -> float:
    """The probability cut with the best F1 on out-of-fold predictions (ties: the higher cut).

    Never below 0.5: a calibrated score under one half says "more likely not", and lower cuts
    bought about one F1 point for half again as many hard negatives flagged (measured on the
    corpus of 2026-12-06), which an officer's queue pays for.
    """
    best, best_f1 = 0.5, -1.0
    for cut in np.round(np.arange(0.50, 0.91, 0.01), 2):
        flagged = p >= cut
        tp = float(np.sum(flagged & (y == 1)))
        fp = float(np.sum(flagged & (y == 0)))
        fn = float(np.sum(~flagged & (y == 1)))
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 >= best_f1:
            best, best_f1 = float(cut), f1
    return best


def train(
    examples: Sequence[Example], categories: Sequence[str], params: Params | None = None
) -> tuple[TextModel, dict[str, NDArray[np.float64]]]:
    """Fit the model on `examples`; also return each category's out-of-fold probabilities."""
    params = params or Params()
    categories = trainable_categories(examples, categories)
    if not categories:
        raise ValueError("no category has enough positives to train on")
    vectorizer, words = _vectorizer(params), _words(params)
    folded = [fold(example.text) for example in examples]
    matrix = sparse.hstack(
        [vectorizer.fit_transform(folded), words.fit_transform(folded)], format="csr"
    )
    # Only needed while fitting; dropping it keeps the artifact small (sklearn's own advice).
    vectorizer.stop_words_ = None
    words.stop_words_ = None
    groups = np.array([example.group for example in examples])
    labels = label_matrix(examples, categories)
    n_splits = min(params.folds, len(set(groups.tolist())))
    weights = np.zeros((matrix.shape[1], len(categories)), dtype=np.float32)
    bias = np.zeros(len(categories), dtype=np.float32)
    platt_a = np.ones(len(categories))
    platt_b = np.zeros(len(categories))
    out_of_fold: dict[str, NDArray[np.float64]] = {}
    thresholds = {}
    for column, category in enumerate(categories):
        y = labels[:, column]
        oof = np.zeros(len(examples))
        for fit_rows, held_rows in GroupKFold(n_splits=n_splits).split(matrix, y, groups):
            if len(set(y[fit_rows].tolist())) < 2:
                continue
            svm = _svm(params).fit(matrix[fit_rows], y[fit_rows])
            oof[held_rows] = svm.decision_function(matrix[held_rows])
        sigmoid = LogisticRegression(C=1e4).fit(oof.reshape(-1, 1), y)
        platt_a[column] = float(sigmoid.coef_[0, 0])
        platt_b[column] = float(sigmoid.intercept_[0])
        probabilities = 1.0 / (1.0 + np.exp(-(platt_a[column] * oof + platt_b[column])))
        out_of_fold[category] = probabilities
        thresholds[category] = best_threshold(y, probabilities)
        svm = _svm(params).fit(matrix, y)
        weights[:, column] = svm.coef_[0]
        bias[column] = svm.intercept_[0]
    model = TextModel(
        categories=categories,
        vectorizer=vectorizer,
        words=words,
        weights=weights,
        bias=bias,
        platt_a=platt_a,
        platt_b=platt_b,
        thresholds=thresholds,
        params=params,
    )
    return model, out_of_fold
