"""A policy document compiled once into closures, for the scan's hot path.

`evaluate.evaluate` reads the document (a nested mapping) for every message: the scope's keys,
each leaf's detector, threshold and category, again and again. The engine evaluates one policy
version over hundreds of thousands of messages, so it compiles the document once per version
into small functions over the findings, which give the same verdict, with the same findings in
the same order and the same reason (tests/policies/test_compiled_verdicts.py keeps the two equal
on the built-in packs). `evaluate` stays the readable statement of the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..detectors.findings import Finding
from .evaluate import MessageContext, Verdict, out_of_scope

Findings = Sequence[Finding]
Condition = Callable[[Findings], tuple[bool, list[Finding]]]
Evaluate = Callable[[MessageContext, Findings], Verdict]

_NO_CONDITION = Verdict(fired=False, reason="no condition met")


def _leaf(leaf: Mapping[str, Any]) -> Condition:
    detector: str = leaf["detector"]
    minimum: float = leaf.get("min_score", 0.0)
    category: str | None = leaf.get("category")
    if detector == "links" and category is None:
        category = "malicious_link"
    raw_types = leaf.get("types")
    types = None if raw_types is None else frozenset(raw_types)
    rule: str | None = leaf.get("rule")
    rate: float | None = leaf["rate"] if detector == "sampling" else None

    def test(finding: Finding) -> bool:
        if finding.detector != detector or finding.score < minimum:
            return False
        if category is not None and finding.category != category:
            return False
        if types is not None and finding.attributes.get("type") not in types:
            return False
        if rule is not None and finding.attributes.get("rule") != rule:
            return False
        if rate is not None:
            draw = finding.attributes.get("draw")
            return draw is not None and float(draw) < rate
        return True

    def condition(findings: Findings) -> tuple[bool, list[Finding]]:
        hits = [finding for finding in findings if test(finding)]
        return bool(hits), hits

    return condition


def compile_condition(condition: Mapping[str, Any]) -> Condition:
    """The condition as a function of the findings: (holds, the findings that make it hold)."""
    if "detector" in condition:
        return _leaf(condition)
    ((op, raw_children),) = condition.items()
    children = [compile_condition(child) for child in raw_children]

    if op == "none":

        def none_of(findings: Findings) -> tuple[bool, list[Finding]]:
            return not any(child(findings)[0] for child in children), []

        return none_of

    if op == "all":

        def all_of(findings: Findings) -> tuple[bool, list[Finding]]:
            hits: list[Finding] = []
            for child in children:
                ok, found = child(findings)
                if not ok:  # the rest cannot change a failed "all", nor add findings to it
                    return False, []
                hits.extend(found)
            return True, hits

        return all_of

    def any_of(findings: Findings) -> tuple[bool, list[Finding]]:
        # Every child runs: the findings of each one that holds go into the explanation.
        hits: list[Finding] = []
        held = False
        for child in children:
            ok, found = child(findings)
            if ok:
                held = True
                hits.extend(found)
        return held, hits if held else []

    return any_of


def _scope(scope: Mapping[str, Any]) -> Callable[[MessageContext], str] | None:
    """The scope check, or None when the scope lets every message in (most policies)."""
    if (
        not scope.get("employees")
        and not scope.get("teams")
        and not scope.get("regions")
        and scope.get("direction", "any") == "any"
        and scope.get("counterparty", "any") == "any"
    ):
        return None
    frozen = dict(scope)
    return lambda context: out_of_scope(frozen, context)


def score_floors(document: Mapping[str, Any]) -> dict[str, float] | None:
    """Per detector, the lowest score a finding of it needs to satisfy any leaf of the
    document's `detect`: a finding under it changes no leaf, so a message whose findings are all
    under their floors gets the verdict of no findings at all. None when the document has a
    scope, whose verdict on an out-of-scope message says so even when nothing was found."""
    if _scope(document.get("scope", {})) is not None:
        return None
    floors: dict[str, float] = {}

    def walk(condition: Mapping[str, Any]) -> None:
        if "detector" in condition:
            detector = condition["detector"]
            floor = float(condition.get("min_score", 0.0))
            floors[detector] = min(floors.get(detector, floor), floor)
            return
        for children in condition.values():
            for child in children:
                walk(child)

    walk(document["detect"])
    return floors


def compile_document(document: Mapping[str, Any]) -> Evaluate:
    """`evaluate.evaluate` for one document, compiled: call it with (context, findings)."""
    scope = _scope(document.get("scope", {}))
    detect = compile_condition(document["detect"])
    exceptions = [compile_condition(e) for e in document.get("exceptions", [])]

    def verdict(context: MessageContext, findings: Findings) -> Verdict:
        if scope is not None:
            reason = scope(context)
            if reason:
                return Verdict(fired=False, reason=reason)
        ok, hits = detect(findings)
        if not ok:
            return _NO_CONDITION
        for index, exception in enumerate(exceptions, start=1):
            if exception(findings)[0]:
                return Verdict(fired=False, reason=f"exception {index} applies", exception=index)
        return Verdict(fired=True, findings=tuple(dict.fromkeys(hits)), reason="conditions met")

    return verdict
