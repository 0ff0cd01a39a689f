"""The editor's form and the policy document convert both ways exactly: a document opened in the
form and posted unchanged is the same document (so an unchanged save adds no version), what an
officer types becomes the document the schema checks, and each problem lands next to its field."""

from __future__ import annotations

import json

import pytest

from policies.documents.form import (
    NotFormEditable,
    document_from_form,
    form_from_document,
    form_from_post,
    place_problems,
)
from policies.documents.schema import validate_document
from policies.packs import packs
from tests.policies.editor_posts import post_of

FULL = {
    "name": "Moving clients off WhatsApp",
    "description": "Requests to continue elsewhere.",
    "severity": "high",
    "scope": {"teams": ["Equities", "Rates"], "regions": ["BR"], "direction": "any",
              "counterparty": "external"},
    "detect": {"any": [
        {"detector": "classifier", "category": "off_channel", "min_score": 0.8},
        {"detector": "links", "category": "off_channel"},
        {"all": [{"detector": "pii", "types": ["email"]},
                 {"detector": "lexicon", "rule": "signal"}]},
    ]},
    "exceptions": [{"detector": "lexicon", "rule": "approved"}],
    "lexicon": {"description": "own", "rules": [
        {"name": "signal", "category": "off_channel", "any": ["signal", "{braces}",
         {"terms": ["call"], "near": ["mobile"], "within": 3}], "negation": True, "score": 1},
        {"name": "approved", "category": "approved", "any": ["approved signal group"],
         "patterns": ["\\d{2} ?% (?:a|ao) mes"], "negation": False, "language": "pt"},
    ]},
    "action": {"alert": True, "notify": ["assignees", "supervisors"]},
}  # fmt: skip


@pytest.mark.parametrize(
    "document",
    [FULL] + [d for p in packs() for d in p.documents],
    ids=lambda d: d["name"],
)
def test_a_document_posted_back_unchanged_is_the_same_document(document):
    form = form_from_document(document)
    assert document_from_form(form) == document
    posted = document_from_form(form_from_post(post_of(form)))
    assert posted == document
    assert json.dumps(posted, sort_keys=True) == json.dumps(document, sort_keys=True)


def test_form_to_document_to_form_gives_the_same_document():
    data = {
        "name": ["Promises"], "severity": ["high"], "combine": ["any"],
        "cond-0-detector": ["lexicon"], "cond-0-rule": ["promise"], "cond-0-min_score": ["0,5"],
        "cond-1-detector": [""], "rule-0-name": ["promise"], "rule-0-category": ["guarantee"],
        "rule-0-any": ["garantido\r\nrisk free"], "rule-0-negation": ["on"], "alert": ["on"],
        "original": ["{}"],
    }  # fmt: skip
    document = document_from_form(form_from_post(data))
    assert document == {
        "name": "Promises", "severity": "high",
        "detect": {"detector": "lexicon", "rule": "promise", "min_score": 0.5},
        "lexicon": {"rules": [{"name": "promise", "category": "guarantee",
                               "any": ["garantido", "risk free"]}]},
    }  # fmt: skip
    assert validate_document(document) == []
    again = form_from_document(document)
    assert document_from_form(form_from_post(post_of(again))) == document


def test_fields_that_do_not_apply_to_the_chosen_detector_are_left_out():
    data = {
        "name": ["x"], "severity": ["low"], "combine": ["all"], "original": ["{}"],
        "cond-0-detector": ["pii"], "cond-0-category": ["secrecy"], "cond-0-types": ["iban"],
        "cond-1-detector": ["sampling"], "cond-1-rate": ["0.02"], "cond-1-min_score": ["0.4"],
    }  # fmt: skip
    assert document_from_form(form_from_post(data))["detect"] == {
        "all": [{"detector": "pii", "types": ["iban"]}, {"detector": "sampling", "rate": 0.02}]
    }


def test_a_removed_row_is_left_out_and_a_number_that_is_not_one_is_kept_for_the_schema():
    form = form_from_document(FULL)
    data = post_of(form)
    data["cond-1-remove"] = ["on"]
    data["cond-0-min_score"] = ["high"]
    document = document_from_form(form_from_post(data))
    assert len(document["detect"]["any"]) == 2
    problems = validate_document(document)
    shown = form_from_document(document)
    assert place_problems(shown, problems) == []
    assert shown.conditions[0].problems == {"min_score": ["must be a number"]}


def test_problems_land_next_to_their_fields():
    document = {
        "name": "", "severity": "urgent",
        "detect": {"any": [{"detector": "classifier", "category": "off_channel", "min_score": 2}]},
        "lexicon": {"rules": [{"name": "a", "category": "x", "patterns": ["(a+)+$"]}]},
    }  # fmt: skip
    form = form_from_document(document)
    left = place_problems(form, validate_document(document))
    assert left == []
    assert form.problems["name"] == ["must not be empty"]
    assert form.problems["severity"][0].startswith("must be one of")
    assert form.conditions[0].problems["min_score"] == ["must be a number from 0 to 1"]
    fixed = {**document, "name": "n", "severity": "low",
             "detect": {"detector": "lexicon", "rule": "a"}}  # fmt: skip
    form = form_from_document(fixed)
    assert place_problems(form, validate_document(fixed)) == []
    assert "patterns" in form.rules[0].problems


@pytest.mark.parametrize(
    "document",
    [
        ["not", "an", "object"],
        {"name": "x", "severity": "low", "detect": {"detector": "pii"}, "extra": 1},
        {"name": "x", "severity": "low", "detect": {"detector": "pii", "category": "x"}},
        {"name": "x", "severity": "low", "detect": {"any": [], "all": []}},
        {"name": 3, "severity": "low", "detect": {"detector": "pii"}},
    ],
)
def test_a_document_the_form_cannot_hold_says_so(document):
    with pytest.raises(NotFormEditable):
        form_from_document(document)


def test_the_empty_rows_to_fill_in_follow_the_rows_in_order():
    form = form_from_document(FULL)
    assert [row.index for row in form.conditions] == [0, 1, 2, 3, 4]
    assert [row.index for row in form.exceptions] == [0, 1]
    assert [row.index for row in form.rules] == [0, 1, 2]
