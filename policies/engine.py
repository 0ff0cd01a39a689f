"""One batch of messages through a set of policy documents: every detector the documents need
runs once over the whole batch (text normalized once and shared), then each document combines the
findings into its verdict. Pure: `scan_jsonl` runs it without a database, the scan pipeline with
the firm's active policy versions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .detectors import links, pii, sampling
from .detectors.findings import Finding
from .detectors.lexicon import CompiledLexicon, compile_lexicon, match
from .detectors.normalize import normalize_batch
from .documents.evaluate import MessageContext, Verdict, evaluate, needs

Classify = Callable[[Sequence[str]], list[list[Finding]]]


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
        self._lexicons: dict[str, CompiledLexicon] = {
            run.ref: compile_lexicon(run.document["lexicon"])
            for run in self.policies
            if run.document.get("lexicon")
        }
        wanted = [needs(run.document) for run in self.policies]
        self._detectors = frozenset().union(*(w.detectors for w in wanted))
        self._sampling = {
            run.ref: max(w.sampling_rates)
            for run, w in zip(self.policies, wanted, strict=True)
            if w.sampling_rates
        }

    def scan(self, messages: Sequence[Message]) -> list[Outcome]:
        texts = [message.text for message in messages]
        shared: list[list[Finding]] = [[] for _ in texts]
        normalized = normalize_batch(texts) if self._lexicons else None
        if "pii" in self._detectors:
            _extend(shared, pii.detect(texts, region=self.region))
        if "links" in self._detectors:
            _extend(shared, links.detect(texts, allow=self.allow, deny=self.deny))
        if "classifier" in self._detectors and self.classify is not None:
            _extend(shared, self.classify(texts))
        outcomes = [Outcome(tuple(found)) for found in shared]
        for run in self.policies:
            own: list[list[Finding]] = [[] for _ in texts]
            lexicon = self._lexicons.get(run.ref)
            if lexicon is not None:
                _extend(own, match(lexicon, texts, normalized=normalized))
            if run.ref in self._sampling:
                _extend(own, _sample(messages, run, self._sampling[run.ref]))
            for index, (message, outcome) in enumerate(zip(messages, outcomes, strict=True)):
                visible = [*outcome.findings, *own[index]] if own[index] else outcome.findings
                outcome.verdicts[run.ref] = evaluate(run.document, message.context, visible)
        return outcomes


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
