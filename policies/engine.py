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
from .documents.compiled import compile_document, score_floors
from .documents.evaluate import MessageContext, Verdict, needs, satisfied

Classify = Callable[[Sequence[str]], list[list[Finding]]]
_NOTHING_MET = Verdict(fired=False, reason="no condition met")
_NONE_OWN: dict[int, list[Finding]] = {}  # a message without own findings (read, never written)


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
        # evaluating it, unless its conditions hold on no findings at all (a "none" group). So
        # each message evaluates only the policies that use a detector which found something in
        # it (found by detector name once per message), each compiled once (documents/compiled).
        self._refs = [run.ref for run in self.policies]
        self._compiled = [compile_document(run.document) for run in self.policies]
        self._uses = [w.detectors for w in wanted]
        self._always = [
            index
            for index, run in enumerate(self.policies)
            if satisfied(run.document["detect"], [])[0]
        ]
        # Which policies a shared detector's finding can concern: (policy index, the lowest
        # score any of its leaves needs). Most findings (personal data "with no telling word
        # nearby") are under every policy's minimum: those messages evaluate nothing.
        self._users: dict[str, list[tuple[int, float]]] = {}
        for index, (run, uses) in enumerate(zip(self.policies, self._uses, strict=True)):
            floors = score_floors(run.document)
            for detector in uses:
                floor = 0.0 if floors is None else floors.get(detector, 0.0)
                self._users.setdefault(detector, []).append((index, floor))

    def scan(self, messages: Sequence[Message]) -> list[Outcome]:
        texts = [message.text for message in messages]
        shared: list[list[Finding]] = [[] for _ in texts]
        # Each policy's own findings (term rules, sampling), by message index then policy index:
        # only for the messages that have some (most have none).
        own: dict[int, dict[int, list[Finding]]] = {}
        if self._lexicon is not None:
            # Every policy's term rules run as one automaton over the batch (one pass per
            # message instead of one per policy); each finding goes back to its policy's rule.
            found = match(self._lexicon, texts, normalized=normalize_batch(texts))
            for index, findings in enumerate(found):
                for finding in findings:
                    merged = finding.attributes["rule"]
                    run_index, rule = self._rule_names[merged]
                    own.setdefault(index, {}).setdefault(run_index, []).append(
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
        for run_index, run in enumerate(self.policies):
            if run.ref in self._sampling:
                drawn = _sample(messages, run, self._sampling[run.ref])
                for index, findings in enumerate(drawn):
                    if findings:
                        own.setdefault(index, {}).setdefault(run_index, []).extend(findings)
        nothing = dict.fromkeys(self._refs, _NOTHING_MET)
        outcomes: list[Outcome] = []
        for index, (message, theirs) in enumerate(zip(messages, shared, strict=True)):
            outcome = Outcome(tuple(theirs), dict(nothing))
            outcomes.append(outcome)
            mine = own.get(index, _NONE_OWN)
            if not theirs and not mine and not self._always:
                continue  # nothing found: every verdict is "no condition met" (most messages)
            candidates = set(self._always)
            for finding in theirs:
                for run_index, floor in self._users.get(finding.detector, ()):
                    if finding.score >= floor:
                        candidates.add(run_index)
            for run_index in sorted(mine):
                outcome.own[self._refs[run_index]] = tuple(mine[run_index])
                if not self._uses[run_index].isdisjoint(f.detector for f in mine[run_index]):
                    candidates.add(run_index)
            for run_index in sorted(candidates):
                visible = (
                    [*outcome.findings, *mine[run_index]] if run_index in mine else outcome.findings
                )
                outcome.verdicts[self._refs[run_index]] = self._compiled[run_index](
                    message.context, visible
                )
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
    if len(into) != len(found):
        raise ValueError(f"a detector gave {len(found)} results for {len(into)} texts")
    for index, more in enumerate(found):
        if more:  # most texts: nothing to add
            into[index].extend(more)


def _sample(messages: Sequence[Message], run: PolicyRun, rate: float) -> list[list[Finding]]:
    # A message without ids (scan_jsonl's lines) cannot be drawn reproducibly: it is not sampled.
    keyed = [(i, m.key) for i, m in enumerate(messages) if m.key is not None]
    drawn: list[list[Finding]] = [[] for _ in messages]
    if keyed and run.seed:
        results = sampling.detect([key for _, key in keyed], seed=run.seed, rate=rate)
        for (index, _), found in zip(keyed, results, strict=True):
            drawn[index] = found
    return drawn
