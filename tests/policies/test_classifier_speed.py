"""The classifiers' quicker paths (policies/ml/model.py, policies/detectors/classifier.py) give
what the plain ones give: the explanation reads a fired row by `matrix_row` (views of the batch
matrix's arrays) instead of scipy's `matrix[row]`, and the same word shares come out either way
and when the text is vectorized on its own. The speed work changes no finding."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from policies.detectors import classifier
from policies.ml import corpus
from policies.ml.model import TextModel, matrix_row, train

DATA = Path(__file__).with_name("data")
CATEGORIES = ["guarantee", "off_channel", "secrecy"]


SOURCES = {"train/guarantee", "train/off_channel_en", "train/secrecy_en", "train/ordinary_b"}


@pytest.fixture(scope="module")
def model() -> TextModel:
    # Three categories and ordinary chat: enough for explanations over several categories at
    # once, in about a second of training instead of the whole corpus's minute.
    examples = [e for e in corpus.load() if e.source.split(".")[0] in SOURCES]
    return train(examples, CATEGORIES)[0]


def _texts() -> list[str]:
    mix = [json.loads(line)["text"] for line in (DATA / "pii_eval.jsonl").open()]
    risky = [e.text for e in corpus.load() if set(e.labels) & set(CATEGORIES)]
    odd = ["", "  ", "🙂 no 🙂", "guaranteed-nahi", "não apaga nada; manda", "x" * 300]
    return [*mix[::16], *risky[::10], *odd]


def test_a_row_view_holds_what_scipy_s_row_holds(model: TextModel) -> None:
    texts = _texts()
    matrix = model.features(texts)
    for number in range(len(texts)):
        view, row = matrix_row(matrix, number), matrix[number]  # type: ignore[index]
        assert view.indices.tolist() == row.indices.tolist()
        assert view.data.tolist() == row.data.tolist()


def test_word_shares_are_the_same_from_a_row_view_a_scipy_row_and_the_text_alone(
    model: TextModel,
) -> None:
    texts = _texts()
    matrix = model.features(texts)
    compared = 0
    for number, text in enumerate(texts):
        by_view = model.word_contributions(text, CATEGORIES, matrix_row(matrix, number))
        by_row = model.word_contributions(text, CATEGORIES, matrix[number])  # type: ignore[index]
        assert by_view == by_row, text
        alone = model.word_contributions(text, CATEGORIES)
        for category in CATEGORIES:
            # The text vectorized alone: the same words, shares equal to float32 rounding.
            assert [s[:2] for s in alone[category]] == [s[:2] for s in by_view[category]]
            assert np.allclose(
                [s[2] for s in alone[category]], [s[2] for s in by_view[category]], atol=1e-6
            )
        compared += bool(text.split())
    assert compared > 150


def test_findings_quote_the_same_words_as_the_plain_explanation(model: TextModel) -> None:
    active = classifier.ActiveModel(model, "test")
    texts = _texts()
    found = classifier.classify(texts, model=active)
    assert sum(map(bool, found)) > 50  # the risky lines fire: the comparison is not empty
    for text, findings in zip(texts, found, strict=True):
        if not findings:
            continue
        shares = model.word_contributions(text, [f.category for f in findings])
        meanings = model.concept_meanings(
            matrix_row(model.features([text]), 0), [f.category for f in findings]
        )
        for finding in findings:
            spans, sentence = classifier.explain(
                shares[finding.category],
                text,
                finding.category,
                finding.score,
                meanings.get(finding.category),
            )
            assert (finding.spans, finding.explanation) == (spans, sentence), text
