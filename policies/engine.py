"""One batch of messages through a set of policy documents: every detector the documents need
runs once over the whole batch (text normalized once and shared), then each document combines the
findings into its verdict. Pure: `scan_jsonl` runs it without a database, the scan pipeline with
the firm's active policy versions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .detectors import links, pii, sampling
from .detectors.findings import Finding
from .detectors.lexicon import CompiledLexicon, compile_lexicon, match
from .detectors.normalize import normalize_batch
from .documents.evaluate import MessageContext, Verdict, evaluate, needs, satisfied

Classify = Callable[[Sequence[str]], list[list[Finding]]]
_NOTHING_MET = Verdict(fired=False, reason="no condition met")


@dataclass(frozen=True, slots=True)
class Message:
    text: str
    context: MessageContext = field(default_factory=MessageContext)
    key: sampling.MessageKey | None = None  # (employee, message) ids: only sampling reads them


@dataclass(frozen=True, slots=True)
class PolicyRun:
    """A policy document as the engine runs it: `ref` is what the caller knows it by (a version
    id), `seed` keys its supervision sample (stable per policy, secret per firm)."""

    ref: str
    document: Mapping[str, Any]
    seed: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one message gave: every finding of the shared detectors, and each policy's verdict."""

    findings: tuple[Finding, ...]
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    # Each policy's own term-rule and sampling findings, by ref (only where it has some): what
    # "test this text" shows even when the policy did not fire.
    own: dict[str, tuple[Finding, ...]] = field(default_factory=dict)

    @property
    def fired(self) -> list[Finding]:
        """The findings behind the policies that fired, each once, in order."""
        seen: dict[Finding, None] = {}
        for verdict in self.verdicts.values():
            if verdict.fired:
                seen.update(dict.fromkeys(verdict.findings))
        return list(seen)


class Engine:
    """Compiled once per set of policy versions (lexicons are the costly part), then `scan` per
    batch. `classify` is the ML classifiers' batch function; without it no policy's classifier
    test can hold (said by the caller, never silently: see scan_jsonl)."""

    def __init__(
        self,
        policies: Sequence[PolicyRun],
        *,
        classify: Classify | None = None,
        region: str = "BR",
        allow: Sequence[str] = (),
        deny: Sequence[str] = (),
    ) -> None:
        self.policies = list(policies)
        self.classify = classify
        self.region = region
        self.allow = links.LinkList.parse(allow)
        self.deny = links.LinkList.parse(deny)
        self._lexicon, self._rule_names = _merged_lexicon(self.policies)
        wanted = [needs(run.document) for run in self.policies]
        self._detectors = frozenset().union(*(w.detectors for w in wanted))
        self._sampling = {
            run.ref: max(w.sampling_rates)
            for run, w in zip(self.policies, wanted, strict=True)
            if w.sampling_rates
        }
        # Most messages give a policy nothing to look at: its verdict is then known without
        # evaluating it, unless its conditions hold on no findings at all (a "none" group).
        self._uses = {run.ref: w.detectors for run, w in zip(self.policies, wanted, strict=True)}
        self._holds_on_nothing = {
            run.ref: satisfied(run.document["detect"], [])[0] for run in self.policies
        }

    def scan(self, messages: Sequence[Message]) -> list[Outcome]:
        texts = [message.text for message in messages]
        shared: list[list[Finding]] = [[] for _ in texts]
        # Every policy's term rules run as one automaton over the batch (one pass per message
        # instead of one per policy); each finding goes back to the policy whose rule it is.
        own_by_run: list[list[list[Finding]]] = [[[] for _ in texts] for _ in self.policies]
        if self._lexicon is not None:
            found = match(self._lexicon, texts, normalized=normalize_batch(texts))
            for index, findings in enumerate(found):
                for finding in findings:
                    merged = finding.attributes["rule"]
                    run_index, rule = self._rule_names[merged]
                    own_by_run[run_index][index].append(
                        replace(
                            finding,
                            explanation=finding.explanation.replace(f"'{merged}'", f"'{rule}'"),
                            attributes={**finding.attributes, "rule": rule},
                        )
                    )
        if "pii" in self._detectors:
            _extend(shared, pii.detect(texts, region=self.region))
        if "links" in self._detectors:
            _extend(shared, links.detect(texts, allow=self.allow, deny=self.deny))
        if "classifier" in self._detectors and self.classify is not None:
            _extend(shared, self.classify(texts))
        outcomes = [Outcome(tuple(found)) for found in shared]
        for run, own in zip(self.policies, own_by_run, strict=True):
            if run.ref in self._sampling:
                _extend(own, _sample(messages, run, self._sampling[run.ref]))
            uses = self._uses[run.ref]
            for index, (message, outcome) in enumerate(zip(messages, outcomes, strict=True)):
                visible: Sequence[Finding] = outcome.findings
                if own[index]:
                    outcome.own[run.ref] = tuple(own[index])
                    visible = [*outcome.findings, *own[index]]
                if not self._holds_on_nothing[run.ref] and not any(
                    finding.detector in uses for finding in visible
                ):
                    outcome.verdicts[run.ref] = _NOTHING_MET
                    continue
                outcome.verdicts[run.ref] = evaluate(run.document, message.context, visible)
        return outcomes


def _merged_lexicon(
    policies: Sequence[PolicyRun],
) -> tuple[CompiledLexicon | None, dict[str, tuple[int, str]]]:
    """One rule document of every policy's rules, each renamed to a short unique key ("2.5":
    policy 2, rule 5), and the way back from key to (policy index, rule name)."""
    rules: list[dict[str, Any]] = []
    names: dict[str, tuple[int, str]] = {}
    for index, run in enumerate(policies):
        for number, rule in enumerate((run.document.get("lexicon") or {}).get("rules", [])):
            key = f"{index}.{number}"
            names[key] = (index, rule["name"])
            rules.append({**rule, "name": key})
    return (compile_lexicon({"rules": rules}) if rules else None), names


def _extend(into: list[list[Finding]], found: list[list[Finding]]) -> None:
    for bucket, more in zip(into, found, strict=True):
        bucket.extend(more)


def _sample(messages: Sequence[Message], run: PolicyRun, rate: float) -> list[list[Finding]]:
    # A message without ids (scan_jsonl's lines) cannot be drawn reproducibly: it is not sampled.
    keyed = [(i, m.key) for i, m in enumerate(messages) if m.key is not None]
    drawn: list[list[Finding]] = [[] for _ in messages]
    if keyed and run.seed:
        results = sampling.detect([key for _, key in keyed], seed=run.seed, rate=rate)
        for (index, _), found in zip(keyed, results, strict=True):
            drawn[index] = found
    return drawn
