from __future__ import annotations

import pytest

from policies.detectors.findings import CATEGORIES, ML_CATEGORIES, Finding, Span


def test_a_finding_flattens_its_attributes_into_the_scan_jsonl_shape() -> None:
    finding = Finding(
        category="pii",
        detector="pii",
        score=0.912345,
        spans=(Span(4, 18),),
        explanation="Brazilian CPF with valid check digits",
        attributes={"type": "br_cpf", "value": "123.456.789-09"},
    )
    assert finding.as_dict() == {
        "category": "pii",
        "detector": "pii",
        "score": 0.9123,
        "spans": [[4, 18]],
        "explanation": "Brazilian CPF with valid check digits",
        "type": "br_cpf",
        "value": "123.456.789-09",
    }


@pytest.mark.parametrize("score", [-0.01, 1.01, float("nan")])
def test_a_score_outside_zero_to_one_is_refused(score: float) -> None:
    with pytest.raises(ValueError, match="score"):
        Finding("secrecy", "classifier", score, (), "")


def test_a_span_runs_forwards() -> None:
    with pytest.raises(ValueError, match="span"):
        Span(5, 2)


def test_the_eight_ml_categories_come_first_in_the_public_vocabulary() -> None:
    assert CATEGORIES[:8] == ML_CATEGORIES
    assert len(set(CATEGORIES)) == len(CATEGORIES) == 10
