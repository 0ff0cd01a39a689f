"""The engine's fast path (each document compiled once, only the policies whose detectors found
something evaluated) gives exactly the verdicts of the plain reading of the rules
(`documents.evaluate.evaluate`), on the built-in packs and on documents that use every part of
the format, over a fixed corpus with real detectors and a real (small) classifier."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest

from policies.detectors import classifier
from policies.detectors.findings import Finding
from policies.documents.evaluate import MessageContext, Verdict, evaluate, needs, satisfied
from policies.engine import Engine, Message, PolicyRun
from policies.ml import corpus
from policies.ml.training import train_from_corpus
from policies.packs import packs

DATA = Path(__file__).parent / "data"
FILES = ["off_channel_pt_es.jsonl", "secrecy_en.jsonl", "ordinary_a.jsonl"]

# Documents beyond the packs: scope, nested groups, "none", exceptions, own rules, sampling.
EXTRA = [
    {
        "name": "Outbound promises from the Equities desk",
        "severity": "high",
        "scope": {"direction": "outbound", "teams": ["Equities"], "counterparty": "external"},
        "detect": {
            "any": [
                {"detector": "classifier", "category": "off_channel", "min_score": 0.3},
                {"all": [{"detector": "lexicon", "rule": "promise"}, {"detector": "pii"}]},
            ]
        },
        "exceptions": [{"detector": "pii", "types": ["email"]}],
        "lexicon": {
            "rules": [
                {
                    "name": "promise",
                    "category": "guarantee",
                    "any": ["garanto", "guarantee*", "prometo"],
                }
            ]
        },
        "action": {"alert": True},
    },
    {
        "name": "Holds on nothing",
        "severity": "low",
        "detect": {"none": [{"detector": "links"}, {"detector": "pii", "min_score": 0.5}]},
        "action": {"alert": True},
    },
    {
        "name": "A sample, unless it names a card",
        "severity": "low",
        "scope": {"regions": ["BR", "IN"]},
        "detect": {"detector": "sampling", "rate": 0.2},
        "exceptions": [{"detector": "pii", "types": ["credit_card", "iban"], "min_score": 0.2}],
        "action": {"alert": True},
    },
]

CONTEXTS = [
    MessageContext(),
    MessageContext(employee="7", team="Equities", region="BR", direction="outbound"),
    MessageContext(employee="8", team="Equities", region="IN", direction="inbound"),
    MessageContext(employee="9", team="Sales", region="US", direction="outbound"),
    MessageContext(team="Equities", direction="outbound", counterparty_internal=True),
]


@pytest.fixture(scope="module")
def active(tmp_path_factory: pytest.TempPathFactory) -> classifier.ActiveModel:
    root = tmp_path_factory.mktemp("corpus")
    (root / "train").mkdir()
    for name in FILES:
        shutil.copy(corpus.CORPUS_DIR / "train" / name, root / "train" / name)
    return classifier.ActiveModel(train_from_corpus(root).model, "test-model")


def _texts() -> list[str]:
    texts = [json.loads(line)["text"] for line in (DATA / "pii_eval.jsonl").open()]
    for name in FILES:
        with (corpus.CORPUS_DIR / "train" / name).open() as lines:
            texts.extend(json.loads(line)["text"] for line in itertools.islice(lines, 150))
    for name in ("phishing.txt", "legitimate.txt"):
        samples = (Path(__file__).parent / "link_samples" / name).read_text().splitlines()
        texts.extend(f"olha esse link {url}" for url in samples[:100] if url.strip())
    return texts


def _reference(run: PolicyRun, message: Message, findings: list[Finding]) -> Verdict:
    """The verdict as the rules read plainly, with the engine's one documented shortcut: a
    policy none of whose detectors found anything has met no condition (unless it holds on
    nothing)."""
    uses = needs(run.document).detectors
    holds_on_nothing = satisfied(run.document["detect"], [])[0]
    if not holds_on_nothing and not any(finding.detector in uses for finding in findings):
        return Verdict(fired=False, reason="no condition met")
    return evaluate(run.document, message.context, findings)


def test_the_engine_gives_the_verdicts_of_the_plain_rules_on_every_message(active):
    documents = [d for p in packs() for d in p.documents] + EXTRA
    runs = [PolicyRun(ref=f"p{i}", document=d, seed="firm-secret") for i, d in enumerate(documents)]
    engine = Engine(runs, classify=lambda texts: classifier.classify(texts, model=active))
    texts = _texts()
    messages = [
        Message(text, context=CONTEXTS[i % len(CONTEXTS)], key=(str(i % 13), str(i)))
        for i, text in enumerate(texts)
    ]
    outcomes = [
        o
        for start in range(0, len(messages), 200)
        for o in engine.scan(messages[start : start + 200])
    ]

    reasons: set[str] = set()
    for message, outcome in zip(messages, outcomes, strict=True):
        assert list(outcome.verdicts) == [run.ref for run in runs]
        for run in runs:
            own = list(outcome.own.get(run.ref, ()))
            expected = _reference(run, message, [*outcome.findings, *own])
            assert outcome.verdicts[run.ref] == expected, (message.text, run.document["name"])
            reasons.add(expected.reason.split(":")[0])
    # The corpus reaches every kind of verdict, so the comparison above means something.
    assert {"conditions met", "no condition met", "out of scope", "exception 1 applies"} <= reasons
    fired = {ref for o in outcomes for ref, v in o.verdicts.items() if v.fired}
    assert len(fired) >= 10
