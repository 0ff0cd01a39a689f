"""The concept block (policies/ml/concepts.py): one meaning, one token, in every language.

Pure: no database. The model-level checks (fast path equal to the reference path with the
block, shares of the score adding up) are in test_classifier.py."""

from __future__ import annotations

import pytest

from policies.ml.concepts import CONCEPTS, MIN_STEM, ConceptGrams, _phrase_words, label
from policies.ml.text import fold

GRAMS = ConceptGrams(pairs=False)


def _concepts(text: str) -> set[str]:
    return set(GRAMS(fold(text)))


@pytest.mark.parametrize(
    "text", ["apaga isso", "borra el mensaje", "delete this", "mita do isko", "APAGUEI já"]
)
def test_erasing_is_one_concept_in_four_languages(text: str) -> None:
    assert "erase" in _concepts(text)


@pytest.mark.parametrize(
    "text",
    [
        "don't tell compliance",
        "não conta pro compliance",
        "no le digas a cumplimiento",
        "compliance ko mat batana",
    ],
)
def test_not_telling_compliance_lights_the_same_two_concepts(text: str) -> None:
    found = {token.removeprefix("neg_") for token in _concepts(text)}
    assert {"dont_tell", "oversight"} <= found


def test_words_match_whole_words_and_stems_only_at_the_start() -> None:
    assert "erase" not in _concepts("a rapaga do bairro")  # "apag*" inside a word
    assert "other_app" not in _concepts("signalling is fine")  # "signal" is exact
    assert "other_app" in _concepts("text me on Signal")
    assert "returns" not in _concepts("paid")  # "pa" is a word, not a stem
    assert _concepts("") == set() and _concepts("🙂🙂") == set()


def test_a_concept_in_a_negators_scope_is_a_token_of_its_own() -> None:
    assert "guarantee" in _concepts("I guarantee the returns")
    negated = _concepts("no one can guarantee the returns")
    assert "neg_guarantee" in negated and "guarantee" not in negated
    # A phrase that starts with the negator is itself the concept, not its negation.
    assert "dont_tell" in _concepts("don't tell anyone")


def test_pairs_name_each_two_distinct_concepts_of_a_message_once() -> None:
    grams = ConceptGrams(pairs=True)(fold("apaga o histórico, apaga tudo"))
    assert grams.count("erase") == 2
    assert grams.count("erase+record") == 1


def test_a_token_reads_in_the_officers_words() -> None:
    assert label("erase+record") == "deleting or erasing + the record or its trail"
    assert label("neg_guarantee") == "not a guarantee or promise"


def test_the_lexicon_is_written_folded_and_every_stem_is_long_enough() -> None:
    for name, concept in CONCEPTS.items():
        assert concept.label and concept.phrases, name
        for phrase in concept.phrases:
            assert fold(phrase) == phrase, (name, phrase)  # matched on folded text
            words = _phrase_words(phrase)
            assert words, (name, phrase)
            if phrase.endswith("*"):
                assert len(words[-1][0]) >= MIN_STEM, (name, phrase)
