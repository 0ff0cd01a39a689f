"""Negation in the classifiers' char n-gram block (policies/ml/model.py CharGrams, text.py
negated_words): a word in a negator's scope gives n-grams of its own, so "rentabilidad no
garantizada" no longer carries every n-gram of "garantizada" (it scored 1.00 for guarantee)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from policies.ml import corpus
from policies.ml.model import NEGATED_GRAM, CharGrams, Params, TextModel, train
from policies.ml.text import fold, negated_words, word_tokens


@pytest.mark.parametrize(
    ("text", "scopes"),
    [
        ("rentabilidad no garantizada", [False, False, True]),
        ("rentabilidade não garantida. assina aqui", [False, False, True, False, False]),
        ("returns are not guaranteed, call me", [False, False, False, True, False, False]),
        ("I don't promise anything", [False, False, True, True]),
        ("returns guaranteed nahi hai", [False, True, False, True]),  # Hindi negates after, too
        ("kisi ko mat batana, ok", [False, False, False, True, False]),
    ],
)
def test_negated_words_are_the_word_block_s_scopes_word_by_word(
    text: str, scopes: list[bool]
) -> None:
    assert negated_words(fold(text)) == scopes


def test_text_without_a_negator_has_no_scopes() -> None:
    assert negated_words(fold("I guarantee 12% a year")) is None
    assert negated_words("") is None


def test_the_hinglish_word_before_nahi_is_marked_in_the_word_block_too() -> None:
    assert word_tokens(fold("returns guaranteed nahi hai"), negation=True) == [
        "returns", "neg_guaranteed", "nahi", "neg_hai"
    ]  # fmt: skip


def test_char_grams_are_scikit_learn_s_char_wb_for_words_out_of_scope() -> None:
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    texts = [fold(e.text) for e in corpus.load()[::5]]
    texts += ["", "  ", "a", "ab", "abc  d\te", "x" * 40, "🙂🙂 ok", "\x00\x01 \ufffd"]
    for negation in (False, True):
        grams = CharGrams(2, 5, negation=negation)
        for text in texts:
            if negated_words(text) is None or not negation:
                assert grams(text) == reference(text)


def test_a_negated_word_s_char_grams_are_their_own_features() -> None:
    grams = CharGrams(2, 5, negation=True)("no garantizada")
    plain = CharGrams(2, 5)("garantizada")
    assert grams[: len(CharGrams(2, 5)("no"))] == CharGrams(2, 5)("no")  # the negator stays bare
    assert grams[len(CharGrams(2, 5)("no")) :] == [NEGATED_GRAM + g for g in plain]


# (text, the negated word) in es, pt, en and Hinglish.
NEGATED = [
    ("rentabilidad no garantizada", "garantizada"),
    ("rentabilidade não garantida", "garantida"),
    ("returns are not guaranteed", "guaranteed"),
    ("returns guaranteed nahi hai", "guaranteed"),
]
AFFIRMED = [
    "rentabilidad garantizada del 12% al año",
    "rentabilidade garantida de 2% ao mês",
    "I guarantee 12% a year on this",
    "guaranteed return milega 12%",
]


@pytest.fixture(scope="module")
def models() -> dict[bool, TextModel]:
    # The guarantee lines, the negation lines written before this change and ordinary chat:
    # enough to learn the category, a fraction of the whole corpus's training time.
    examples = [
        e
        for e in corpus.load()
        if e.source.startswith(("train/guarantee", "train/negations.", "train/ordinary"))
    ]
    return {
        char_negation: train(examples, ["guarantee"], Params(char_negation=char_negation))[0]
        for char_negation in (False, True)
    }


def _share(model: TextModel, text: str, word: str) -> float:
    shares = model.word_contributions(text, ["guarantee"])["guarantee"]
    return next(share for start, end, share in shares if text[start:end] == word)


def test_a_negated_guarantee_word_counts_against_the_category_in_four_languages(
    models: dict[bool, TextModel],
) -> None:
    for text, word in NEGATED:
        # Before: the char n-grams of "garantizada" were those of the affirmative word.
        assert _share(models[False], text, word) > 0, text
        assert _share(models[True], text, word) < 0, text
    texts = [text for text, _ in NEGATED]
    after = models[True].predict_proba(texts)[:, 0]
    before = models[False].predict_proba(texts)[:, 0]
    assert np.all(after <= before + 1e-9), dict(zip(texts, after, strict=True))
    assert after[0] < before[0] - 0.3  # es: 0.98 before on these lines
    cut = models[True].thresholds["guarantee"]
    assert np.all(after[1:] < cut), dict(zip(texts, after, strict=True))
    assert np.all(models[True].predict_proba(AFFIRMED)[:, 0] >= cut)


def test_the_fast_path_and_the_explanations_agree_with_negated_char_features(
    models: dict[bool, TextModel],
) -> None:
    model = models[True]
    texts = [*(t for t, _ in NEGATED), *AFFIRMED, "não apaga nada; manda", "guaranteed-nahi", ""]
    texts.append("🙂 no 🙂")
    reference = model.probabilities(model.reference_features(texts))
    for _ in range(2):  # the second time every word comes from the cache
        assert np.abs(model.predict_proba(texts) - reference).max() < 1e-6
    for text in texts:
        score = model.scores(model.features([text]))[0, 0]
        shares = model.word_contributions(text, ["guarantee"])["guarantee"]
        assert sum(s for _, _, s in shares) == pytest.approx(score - model.bias[0], abs=1e-4)


def test_a_text_without_a_known_word_has_no_evidence(models: dict[bool, TextModel]) -> None:
    # "x" * 100_000 folds to "xx": two generic char n-grams and no word the model knows scored
    # 0.52 for secrecy in tests/policies/test_classifier.py's model, over its cut.
    model = models[True]
    texts = ["x" * 100_000, "qzqzqz wvwvwv", "guaranteed 12%"]
    probabilities = model.predict_proba(texts)[:, 0]
    assert probabilities[0] == probabilities[1] == 0.0
    assert probabilities[2] >= model.thresholds["guarantee"]
