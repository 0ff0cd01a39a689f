"""The engine evaluates a policy only for findings that reach one of its leaves' minimum score
(policies/documents/compiled.py score_floors); tests/policies/test_compiled_verdicts.py checks
the verdicts stay those of the plain rules over ~2,100 messages, this the floors themselves."""

from __future__ import annotations

from policies.documents.compiled import score_floors


def test_each_detector_s_floor_is_its_lowest_leaf_minimum() -> None:
    document = {
        "detect": {
            "any": [
                {"detector": "pii", "min_score": 0.8},
                {"all": [{"detector": "pii", "min_score": 0.6}, {"detector": "classifier"}]},
                {"none": [{"detector": "links", "min_score": 0.9}]},
            ]
        },
        "exceptions": [{"detector": "pii", "min_score": 0.1}],  # only read once detect holds
    }
    assert score_floors(document) == {"pii": 0.6, "classifier": 0.0, "links": 0.9}


def test_a_scoped_policy_has_no_floors_so_its_out_of_scope_reason_stays() -> None:
    document = {
        "scope": {"direction": "outbound"},
        "detect": {"detector": "pii", "min_score": 0.8},
    }
    assert score_floors(document) is None
    assert score_floors({**document, "scope": {"direction": "any"}}) == {"pii": 0.8}
