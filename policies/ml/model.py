"""One shared vectorizing pass, one calibrated linear model per category (multi-label).

Training: a TF-IDF of character n-grams within words (char_wb 2..5; a negated word's n-grams are
features of their own, CharGrams) next to one of words and word pairs, both over folded text and
fitted once (the word block added 4.5 macro-F1 points on the
held-out groups of 2026-12-06 at the same hard-negative rate: "signal processing" is a pair);
per category a LinearSVC on those features, and a Platt sigmoid fitted on out-of-fold decision
scores, the folds made of whole groups. Scoring: one sparse product gives every category's score
for a batch (the vectorizer is ~99 % of the cost, so categories share it: reference, section 6.2),
and the vectorizing itself goes through `FastFeatures` (the same matrix, a few times quicker).

`Params` also holds the alternatives measured against this setup (negation marking, C per
category, logistic regression, group and hard-negative weights, NBSVM, a lower threshold floor):
bench/classifier_variants.py trains each, and docs/benchmarks.md keeps the table of what was kept
and what was rejected and why.

Why not CalibratedClassifierCV: its internal folds split rows, not groups, unless metadata
routing is switched on for the whole process; variants of one phrasing on both sides of a fold
make the sigmoid overconfident. The sigmoid here is the same Platt scaling (a 1-feature
LogisticRegression), fitted on GroupKFold out-of-fold scores; `ensemble=False` in its terms.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.svm import LinearSVC

from policies.ml.concepts import PAIR, ConceptGrams
from policies.ml.concepts import label as concept_label
from policies.ml.corpus import Example
from policies.ml.text import fold, negated_words, tokens, word_tokens

MIN_POSITIVES = 10  # a category with fewer training positives is left out of the model
# 3: the char block's analyzer is CharGrams (negation reaches it); 4: fold drops invisible
# characters and the diacritic blocks as the detectors' normalize does; 5: the concept block
# (policies/ml/concepts.py) and its vectorizer.
FORMAT = 5
THRESHOLD_FLOOR = 0.5
# The share of a score's upward push that the concept block must give before an explanation
# names the concept: below it, the quoted words say more than the meaning does.
MEANING_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class Params:
    ngram_min: int = 2  # char_wb n-grams
    ngram_max: int = 5
    min_df: int = 2
    word_max: int = 2  # word n-grams 1..word_max
    word_min_df: int = 1
    sublinear: bool = True
    word_scale: float = 1.0  # the word block's weight beside the char block (each l2-normed)
    # The concept block (policies/ml/concepts.py) beside them, l2-normed and scaled; 0: none.
    concept_scale: float = 0.2
    concept_pairs: bool = True  # a token per pair of concepts of a message ("erase+record")
    # NEG_ on the words after a negator (text.word_tokens): with hard negatives weighing 3,
    # +0.8 macro-F1 points and a fifth fewer hard negatives flagged (docs/benchmarks.md).
    negation: bool = True
    # The same scopes in the char block: a negated word's n-grams are features of their own
    # (CharGrams), or "no garantizada" keeps every n-gram of "garantizada" (guarantee 1.00).
    char_negation: bool = True
    loss: str = "svm"  # "svm" (LinearSVC) or "logreg" (LogisticRegression, liblinear)
    balanced: bool = True  # class_weight="balanced"
    # Weigh each line by 1 / its group's size, so a phrasing written in six variants does not
    # count six times (evaluation holds out whole phrasings, and so does real traffic).
    group_weight: bool = False
    hard_negative_weight: float = 3.0  # a hard negative counts as three other lines
    nb: bool = False  # NBSVM: features scaled by their log-count ratio per category (_fit)
    nb_alpha: float = 1.0
    c: float = 0.5
    # When set, each category takes the C of this grid with the best out-of-fold F1 (GroupKFold
    # on the training split only; the held-out groups never choose anything).
    c_grid: tuple[float, ...] = ()
    threshold_floor: float = THRESHOLD_FLOOR
    folds: int = 4
    seed: int = 20261206

    def as_dict(self) -> dict[str, object]:
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name in self.__dataclass_fields__
            for value in [getattr(self, name)]
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
    c_chosen: dict[str, float] = field(default_factory=dict)
    # Concept tokens (ConceptGrams); its columns follow the word columns. None: no such block.
    concepts: TfidfVectorizer | None = None
    # Bumped when the fields or the features change: artifact.load refuses an older pickle
    # (it would unpickle, then fail mid-scan) and asks for a retrain.
    format: int = FORMAT

    def features(self, texts: Sequence[str]) -> object:
        """The batch's sparse TF-IDF matrix (the one costly step), by the fast path: the same
        matrix as `reference_features` (to float32 rounding), several times quicker."""
        fast = _fast_features(self.vectorizer, self.words, self.concepts)
        if fast is None:
            return self.reference_features(texts)
        return fast(texts, self.params.word_scale, self.params.concept_scale)

    def reference_features(self, texts: Sequence[str]) -> object:
        """The batch's matrix as scikit-learn's vectorizers compute it (what training used)."""
        folded = [fold(text) for text in texts]
        blocks = [
            self.vectorizer.transform(folded),
            self.words.transform(folded) * self.params.word_scale,
        ]
        if self.concepts is not None:
            blocks.append(self.concepts.transform(folded) * self.params.concept_scale)
        return sparse.hstack(blocks, format="csr")

    def scores(self, matrix: object) -> NDArray[np.float64]:
        """Decision scores (texts, categories) from an already vectorized batch."""
        raw = matrix @ self.weights  # type: ignore[operator]
        return np.asarray(raw, dtype=np.float64) + self.bias

    def probabilities(self, matrix: object) -> NDArray[np.float64]:
        scores = self.scores(matrix)
        probabilities = 1.0 / (1.0 + np.exp(-(self.platt_a * scores + self.platt_b)))
        # A text with no known word, word pair or concept (empty, emoji the corpus never used,
        # another script, "x" * 100_000 folded to "xx") has no evidence: its score is the bias
        # plus a few generic char n-grams, near the cut, and says nothing about the text (the
        # 'xx' message scored 0.52 for secrecy). No held-out or unseen corpus line lacks a known
        # word, so this changes none of the reported figures.
        indptr = matrix.indptr  # type: ignore[attr-defined]
        rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        words = matrix.indices >= len(self.vectorizer.vocabulary_)  # type: ignore[attr-defined]
        silent = np.bincount(rows[words], minlength=len(indptr) - 1) == 0
        probabilities[silent] = 0.0
        return probabilities

    def predict_proba(self, texts: Sequence[str]) -> NDArray[np.float64]:
        return self.probabilities(self.features(texts))

    def concept_meanings(self, row: Any, categories: Sequence[str]) -> dict[str, str]:
        """Per category, the concept (in the officers' words, concepts.label) that pushed its
        score up most, for the categories where the concept block gave at least MEANING_SHARE
        of what pushed the score up; `row` is the text's row (`matrix_row`). An explanation
        names it: "meaning: deleting or erasing + the record or its trail"."""
        if self.concepts is None:
            return {}
        start = len(self.vectorizer.vocabulary_) + len(self.words.vocabulary_)
        indices = np.asarray(row.indices)
        data = np.asarray(row.data, dtype=np.float64)
        block = indices >= start
        if not block.any():
            return {}
        tokens = _concept_tokens(self.concepts)
        out: dict[str, str] = {}
        for category in categories:
            terms = data * self.weights[indices, self.categories.index(category)]
            pushed = float(terms[terms > 0].sum())
            concept_terms = terms[block]
            best = int(np.argmax(concept_terms))
            if pushed > 0 and concept_terms[concept_terms > 0].sum() >= MEANING_SHARE * pushed:
                said = concept_label(tokens[int(indices[block][best]) - start])
                if said:
                    out[category] = said
        return out

    def word_contributions(
        self, text: str, categories: Sequence[str], row: Any = None
    ) -> dict[str, list[tuple[int, int, float]]]:
        """Per category, (start, end, share of the decision score) for each word of the ORIGINAL
        text. `row` is the text's row of the batch's matrix when the caller has it (anything
        with the row's `indices` and `data`, such as `matrix_row`).

        Each n-gram's term (its TF-IDF value times its weight) is split over the words it occurs
        in by count, so the words' shares add up to the score (minus the bias).
        """
        columns = [self.categories.index(category) for category in categories]
        if row is None:
            row = self.features([text])
        fast = _fast_features(self.vectorizer, self.words, self.concepts)
        if fast is not None:
            char_columns = fast.char_columns
        else:
            chars_vocabulary = self.vectorizer.vocabulary_
            grams = char_grams(self.vectorizer)

            def char_columns(word: str, negated: bool = False) -> list[int]:
                return [chars_vocabulary[g] for g in grams(word, negated) if g in chars_vocabulary]

        word_vocabulary: dict[str, int] = self.words.vocabulary_
        offset = len(self.vectorizer.vocabulary_)
        analyzer = self.words.analyzer
        negation = isinstance(analyzer, WordGrams) and analyzer.negation
        max_n = analyzer.max_n if isinstance(analyzer, WordGrams) else 2
        # (word number, feature, occurrences) for every feature occurrence of the text; an
        # n-gram of n words counts 1/n for each of them.
        owners: list[int] = []
        features: list[int] = []
        counts: list[float] = []
        folded_text = fold(text)  # once, for both the word block's tokens and the scopes
        # The word block's tokens of the whole text (negation scopes cross whitespace), handed
        # out to the whitespace-separated words they came from.
        marked = iter(word_tokens(folded_text, negation=negation))
        char_analyzer = self.vectorizer.analyzer
        scopes = (
            negated_words(folded_text)
            if isinstance(char_analyzer, CharGrams) and char_analyzer.negation
            else None
        )
        recent: list[tuple[str, int]] = []  # the last words, with their numbers
        spans: list[tuple[int, int]] = []
        token_owner: list[int] = []  # the whitespace word of each word-block token
        for number, (start, end, folded) in enumerate(tokens(text)):
            spans.append((start, end))
            found = char_columns(
                folded, scopes is not None and number < len(scopes) and scopes[number]
            )
            owners += [number] * len(found)
            features += found
            counts += [1.0] * len(found)
            for _ in _WORD.findall(folded):
                token_owner.append(number)
                recent.append((next(marked, ""), number))
                recent = recent[-max_n:]
                for n in range(1, len(recent) + 1):
                    index = word_vocabulary.get(" ".join(w for w, _ in recent[-n:]))
                    if index is not None:
                        for _, owner in recent[-n:]:
                            owners.append(owner)
                            features.append(offset + index)
                            counts.append(1.0 / n)
        if self.concepts is not None:
            concept_offset = offset + len(word_vocabulary)
            for gram, words in _concept_owners(self.concepts.analyzer, folded_text, token_owner):
                index = self.concepts.vocabulary_.get(gram)
                if index is not None and words:
                    owners += words
                    features += [concept_offset + index] * len(words)
                    counts += [1.0 / len(words)] * len(words)
        out: dict[str, list[tuple[int, int, float]]] = {}
        if not features:
            return {category: [(s, e, 0.0) for s, e in spans] for category in categories}
        feature = np.asarray(features)
        unique, inverse = np.unique(feature, return_inverse=True)
        total = np.bincount(inverse, weights=counts)
        # The row's value of each feature (0 where the row lacks it, which the fast path never
        # does, but a caller's row might).
        order = np.argsort(row.indices)
        known, data = row.indices[order], np.asarray(row.data, dtype=np.float64)[order]
        at = np.minimum(np.searchsorted(known, unique), max(len(known) - 1, 0))
        values = (
            np.where(known[at] == unique, data[at], 0.0) if len(known) else np.zeros(len(unique))
        )
        term = (values / total)[inverse] * np.asarray(counts)  # this occurrence's part
        for category, column in zip(categories, columns, strict=True):
            weights = self.weights[feature, column].astype(np.float64)
            shares = np.bincount(owners, weights=term * weights, minlength=len(spans))
            out[category] = [
                (start, end, share)
                for (start, end), share in zip(spans, shares.tolist(), strict=True)
            ]
        return out


@functools.lru_cache(maxsize=4)
def _concept_tokens(concepts: TfidfVectorizer) -> list[str]:
    """The concept block's tokens by column, once per loaded model."""
    return [str(token) for token in concepts.get_feature_names_out()]


class MatrixRow(NamedTuple):
    """One row of a CSR matrix as `word_contributions` reads it: its columns and values."""

    indices: NDArray[np.int32]
    data: NDArray[np.float32]


def matrix_row(matrix: Any, number: int) -> MatrixRow:
    """Row `number` of a CSR matrix as views of its arrays: what scipy's `matrix[number]` holds,
    without building a sparse matrix per row (which cost more than the explanation itself)."""
    begin, end = matrix.indptr[number], matrix.indptr[number + 1]
    return MatrixRow(matrix.indices[begin:end], matrix.data[begin:end])


def _concept_owners(
    analyzer: ConceptGrams, folded: str, token_owner: Sequence[int]
) -> list[tuple[str, list[int]]]:
    """Each concept token the analyzer counts for `folded` (the same tokens, as often), with the
    whitespace words it came from: a concept's own words, a pair's the words of both concepts."""
    found: dict[str, list[list[int]]] = {}
    for token, start, end in analyzer.spans(folded):
        words = sorted({token_owner[at] for at in range(start, min(end, len(token_owner)))})
        found.setdefault(token, []).append(words)
    out = [(token, words) for token, each in found.items() for words in each]
    if analyzer.pairs and len(found) > 1:
        for a, b in itertools.combinations(sorted(found), 2):
            words = sorted({w for each in (*found[a], *found[b]) for w in each})
            out.append((a + PAIR + b, words))
    return out


# Prefixed to each n-gram of a word in a negator's scope: "¬gar" is not "gar". A character
# fold() keeps and chat hardly uses, so a real n-gram almost never looks like a negated one.
NEGATED_GRAM = "\u00ac"


@dataclass(frozen=True, slots=True)
class CharGrams:
    """The char block's analyzer: scikit-learn's char_wb n-grams (each whitespace-separated
    word padded with one space each side, n-grams within it), the same list in the same order,
    except that with `negation` the n-grams of a word in a negator's scope (text.negated_words)
    carry NEGATED_GRAM. A class, not a closure, so the fitted vectorizer pickles.

    Written here rather than wrapping build_analyzer(): the word is the unit the fast path
    caches, and the negation flag is per word, which scikit-learn's analyzer has no place for.
    tests/policies/test_ml_char_negation.py checks it against scikit-learn's char_wb.
    """

    min_n: int = 2
    max_n: int = 5
    negation: bool = False

    def word(self, word: str, negated: bool = False) -> list[str]:
        padded = f" {word} "
        size = len(padded)
        grams: list[str] = []
        for n in range(self.min_n, self.max_n + 1):
            if size <= n:  # the whole padded word is shorter than n: counted once, then stop
                grams.append(padded)
                break
            grams.extend(padded[i : i + n] for i in range(size - n + 1))
        if negated:
            return [NEGATED_GRAM + gram for gram in grams]
        return grams

    def __call__(self, folded: str) -> list[str]:
        words = folded.split()
        scopes = negated_words(folded) if self.negation else None
        if scopes is None:
            return [gram for word in words for gram in self.word(word)]
        return [
            gram
            for word, negated in zip(words, scopes, strict=True)
            for gram in self.word(word, negated)
        ]


@functools.lru_cache(maxsize=4)
def char_grams(vectorizer: TfidfVectorizer) -> Callable[[str, bool], list[str]]:
    """One word's char n-grams as this fitted vectorizer makes them (negated or not), built once
    per loaded model (estimators hash by identity, so a retrained model gets its own). A model
    from before CharGrams used scikit-learn's own char_wb, which has no negated n-grams."""
    analyzer = vectorizer.analyzer
    if isinstance(analyzer, CharGrams):
        return analyzer.word
    built: Callable[[str], list[str]] = vectorizer.build_analyzer()

    def plain(word: str, negated: bool = False) -> list[str]:
        return built(word)

    return plain


# The cache key of a word in a negator's scope: a character fold() never leaves inside a word
# (split() cuts at it), so it cannot collide with a word's own key.
_NEGATED_KEY = "\n"


class FastFeatures:
    """`TextModel.features` without scikit-learn's per-n-gram Python loop.

    Why not the vectorizer's own transform: it builds and looks up every character n-gram of
    every message in Python (~120 per chat line), which was ~90 % of classifying. char_wb
    n-grams never cross whitespace, so a message's char features are the sum of its words'
    features, and chat repeats its words: each distinct word's feature columns are worked out
    once (by the vectorizer's own analyzer, so the n-grams are exactly its) and remembered. The
    word block's analyzer is cheap and runs as is. TF-IDF weighting and the per-block l2 norm
    are then a few numpy operations over the whole batch. HashingVectorizer was measured as no
    quicker (it still builds every n-gram in Python) and less accurate (reference, section 6.2).
    """

    MAX_CACHED_WORDS = 200_000  # ~100 MB at worst; a full cache starts again rather than grow

    def __init__(
        self,
        chars: TfidfVectorizer,
        words: TfidfVectorizer,
        concepts: TfidfVectorizer | None = None,
    ) -> None:
        self._char_grams = char_grams(chars)
        analyzer = chars.analyzer
        self._char_negation = isinstance(analyzer, CharGrams) and analyzer.negation
        self._char_vocabulary: dict[str, int] = chars.vocabulary_
        # Our own analyzer is called as is (build_analyzer would wrap it in a decode step that
        # does nothing for str input).
        analyzer = words.analyzer
        self._word_grams: Callable[[str], list[str]] = (
            analyzer if isinstance(analyzer, WordGrams) else words.build_analyzer()
        )
        self._offset = len(self._char_vocabulary)
        # The word block's columns follow the char block's; never 0, so a lookup's None and a
        # column read apart with a plain truth test.
        self._word_columns: dict[str, int] = {
            gram: self._offset + column for gram, column in words.vocabulary_.items()
        }
        self._width = self._offset + len(self._word_columns)
        # The concept block's analyzer and columns, after the word columns (see _concept_columns).
        self._concept_grams: Callable[[str], list[str]] | None = None
        self._concept_columns: dict[str, int] = {}
        self._concept_offset = self._width
        idf = [chars.idf_, words.idf_]
        if concepts is not None:
            self._concept_grams = concepts.analyzer
            self._concept_columns = {
                gram: self._width + column for gram, column in concepts.vocabulary_.items()
            }
            self._width += len(self._concept_columns)
            idf.append(concepts.idf_)
        self._cache: dict[str, bytes] = {}
        self._idf = np.concatenate(idf).astype(np.float32)
        self._sublinear = bool(chars.sublinear_tf)

    @staticmethod
    def supports(
        chars: TfidfVectorizer, words: TfidfVectorizer, concepts: TfidfVectorizer | None = None
    ) -> bool:
        """Whether the fast path computes what these vectorizers compute (the settings we train
        with); anything else goes through the reference path."""
        blocks = (chars, words) if concepts is None else (chars, words, concepts)
        return (
            all(
                (v.norm, v.use_idf, v.binary, v.sublinear_tf)
                == ("l2", True, False, chars.sublinear_tf)
                for v in blocks
            )
            and (concepts is None or isinstance(concepts.analyzer, ConceptGrams))
            and (
                (chars.analyzer, chars.preprocessor, chars.lowercase) == ("char_wb", None, False)
                or isinstance(chars.analyzer, CharGrams)
            )
        )

    def char_columns(self, word: str, negated: bool = False) -> list[int]:
        """The char block's columns of one folded word, an n-gram as often as it occurs."""
        key = _NEGATED_KEY + word if negated else word
        packed = self._cache.get(key)
        columns: list[int] = np.frombuffer(
            self._word(word, negated) if packed is None else packed, np.int32
        ).tolist()
        return columns

    def _word(self, word: str, negated: bool = False) -> bytes:
        vocabulary = self._char_vocabulary
        columns = [vocabulary[g] for g in self._char_grams(word, negated) if g in vocabulary]
        if len(self._cache) >= self.MAX_CACHED_WORDS:
            self._cache.clear()
        # Kept as int32 bytes: a message's columns are then one bytes.join, and the batch's one
        # np.frombuffer, instead of a Python list of ints converted number by number.
        packed = np.asarray(columns, dtype=np.int32).tobytes()
        self._cache[_NEGATED_KEY + word if negated else word] = packed
        return packed

    def __call__(
        self, texts: Sequence[str], word_scale: float = 1.0, concept_scale: float = 1.0
    ) -> sparse.csr_matrix:
        cache, columns_of = self._cache, self._word_columns
        concept_grams, concept_columns = self._concept_grams, self._concept_columns
        char_parts: list[bytes] = []
        word_columns: list[int] = []
        word_counts: list[int] = []
        for text in texts:
            folded = fold(text)
            scopes = negated_words(folded) if self._char_negation else None
            parts: list[bytes] = []
            if scopes is None:
                words = folded.split()
                known = list(map(cache.get, words))
                if None in known:  # words seen for the first time: worked out once, then kept
                    parts = [
                        self._word(word) if packed is None else packed
                        for word, packed in zip(words, known, strict=True)
                    ]
                else:
                    parts = known  # type: ignore[assignment]  # no None left in it
            else:
                for word, negated in zip(folded.split(), scopes, strict=True):
                    key = _NEGATED_KEY + word if negated else word
                    packed = cache.get(key)
                    parts.append(self._word(word, negated) if packed is None else packed)
            char_parts.append(b"".join(parts))
            before = len(word_columns)
            # filter(None, ...) drops the unknown grams (None; a column is never 0) in C.
            word_columns.extend(filter(None, map(columns_of.get, self._word_grams(folded))))
            if concept_grams is not None:
                word_columns.extend(filter(None, map(concept_columns.get, concept_grams(folded))))
            word_counts.append(len(word_columns) - before)
        rows = len(texts)
        char_columns = np.frombuffer(b"".join(char_parts), dtype=np.int32)
        char_counts = np.fromiter((len(p) // 4 for p in char_parts), dtype=np.int64, count=rows)
        numbers = np.arange(rows)
        matrix = sparse.csr_matrix(
            (
                np.ones(len(char_columns) + len(word_columns), dtype=np.float32),
                (
                    np.concatenate(
                        [np.repeat(numbers, char_counts), np.repeat(numbers, word_counts)]
                    ),
                    np.concatenate([char_columns, np.asarray(word_columns, dtype=np.int32)]),
                ),
            ),
            shape=(rows, self._width),
        )  # from (row, column) pairs: repeats are summed into counts
        data = matrix.data
        if self._sublinear:
            np.log(data, out=data)
            data += 1.0
        data *= self._idf[matrix.indices]
        # l2 norm per row and per block (each vectorizer normalizes its own part).
        row_of = np.repeat(numbers, np.diff(matrix.indptr))
        indices = matrix.indices
        block = (indices >= self._offset).astype(np.int64)
        if concept_grams is not None:
            block += indices >= self._concept_offset
        key = 3 * row_of + block
        norms = np.sqrt(np.bincount(key, weights=data * data, minlength=3 * rows))
        data /= norms[key].astype(np.float32)
        if word_scale != 1.0:
            data[block == 1] *= word_scale
        if concept_grams is not None and concept_scale != 1.0:
            data[block == 2] *= concept_scale
        return matrix


@functools.lru_cache(maxsize=4)
def _fast_features(
    chars: TfidfVectorizer, words: TfidfVectorizer, concepts: TfidfVectorizer | None = None
) -> FastFeatures | None:
    """One FastFeatures (and its word cache) per loaded model, kept beside it rather than in it
    so the artifact does not pickle a cache."""
    if not FastFeatures.supports(chars, words, concepts):
        return None
    return FastFeatures(chars, words, concepts)


# The word block's tokens (a letter or digit run): the same pattern in the vectorizer and in
# the explanation, so the explanation finds every word feature the score used.
WORD_PATTERN = r"(?u)\b\w+\b"
_WORD = re.compile(WORD_PATTERN)


@dataclass(frozen=True, slots=True)
class WordGrams:
    """The word block's analyzer: words (optionally negation-marked) and runs of them up to
    `max_n`, as scikit-learn's word analyzer would give them. A class, not a closure, so the
    fitted vectorizer pickles."""

    negation: bool = False
    max_n: int = 2

    def __call__(self, folded: str) -> list[str]:
        words = word_tokens(folded, negation=self.negation)
        if self.max_n == 2:  # the default, and the hot path: pairs without a generator
            return [*words, *map(" ".join, itertools.pairwise(words))]
        grams = list(words)
        for n in range(2, self.max_n + 1):
            grams.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
        return grams


def _words(params: Params) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=WordGrams(negation=params.negation, max_n=params.word_max),
        min_df=params.word_min_df,
        sublinear_tf=params.sublinear,
        lowercase=False,
        dtype=np.float32,
    )


def _concepts(params: Params) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=ConceptGrams(pairs=params.concept_pairs, negation=params.negation),
        sublinear_tf=params.sublinear,
        lowercase=False,
        dtype=np.float32,
    )


def _vectorizer(params: Params) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=CharGrams(params.ngram_min, params.ngram_max, negation=params.char_negation),
        min_df=params.min_df,
        sublinear_tf=params.sublinear,
        lowercase=False,  # fold() already did, with accents and stretched letters
        dtype=np.float32,
    )


def _classifier(params: Params, c: float) -> LinearSVC | LogisticRegression:
    weight = "balanced" if params.balanced else None
    if params.loss == "logreg":
        return LogisticRegression(
            C=c, class_weight=weight, solver="liblinear", random_state=params.seed
        )
    return LinearSVC(C=c, class_weight=weight, random_state=params.seed)


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


def best_f1(y: NDArray[np.int8], p: NDArray[np.float64], floor: float = THRESHOLD_FLOOR) -> float:
    """The F1 at `best_threshold`: what choosing C per category compares."""
    return _f1(y, p >= best_threshold(y, p, floor))


def _f1(y: NDArray[np.int8], flagged: NDArray[np.bool_]) -> float:
    tp = float(np.sum(flagged & (y == 1)))
    fp = float(np.sum(flagged & (y == 0)))
    fn = float(np.sum(~flagged & (y == 1)))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def best_threshold(
    y: NDArray[np.int8], p: NDArray[np.float64], floor: float = THRESHOLD_FLOOR
) -> float:
    """The probability cut with the best F1 on out-of-fold predictions (ties: the higher cut).

    Never below 0.5: a calibrated score under one half says "more likely not", and lower cuts
    bought about one F1 point for half again as many hard negatives flagged (measured on the
    corpus of 2026-12-06), which an officer's queue pays for.
    """
    best, best_f1 = floor, -1.0
    for cut in np.round(np.arange(floor, 0.91, 0.01), 2):
        f1 = _f1(y, p >= cut)
        if f1 >= best_f1:
            best, best_f1 = float(cut), f1
    return best


def train(
    examples: Sequence[Example],
    categories: Sequence[str],
    params: Params | None = None,
    *,
    line_weights: Sequence[float] | None = None,
) -> tuple[TextModel, dict[str, NDArray[np.float64]]]:
    """Fit the model on `examples`; also return each category's out-of-fold probabilities.
    `line_weights` (one per example) multiply the params' own weights: a firm's decided alerts
    count more than a corpus line (policies/ml/learning.py)."""
    params = params or Params()
    categories = trainable_categories(examples, categories)
    if not categories:
        raise ValueError("no category has enough positives to train on")
    vectorizer, words = _vectorizer(params), _words(params)
    folded = [fold(example.text) for example in examples]
    blocks = [vectorizer.fit_transform(folded), words.fit_transform(folded) * params.word_scale]
    concepts = _concepts(params) if params.concept_scale else None
    if concepts is not None:
        try:
            blocks.append(concepts.fit_transform(folded) * params.concept_scale)
        except ValueError:  # scikit-learn's "empty vocabulary": no line names any concept
            concepts = None
    matrix = sparse.hstack(blocks, format="csr")
    # Only needed while fitting; dropping it keeps the artifact small (sklearn's own advice).
    for fitted in (vectorizer, words, concepts):
        if fitted is not None:
            fitted.stop_words_ = None
    groups = np.array([example.group for example in examples])
    labels = label_matrix(examples, categories)
    n_splits = min(params.folds, len(set(groups.tolist())))
    weights = np.zeros((matrix.shape[1], len(categories)), dtype=np.float32)
    bias = np.zeros(len(categories), dtype=np.float32)
    platt_a = np.ones(len(categories))
    platt_b = np.zeros(len(categories))
    out_of_fold: dict[str, NDArray[np.float64]] = {}
    thresholds = {}
    folds = list(GroupKFold(n_splits=n_splits).split(matrix, labels[:, 0], groups))
    weight = None
    if params.group_weight:
        _, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
        weight = len(groups) / len(sizes) / sizes[inverse]  # mean weight 1: C keeps its scale
    if params.hard_negative_weight != 1.0:
        hard = np.array([example.kind == "hard_negative" for example in examples])
        weight = (np.ones(len(examples)) if weight is None else weight) * np.where(
            hard, params.hard_negative_weight, 1.0
        )
    if line_weights is not None:
        if len(line_weights) != len(examples):
            raise ValueError("line_weights needs one weight per example")
        weight = (np.ones(len(examples)) if weight is None else weight) * np.asarray(
            line_weights, dtype=np.float64
        )
    c_chosen: dict[str, float] = {}
    for column, category in enumerate(categories):
        y = labels[:, column]
        best: tuple[float, float, float, float, NDArray[np.float64]] | None = None
        for c in params.c_grid or (params.c,):
            a, b, probabilities = _out_of_fold(matrix, y, folds, params, c, weight)
            f1 = best_f1(y, probabilities, params.threshold_floor)
            if best is None or f1 > best[0]:  # ties keep the smaller C (the grid's order)
                best = (f1, c, a, b, probabilities)
        assert best is not None
        _, c_chosen[category], platt_a[column], platt_b[column], out_of_fold[category] = best
        thresholds[category] = best_threshold(y, out_of_fold[category], params.threshold_floor)
        weights[:, column], bias[column] = _fit(params, c_chosen[category], matrix, y, weight)
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
        c_chosen=c_chosen,
        concepts=concepts,
    )
    return model, out_of_fold


def _fit(
    params: Params,
    c: float,
    matrix: Any,
    y: NDArray[np.int8],
    weight: NDArray[np.float64] | None,
) -> tuple[NDArray[np.float64], float]:
    """One category's head: (weights over the features, intercept).

    With `params.nb` (NBSVM, Wang & Manning 2012), the features are first scaled by their
    log-count ratio between positives and negatives, and the weights returned include that
    scaling, so scoring stays one product with the stacked weights.
    """
    ratio = None
    if params.nb:
        positive = np.asarray(matrix[y == 1].sum(axis=0)).ravel() + params.nb_alpha
        negative = np.asarray(matrix[y == 0].sum(axis=0)).ravel() + params.nb_alpha
        ratio = np.log((positive / positive.sum()) / (negative / negative.sum()))
        matrix = matrix @ sparse.diags(ratio)
    head = _classifier(params, c).fit(matrix, y, sample_weight=weight)
    coef = np.asarray(head.coef_[0], dtype=np.float64)
    return (coef if ratio is None else coef * ratio), float(head.intercept_[0])


def _out_of_fold(
    matrix: Any,
    y: NDArray[np.int8],
    folds: Sequence[tuple[NDArray[np.int64], NDArray[np.int64]]],
    params: Params,
    c: float,
    weight: NDArray[np.float64] | None,
) -> tuple[float, float, NDArray[np.float64]]:
    """Platt's a and b fitted on out-of-fold decision scores, and the calibrated out-of-fold
    probabilities they give."""
    oof = np.zeros(len(y))
    for fit_rows, held_rows in folds:
        if len(set(y[fit_rows].tolist())) < 2:
            continue
        coef, intercept = _fit(
            params, c, matrix[fit_rows], y[fit_rows], None if weight is None else weight[fit_rows]
        )
        oof[held_rows] = matrix[held_rows] @ coef + intercept
    sigmoid = LogisticRegression(C=1e4).fit(oof.reshape(-1, 1), y)
    a, b = float(sigmoid.coef_[0, 0]), float(sigmoid.intercept_[0])
    return a, b, 1.0 / (1.0 + np.exp(-(a * oof + b)))
