from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.detectors.findings import Finding
from policies.detectors.lexicon import (
    LexiconError,
    compile_lexicon,
    lexicon_hash,
    match,
    pattern_problem,
    seed_lexicon,
    validate_lexicon,
)
from policies.detectors.normalize import normalize_batch


def rules(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"rules": list(rules)}


def rule(name: str = "Test rule", category: str = "guarantee", **fields: Any) -> dict[str, Any]:
    return {"name": name, "category": category, **fields}


def findings_of(document: dict[str, Any], text: str) -> list[Finding]:
    return match(compile_lexicon(document), [text])[0]


def fires(document: dict[str, Any], text: str) -> bool:
    return bool(findings_of(document, text))


def highlighted(text: str, finding: Finding) -> list[str]:
    return [text[span.start : span.end] for span in finding.spans]


GUARANTEE = rules(
    rule(
        name="Guaranteed returns",
        any=[
            "risk-free return*",
            {"terms": ["guarant*", "garantid*"], "near": ["return*", "retorno*"], "within": 3},
        ],
        exclude=["guaranteed delivery"],
    )
)


# --- terms, phrases, wildcards, word boundaries -------------------------------------------------


def test_a_phrase_matches_across_case_accents_punctuation_and_spacing() -> None:
    document = rules(rule(any=["ações garantidas"]))
    for text in [
        "AÇÕES GARANTIDAS",
        "acoes   garantidas",
        "Ações-garantidas!",
        "acoes\ngarantidas",
    ]:
        assert fires(document, text), text
    assert not fires(document, "ações não garantidas")


def test_a_wildcard_matches_any_ending_of_a_word() -> None:
    document = rules(rule(any=["invest*"]))
    assert fires(document, "Investimento seguro")
    assert fires(document, "our investors")
    assert not fires(document, "reinvest later")  # the start is a word boundary


def test_a_wildcard_inside_a_phrase() -> None:
    document = rules(rule(any=["invest* advice"]))
    assert fires(document, "some investment advice for you")
    assert not fires(document, "investment, no advice")  # punctuation is fine, another word not
    assert fires(document, "investment, advice")


def test_whole_words_only_with_unicode_boundaries() -> None:
    document = rules(rule(any=["cao"]))
    # `ação` folds to `acao`: the `cao` inside it is not a word of its own.
    assert not fires(document, "uma ação")
    assert fires(document, "o cão")
    assert not fires(rules(rule(any=["sign"])), "signal processing")


def test_leetspeak_and_repeated_letters_are_found() -> None:
    finding = findings_of(GUARANTEE, "These are GU4R4NT33D returns!!")[0]
    assert finding.explanation.startswith("'GU4R4NT33D' within 3 words of 'returns'")
    assert fires(GUARANTEE, "guaranteeeed returnsss")


def test_a_finding_names_its_rule_category_and_detector_and_highlights_the_original() -> None:
    text = "Olá, RETORNO garantido 😀 de 2% ao mês"
    (finding,) = findings_of(GUARANTEE, text)
    assert finding.category == "guarantee"
    assert finding.detector == "lexicon"
    assert finding.attributes == {"rule": "Guaranteed returns"}
    assert finding.score == 1.0
    assert highlighted(text, finding) == ["RETORNO", "garantido"]
    assert "(rule 'Guaranteed returns')" in finding.explanation


def test_spans_point_into_the_original_after_collapsed_punctuation_and_invisible_characters() -> (
    None
):
    text = "ok!!!   ...  the\u200b   guar\u200banteed ,,, returns"
    (finding,) = findings_of(GUARANTEE, text)
    assert highlighted(text, finding) == ["guar\u200banteed", "returns"]


# --- proximity ---------------------------------------------------------------------------------


def test_proximity_counts_words_between() -> None:
    assert fires(GUARANTEE, "returns are guaranteed")
    assert fires(GUARANTEE, "guaranteed, I say, returns")  # 3 words apart
    assert not fires(GUARANTEE, "guaranteed: I tell you, returns")  # 4 words apart


def test_ordered_proximity_wants_the_first_term_first() -> None:
    document = rules(
        rule(any=[{"terms": ["delete"], "near": ["chat"], "within": 3, "ordered": True}])
    )
    (finding,) = findings_of(document, "pls delete this chat")
    assert finding.explanation.startswith("'delete' up to 3 words before 'chat'")
    assert not fires(document, "chat: please delete")


# --- exclusions, AND, NOT ----------------------------------------------------------------------


def test_exclusions_are_local_to_the_excluded_phrase() -> None:
    document = rules(
        rule(category="off_channel", any=["signal"], exclude=["signal processing"]),
    )
    assert not fires(document, "Signal processing meeting at 3")
    text = "signal processing is done, move to Signal"
    (finding,) = findings_of(document, text)
    assert highlighted(text, finding) == ["Signal"]
    assert text.rindex("Signal") == finding.spans[0].start


def test_guaranteed_delivery_is_excluded() -> None:
    assert not fires(GUARANTEE, "guaranteed delivery, returns accepted")


def test_all_terms_must_be_present() -> None:
    document = rules(rule(any=["tip"], all=["earnings", "buy"]))
    assert fires(document, "tip: buy before earnings")
    assert not fires(document, "tip: buy now")


def test_a_none_term_silences_the_rule() -> None:
    document = rules(rule(any=["delete"], none=["duplicate"]))
    assert fires(document, "delete it")
    assert not fires(document, "delete the duplicate slide")


def test_a_rule_of_all_terms_only() -> None:
    document = rules(rule(all=["cash", "doctor"]))
    assert fires(document, "cash for the doctor")
    assert not fires(document, "cash only")


# --- negation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "returns are NOT guaranteed",
        "returns aren't guaranteed",
        "past performance does not guarantee future returns",
        "there is no guarantee of returns",
        "o retorno não é garantido",
        "el retorno no está garantizado",
        "returns guarantee nahi hai",
        "returns never guaranteed",
    ],
)
def test_a_negated_term_does_not_fire(text: str) -> None:
    document = rules(
        rule(
            any=[
                {
                    "terms": ["guarant*", "garanti*"],
                    "near": ["return*", "retorno*"],
                    "within": 4,
                }
            ]
        )
    )
    assert not fires(document, text)


@pytest.mark.parametrize(
    "text",
    [
        "not only guaranteed returns but more",
        "no risk, guaranteed returns",
        "it is not a problem. Returns are guaranteed",
        "no. guaranteed returns",
    ],
)
def test_a_negator_that_does_not_negate_the_term(text: str) -> None:
    assert fires(GUARANTEE, text)


def test_negation_can_be_turned_off_for_terms_that_carry_it() -> None:
    document = rules(rule(category="complaint", any=["received"], negation=False))
    assert fires(document, "I have not received my money")
    assert not fires(rules(rule(category="complaint", any=["received"])), "not received")


# --- regular expressions -----------------------------------------------------------------------


def test_a_pattern_fires_and_highlights_its_match() -> None:
    document = rules(rule(name="Percent a month", patterns=[r"\d{1,2}% a(?:o)? mes"]))
    text = "Rende 5% ao MÊS garantido"
    (finding,) = findings_of(document, text)
    assert highlighted(text, finding) == ["5% ao MÊS"]
    assert "(pattern)" in finding.explanation


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (r"(a+)+$", "repeats a group that itself repeats"),
        (r"(\w+\s?)+x", "repeats a group that itself repeats"),
        (r"(x+x+)+y", "repeats a group that itself repeats"),
        (r"(a{1,5})*b", "repeats a group that itself repeats"),
        (r"(a|ab)*c", "alternatives that can match the same text"),
        (r"(a)\1", "backreference"),
        (r"(?P<x>a)(?P=x)", "backreference"),
        (r"a{1,5000}", "at most 1000"),
        (r".*a.*b.*c.*d", "unbounded repeats"),
        (r"[a-", "is not a valid regular expression"),
        (r"(?<=a+)b", "is not a valid regular expression"),
        ("a" * 301, "at most 300 characters"),
    ],
)
def test_a_pattern_that_could_backtrack_catastrophically_is_refused(
    pattern: str, problem: str
) -> None:
    found = [str(p) for p in validate_lexicon(rules(rule(patterns=[pattern])))]
    assert any(p.startswith("rules[0].patterns[0]: ") and problem in p for p in found), found
    with pytest.raises(LexiconError, match=r"rules\[0\]\.patterns\[0\]"):
        compile_lexicon(rules(rule(patterns=[pattern])))


@pytest.mark.parametrize("pattern", [r"\d{3}-\d{2}-\d{4}", r"(?:ab|cd)+", r"\bwire\s+\w+"])
def test_ordinary_patterns_are_accepted(pattern: str) -> None:
    assert pattern_problem(pattern) is None


def test_the_refused_shape_really_is_slow_in_python() -> None:
    # Why the check exists: this pattern takes seconds on 26 characters; the lexicon refuses it
    # before it ever meets a message.
    import re

    started = time.perf_counter()
    re.search(r"(a+)+$", "a" * 22 + "!")
    assert time.perf_counter() - started > 0.05
    assert pattern_problem(r"(a+)+$") is not None


# --- validation --------------------------------------------------------------------------------


def problems(document: object) -> list[str]:
    return [f"{p.severity}: {p}" for p in validate_lexicon(document)]


def test_a_valid_document_has_no_problems() -> None:
    assert problems(GUARANTEE) == []


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([], "error: a rule document is an object"),
        ({}, "error: rules: is missing"),
        ({"rules": [1]}, "error: rules[0]: a rule is an object"),
        (rules(rule(name="")), "error: rules[0].name: a rule needs a name"),
        (rules(rule(category="Bad Cat", any=["x1"])), "error: rules[0].category"),
        (rules(rule(any=["ok"], score=2)), "error: rules[0].score"),
        (rules(rule(any=["ok"], score=True)), "error: rules[0].score"),
        (rules(rule()), "error: rules[0]: a rule needs at least one term"),
        (rules(rule(any="word")), "error: rules[0].any: is a list of terms"),
        (rules(rule(any=[3])), "error: rules[0].any[0]: is not a term or a proximity clause"),
        (rules(rule(any=["in*vest"])), "error: rules[0].any[0]: 'in*vest': '*' may only end"),
        (rules(rule(any=["!!!"])), "error: rules[0].any[0]: '!!!' has no letters or digits"),
        (rules(rule(any=["x" * 201])), "error: rules[0].any[0]: a term has at most 200"),
        (
            rules(rule(any=[{"terms": ["a1"], "near": ["b1"], "within": 0}])),
            "error: rules[0].any[0].within: is a whole number of words, 1 to 50",
        ),
        (
            rules(rule(any=[{"terms": [], "near": ["b1"], "within": 2}])),
            "error: rules[0].any[0].terms: a proximity clause needs terms",
        ),
        (rules(rule(any=["ok"], colour="red")), "error: rules[0]: unknown field(s): colour"),
        (rules(rule(any=["ok"]), rule(any=["no"])), "error: rules[1].name: 'Test rule' is used"),
        (rules(rule(any=["ok"], negation="yes")), "error: rules[0].negation: is true or false"),
        (rules(rule(any=["ok"], none=[{"terms": ["a"]}])), "error: rules[0].none[0]: is not a"),
    ],
)
def test_a_malformed_document_gets_a_clear_error_with_its_path(
    document: object, expected: str
) -> None:
    found = problems(document)
    assert any(problem.startswith(expected) for problem in found), found
    with pytest.raises(LexiconError):
        compile_lexicon(document)


@pytest.mark.parametrize(
    ("term", "warning"),
    [
        ("*", "'*' matches every word"),
        ("a", "single character"),
        ("a*", "matches every word starting with 'a'"),
    ],
)
def test_a_rule_that_matches_nearly_everything_is_compiled_with_a_warning(
    term: str, warning: str
) -> None:
    document = rules(rule(any=[term]))
    compiled = compile_lexicon(document)
    assert any(warning in str(problem) for problem in compiled.warnings)
    assert all(problem.severity == "warning" for problem in compiled.warnings)
    assert match(compiled, ["a b c"]) != [[]]


def test_a_pattern_that_matches_empty_text_is_warned() -> None:
    compiled = compile_lexicon(rules(rule(patterns=["x*"])))
    assert "matches empty text" in str(compiled.warnings[0])


def test_a_document_that_is_not_json_is_refused() -> None:
    with pytest.raises(LexiconError, match="not a JSON document"):
        compile_lexicon({"rules": [{"name": {1, 2}}]})


# --- compilation cache and batches --------------------------------------------------------------


def test_a_document_compiles_once_per_content() -> None:
    first = compile_lexicon(GUARANTEE)
    reordered = {"rules": [dict(reversed(list(GUARANTEE["rules"][0].items())))]}
    assert compile_lexicon(reordered) is first
    assert lexicon_hash(reordered) == first.content_hash
    changed = rules(rule(any=["other"]))
    assert compile_lexicon(changed) is not first


def test_a_batch_gives_one_list_per_text_in_order_and_accepts_shared_normalization() -> None:
    texts = ["nothing here", "guaranteed returns", "", "returns guaranteed!"]
    compiled = compile_lexicon(GUARANTEE)
    by_text = match(compiled, texts)
    assert [len(found) for found in by_text] == [0, 1, 0, 1]
    assert match(compiled, texts, normalized=normalize_batch(texts)) == by_text
    with pytest.raises(ValueError, match="one entry per text"):
        match(compiled, texts, normalized=normalize_batch(texts[:1]))


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "😀😀😀🙏🏽",
        "\x00\x01\x02\xff" * 100,
        "bad \ud83d surrogate",
        "русский текст 中文 العربية हिन्दी",
    ],
)
def test_odd_input_gives_no_findings_and_no_error(text: str) -> None:
    assert match(compile_lexicon(GUARANTEE), [text]) == [[]]


def test_mixed_scripts_and_surrogates_still_match_their_words() -> None:
    text = "\ud83d доход guaranteed returns 中文"
    (finding,) = findings_of(GUARANTEE, text)
    assert highlighted(text, finding) == ["guaranteed", "returns"]


def test_a_huge_message_is_matched_in_linear_time() -> None:
    text = ("filler words here " * 5_500) + "guaranteed returns"  # about 100 KB
    compiled = compile_lexicon(GUARANTEE)
    started = time.perf_counter()
    (found,) = match(compiled, [text])
    assert time.perf_counter() - started < 2.0
    assert highlighted(text, found[0]) == ["guaranteed", "returns"]


def test_a_huge_message_full_of_matches_stays_bounded() -> None:
    text = "guaranteed returns " * 5_000
    compiled = compile_lexicon(GUARANTEE)
    started = time.perf_counter()
    (found,) = match(compiled, [text])
    assert time.perf_counter() - started < 10.0
    assert found[0].category == "guarantee"


def test_negators_follow_the_rules_language() -> None:
    # Portuguese `no` is "in the": it negates nothing in a Portuguese rule.
    portuguese = rules(rule(category="off_channel", language="pt", any=["telegram"]))
    assert fires(portuguese, "me chama no Telegram")
    assert not fires(portuguese, "não usa o Telegram")
    spanish = rules(rule(category="off_channel", language="es", any=["telegram"]))
    assert not fires(spanish, "no uses Telegram")
    # Without a language, every language's negators count.
    assert not fires(rules(rule(category="off_channel", any=["telegram"])), "no Telegram")


def test_hinglish_negation_after_the_term_holds_for_every_language() -> None:
    document = rules(rule(language="en", any=["guaranteed returns"]))
    assert not fires(document, "guaranteed returns nahi hai")
    assert fires(document, "guaranteed returns milega")


def test_an_unknown_language_is_an_error() -> None:
    assert "error: rules[0].language: is one of en, es, hi-Latn, pt" in " ".join(
        problems(rules(rule(any=["ok"], language="fr")))
    )


SEED_WORDS = ["guaranteed", "returns", "não", "garantido", "retorno", "delete", "chat", "signal"]


@given(
    st.lists(
        st.one_of(st.sampled_from(SEED_WORDS), st.text(max_size=6)),
        max_size=12,
    ).map(" ".join)
)
def test_any_text_matches_without_error_and_spans_stay_inside_it(text: str) -> None:
    compiled = compile_lexicon(seed_lexicon())
    for finding in match(compiled, [text])[0]:
        assert finding.spans
        for span in finding.spans:
            assert 0 <= span.start < span.end <= len(text)
