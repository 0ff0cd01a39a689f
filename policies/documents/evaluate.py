"""A policy's verdict on one message: is it in scope, which findings satisfy its conditions, does
an exception apply. The detectors have already run (over the whole batch); this only combines
their findings, so it is cheap and runs once per message and policy version."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..detectors.findings import Finding


@dataclass(frozen=True, slots=True)
class MessageContext:
    """What scope is decided on. `counterparty_internal`: the other side is one of the firm's
    own employees (a chat between colleagues)."""

    employee: str = ""
    team: str = ""
    region: str = ""
    direction: str = ""  # inbound | outbound
    counterparty_internal: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    fired: bool
    findings: tuple[Finding, ...] = ()
    reason: str = ""  # why it did not fire, in words ("out of scope: team"), or what fired
    exception: int | None = None  # the exception (1-based) that suppressed it

    @property
    def explanation(self) -> str:
        return "; ".join(dict.fromkeys(finding.explanation for finding in self.findings))


@dataclass(frozen=True, slots=True)
class Needs:
    """What a document asks of the detectors, so a batch runs only what its policies use."""

    detectors: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    pii_types: frozenset[str] = frozenset()
    lexicon_rules: frozenset[str] = frozenset()
    sampling_rates: tuple[float, ...] = field(default=())


def _leaves(condition: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if "detector" in condition:
        return [condition]
    return [
        leaf for children in condition.values() for child in children for leaf in _leaves(child)
    ]


def needs(document: Mapping[str, Any]) -> Needs:
    leaves = _leaves(document["detect"])
    for exception in document.get("exceptions", []):
        leaves.extend(_leaves(exception))
    return Needs(
        detectors=frozenset(leaf["detector"] for leaf in leaves),
        categories=frozenset(leaf["category"] for leaf in leaves if "category" in leaf),
        pii_types=frozenset(t for leaf in leaves for t in leaf.get("types", ())),
        lexicon_rules=frozenset(leaf["rule"] for leaf in leaves if "rule" in leaf),
        sampling_rates=tuple(leaf["rate"] for leaf in leaves if leaf["detector"] == "sampling"),
    )


def out_of_scope(scope: Mapping[str, Any], context: MessageContext) -> str:
    """The first scope rule the message falls outside of, in words; "" when it is in scope."""
    if scope.get("employees") and context.employee not in scope["employees"]:
        return "out of scope: employee"
    if scope.get("teams") and context.team not in scope["teams"]:
        return "out of scope: team"
    if scope.get("regions") and context.region not in scope["regions"]:
        return "out of scope: region"
    direction = scope.get("direction", "any")
    if direction != "any" and context.direction != direction:
        return "out of scope: direction"
    counterparty = scope.get("counterparty", "any")
    if counterparty != "any" and context.counterparty_internal != (counterparty == "internal"):
        return "out of scope: counterparty"
    return ""


def leaf_findings(leaf: Mapping[str, Any], findings: Sequence[Finding]) -> list[Finding]:
    """The findings that satisfy one detector test."""
    detector = leaf["detector"]
    minimum = leaf.get("min_score", 0.0)
    category = leaf.get("category")
    if detector == "links" and category is None:
        category = "malicious_link"
    types = leaf.get("types")
    rule = leaf.get("rule")
    return [
        finding
        for finding in findings
        if finding.detector == detector
        and finding.score >= minimum
        and (category is None or finding.category == category)
        and (types is None or finding.attributes.get("type") in types)
        and (rule is None or finding.attributes.get("rule") == rule)
        and (detector != "sampling" or _sampled_at(finding, leaf["rate"]))
    ]


def _sampled_at(finding: Finding, rate: float) -> bool:
    # A sampling finding carries the draw it was selected by, so one draw serves every rate: a
    # message drawn at 0.013 is in a 2% sample and not in a 1% one.
    draw = finding.attributes.get("draw")
    return draw is not None and float(draw) < rate


def satisfied(
    condition: Mapping[str, Any], findings: Sequence[Finding]
) -> tuple[bool, list[Finding]]:
    """Whether the condition holds, and the findings that make it hold (for the explanation)."""
    if "detector" in condition:
        hits = leaf_findings(condition, findings)
        return bool(hits), hits
    ((op, children),) = condition.items()
    results = [satisfied(child, findings) for child in children]
    oks = [ok for ok, _ in results]
    if op == "none":
        return not any(oks), []
    held = all(oks) if op == "all" else any(oks)
    return held, [finding for ok, found in results if ok for finding in found] if held else []


def evaluate(
    document: Mapping[str, Any], context: MessageContext, findings: Sequence[Finding]
) -> Verdict:
    """The policy's verdict on one message, given every finding of the detectors it needs."""
    reason = out_of_scope(document.get("scope", {}), context)
    if reason:
        return Verdict(fired=False, reason=reason)
    ok, hits = satisfied(document["detect"], findings)
    if not ok:
        return Verdict(fired=False, reason="no condition met")
    for index, exception in enumerate(document.get("exceptions", []), start=1):
        if satisfied(exception, findings)[0]:
            return Verdict(fired=False, reason=f"exception {index} applies", exception=index)
    unique = tuple(dict.fromkeys(hits))
    return Verdict(fired=True, findings=unique, reason="conditions met")
