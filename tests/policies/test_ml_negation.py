"""Negation marking for the classifiers' word block (policies/ml/text.py `word_tokens`): the
words after a negator, up to punctuation, carry NEG_, in each of the corpus's four languages."""

from __future__ import annotations

import pytest

from policies.ml.text import NEGATED, fold, word_tokens


def _marked(text: str) -> list[str]:
    return [w for w in word_tokens(fold(text), negation=True) if w.startswith(NEGATED)]


@pytest.mark.parametrize(
    ("text", "negated", "plain"),
    [
        ("No one can guarantee returns. I guarantee it",
         ["one", "can", "guarantee", "returns"], ["guarantee", "it"]),
        ("I don't promise anything, call me", ["promise", "anything"], ["call", "me"]),
        ("we never delete chats! ok", ["delete", "chats"], ["ok"]),
        ("Não apaga nada; manda o relatório", ["apaga", "nada"], ["manda", "o", "relatorio"]),
        ("sem reclamações, o app tá ótimo", ["reclamacoes"], ["o", "app", "ta", "otimo"]),
        ("nunca te prometí ganancias. firma aquí",
         ["te", "prometi", "ganancias"], ["firma", "aqui"]),
        ("no te garantizo nada\nmañana hablamos",
         ["te", "garantizo", "nada"], ["manana", "hablamos"]),
        ("ye baat kisi ko mat batana, theek hai", ["batana"], ["theek", "hai"]),
        # Hindi negates after the word too: the word before "nahi" is in scope.
        ("guarantee nahi de sakta? bol", ["guarantee", "de", "sakta"], ["bol"]),
    ],
)  # fmt: skip
def test_words_in_a_negator_s_scope_are_marked_up_to_punctuation(
    text: str, negated: list[str], plain: list[str]
) -> None:
    tokens = word_tokens(fold(text), negation=True)
    assert _marked(text) == [NEGATED + w for w in negated]
    assert tokens[-len(plain) :] == plain  # after the punctuation: the scope has ended


def test_negators_stay_bare_and_the_order_and_count_match_plain_words() -> None:
    folded = fold("I can't say. WON'T: não, nahi, nunca")
    marked = word_tokens(folded, negation=True)
    plain = word_tokens(folded)
    assert len(marked) == len(plain)
    assert [w.removeprefix(NEGATED) for w in marked] == plain
    assert {"can", "t", "won", "nao", "nahi", "nunca"} <= set(marked)


def test_without_negation_or_a_negator_nothing_is_marked() -> None:
    assert word_tokens(fold("No one can guarantee returns")) == [
        "no", "one", "can", "guarantee", "returns"
    ]  # fmt: skip
    assert _marked("I guarantee 12% a year, trust me") == []
    assert word_tokens("", negation=True) == []
