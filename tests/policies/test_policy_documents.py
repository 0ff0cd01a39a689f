"""Policy documents: the schema's answers a person can act on, and how conditions, scope and
exceptions combine the detectors' findings into a verdict."""

from __future__ import annotations

import copy

import pytest

from policies.detectors.findings import Finding, Span
from policies.documents.evaluate import MessageContext, evaluate, needs
from policies.documents.schema import validate_document

OFF_CHANNEL = {
    "name": "Moving clients off WhatsApp",
    "severity": "high",
    "scope": {"teams": ["Equities"], "direction": "any", "counterparty": "external"},
    "detect": {
        "any": [
            {"detector": "classifier", "category": "off_channel", "min_score": 0.8},
            {"detector": "links", "category": "off_channel"},
        ]
    },
    "exceptions": [{"detector": "lexicon", "rule": "approved-signal-group"}],
    "lexicon": {
        "rules": [
            {
                "name": "approved-signal-group",
                "category": "approved",
                "any": ["compliance signal group"],
            }
        ]
    },
    "action": {"alert": True, "notify": ["assignees"]},
}
EQUITIES_CLIENT = MessageContext(
    employee="BR-001", team="Equities", region="BR", direction="inbound"
)


def classifier(category: str, score: float) -> Finding:
    return Finding(category, "classifier", score, (Span(0, 4),), f"reads as {category}")


def lexicon(rule: str, category: str = "secrecy") -> Finding:
    return Finding(category, "lexicon", 1.0, (Span(0, 4),), f"rule {rule}", {"rule": rule})


def pii(kind: str, score: float = 0.9) -> Finding:
    return Finding("pii", "pii", score, (Span(0, 11),), kind, {"type": kind, "value": "x"})


def test_a_good_document_has_no_problem():
    assert validate_document(OFF_CHANNEL) == []


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        (lambda d: d.pop("severity"), "", "missing severity"),
        (lambda d: d.update(severity="urgent"), "severity", "must be one of low, medium"),
        (lambda d: d.update(colour="red"), "", "unknown field"),
        (
            lambda d: d["detect"]["any"][0].update(min_score=1.5),
            "detect > any > 1 > min_score",
            "from 0 to 1",
        ),
        (
            lambda d: d["detect"]["any"].append({"detector": "telepathy"}),
            "detect > any > 3 > detector",
            "must be one of lexicon, pii, links, classifier, sampling",
        ),
        (lambda d: d.update(detect={"any": []}), "detect > any", "must not be empty"),
        (
            lambda d: d.update(detect={"any": [], "all": []}),
            "detect",
            "a group is one of any, all or none",
        ),
        (lambda d: d["scope"].update(regions=["brazil"]), "scope > regions > 1", "country code"),
        (
            lambda d: d["exceptions"][0].update(rule="unknown"),
            "exceptions > 1",
            "no rule of this name in the policy's lexicon",
        ),
        (
            lambda d: d["lexicon"]["rules"][0].update(any=[]),
            "lexicon > rules[0]",
            "",
        ),
        (
            lambda d: d["detect"]["any"][0].update(category="gossip"),
            "detect > any > 1",
            "the classifier needs a category",
        ),
        (
            lambda d: d["detect"]["any"][1].update(types=["br_cpf"]),
            "detect > any > 2",
            "'types' does not apply to the links detector",
        ),
        (
            lambda d: d["detect"]["any"].append({"detector": "sampling"}),
            "detect > any > 3",
            "sampling needs a rate",
        ),
    ],
)
def test_a_bad_document_gets_a_problem_that_says_where_and_what(change, where, says):
    document = copy.deepcopy(OFF_CHANNEL)
    change(document)
    problems = validate_document(document)
    assert problems, "the change must be refused"
    assert any(p.where == where and says in p.message and not p.warning for p in problems), [
        str(p) for p in problems
    ]


@pytest.mark.parametrize("document", [None, [], "policy", 3, {"detect": "x" * 100_000}])
def test_what_is_not_a_document_at_all_is_refused_without_echoing_it(document):
    problems = validate_document(document)
    assert problems and all(len(str(p)) < 300 for p in problems)


def test_a_hostile_depth_is_refused_without_recursing():
    condition: dict = {"detector": "pii"}
    for _ in range(5_000):
        condition = {"all": [condition]}
    problems = validate_document({"name": "deep", "severity": "low", "detect": condition})
    assert [p.message for p in problems] == ["nested more than 8 levels deep"]


def test_nesting_beyond_the_limit_is_refused():
    condition: dict = {"detector": "pii"}
    for _ in range(12):
        condition = {"all": [condition]}
    problems = validate_document({"name": "deep", "severity": "low", "detect": condition})
    assert any("nested more than" in p.message for p in problems)


@pytest.mark.parametrize(
    "detect",
    [{"none": [{"detector": "pii"}]}, {"any": [{"detector": "sampling", "rate": 1}]}],
)
def test_a_policy_that_flags_nearly_everything_is_warned_about(detect):
    problems = validate_document({"name": "all", "severity": "low", "detect": detect})
    assert [p.warning for p in problems] == [True]


def test_the_verdict_fires_with_the_findings_that_made_it():
    found = [classifier("off_channel", 0.93), classifier("secrecy", 0.99), pii("br_cpf")]
    verdict = evaluate(OFF_CHANNEL, EQUITIES_CLIENT, found)
    assert verdict.fired
    assert verdict.findings == (found[0],)
    assert verdict.explanation == "reads as off_channel"


def test_below_the_threshold_nothing_fires():
    verdict = evaluate(OFF_CHANNEL, EQUITIES_CLIENT, [classifier("off_channel", 0.79)])
    assert (verdict.fired, verdict.reason) == (False, "no condition met")


def test_an_exception_suppresses_and_says_which():
    found = [classifier("off_channel", 0.95), lexicon("approved-signal-group")]
    verdict = evaluate(OFF_CHANNEL, EQUITIES_CLIENT, found)
    assert (verdict.fired, verdict.exception) == (False, 1)


@pytest.mark.parametrize(
    ("context", "reason"),
    [
        (MessageContext(team="Rates", direction="inbound"), "out of scope: team"),
        (
            MessageContext(team="Equities", direction="inbound", counterparty_internal=True),
            "out of scope: counterparty",
        ),
    ],
)
def test_scope_is_decided_before_any_finding(context, reason):
    verdict = evaluate(OFF_CHANNEL, context, [classifier("off_channel", 0.99)])
    assert (verdict.fired, verdict.reason) == (False, reason)


def test_all_any_and_none_combine_as_written():
    document = {
        "name": "CPF shared with a secrecy request, unless it is the client's own onboarding",
        "severity": "critical",
        "detect": {
            "all": [
                {"detector": "pii", "types": ["br_cpf", "br_cnpj"], "min_score": 0.5},
                {"any": [
                    {"detector": "classifier", "category": "secrecy"},
                    {"detector": "lexicon", "rule": "hush"},
                ]},
                {"none": [{"detector": "lexicon", "rule": "onboarding", "category": "ok"}]},
            ]
        },
        "lexicon": {"rules": [
            {"name": "hush", "category": "secrecy", "any": ["between us"]},
            {"name": "onboarding", "category": "ok", "any": ["abertura de conta"]},
        ]},
    }  # fmt: skip
    assert validate_document(document) == []
    everyone = MessageContext()
    assert evaluate(document, everyone, [pii("br_cpf"), lexicon("hush")]).fired
    assert not evaluate(document, everyone, [pii("br_cpf")]).fired
    assert not evaluate(document, everyone, [pii("email"), lexicon("hush")]).fired
    assert not evaluate(document, everyone, [pii("br_cpf", 0.3), lexicon("hush")]).fired
    blocked = [pii("br_cpf"), lexicon("hush"), lexicon("onboarding", "ok")]
    assert not evaluate(document, everyone, blocked).fired
    assert set(evaluate(document, everyone, [pii("br_cnpj"), lexicon("hush")]).findings) == {
        pii("br_cnpj"),
        lexicon("hush"),
    }


def test_a_sample_holds_the_messages_drawn_below_its_rate():
    document = {
        "name": "2% review",
        "severity": "low",
        "detect": {"detector": "sampling", "rate": 0.02},
    }
    drawn = Finding("sampling", "sampling", 1.0, (), "drawn", {"draw": "0.013"})
    not_drawn = Finding("sampling", "sampling", 1.0, (), "drawn", {"draw": "0.5"})
    assert evaluate(document, MessageContext(), [drawn]).fired
    assert not evaluate(document, MessageContext(), [not_drawn]).fired


def test_needs_lists_what_the_detectors_must_run():
    wanted = needs(OFF_CHANNEL)
    assert wanted.detectors == {"classifier", "links", "lexicon"}
    assert wanted.categories == {"off_channel"}
    assert wanted.lexicon_rules == {"approved-signal-group"}


@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800b"], ids=["nul", "surrogate"])
def test_a_character_postgresql_cannot_keep_is_a_problem_that_says_where(bad):
    document = {
        "name": "ok",
        "severity": "low",
        "detect": {"any": [{"detector": "pii"}, {"detector": "lexicon", "rule": bad}]},
    }
    [problem] = validate_document(document)
    assert problem.where == "detect > any > 2 > rule" and "cannot be kept" in problem.message
    assert validate_document({**document, bad: 1, "detect": {"detector": "pii"}})[0].where == ""
