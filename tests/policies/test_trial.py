"""Trying a document on a text (the editor's "test this text", the API's test action): the same
verdict the pipeline would give, every finding of the detectors the policy uses, and the
document's problems instead of a run when it has errors."""

from __future__ import annotations

import pytest

from policies.documents.evaluate import MessageContext
from policies.trial import MAX_TRIAL_TEXT, try_document

CPF_POLICY = {
    "name": "CPF numbers",
    "severity": "medium",
    "detect": {"detector": "pii", "types": ["br_cpf"], "min_score": 0.5},
    "action": {"alert": True},
}

TERM_POLICY = {
    "name": "Promises of returns",
    "severity": "high",
    "scope": {"direction": "outbound"},
    "detect": {"detector": "lexicon", "rule": "promise"},
    "lexicon": {"rules": [{"name": "promise", "category": "guarantee", "any": ["garantido"]}]},
    "action": {"alert": True},
}


def test_a_document_that_fires_gives_its_verdict_and_the_findings_with_spans():
    text = "Segue meu CPF 529.982.247-25 pra abertura"
    trial = try_document(CPF_POLICY, text)
    assert trial.runnable and trial.verdict is not None
    assert trial.verdict.fired
    [finding] = trial.findings
    assert finding.attributes["type"] == "br_cpf"
    span = finding.spans[0]
    assert text[span.start : span.end] == "529.982.247-25"


def test_a_policy_out_of_scope_still_shows_what_its_own_rules_found_and_why_it_did_not_fire():
    trial = try_document(
        TERM_POLICY, "retorno garantido!", context=MessageContext(direction="inbound")
    )
    assert trial.verdict is not None and not trial.verdict.fired
    assert "scope" in trial.verdict.reason
    assert [f.attributes["rule"] for f in trial.findings] == ["promise"]


def test_findings_of_detectors_the_policy_does_not_use_are_left_out():
    trial = try_document(TERM_POLICY, "retorno garantido, CPF 529.982.247-25")
    assert {f.detector for f in trial.findings} == {"lexicon"}


def test_a_document_with_errors_gives_its_problems_and_no_run():
    trial = try_document({"name": "", "severity": "urgent"}, "anything")
    assert not trial.runnable
    assert trial.findings == ()
    assert any(not problem.warning for problem in trial.problems)


def test_a_text_too_long_is_refused_with_its_limit():
    with pytest.raises(ValueError, match="longer than"):
        try_document(CPF_POLICY, "a" * (MAX_TRIAL_TEXT + 1))


def test_segments_cut_the_text_at_the_spans_merge_overlaps_and_join_back():
    from policies.detectors.findings import Finding, Span
    from policies.trial import segments

    text = "😀 abc garantido xyz"

    def finding(start: int, end: int) -> Finding:
        return Finding("guarantee", "lexicon", 1.0, (Span(start, end),), "test")

    pieces = segments(text, [finding(6, 11), finding(8, 15), finding(30, 40)])
    assert pieces == [("😀 abc ", False), ("garantido", True), (" xyz", False)]
    assert "".join(piece for piece, _ in pieces) == text
    assert segments("", []) == [("", False)]
