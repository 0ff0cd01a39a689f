"""The shape of a policy document, as a JSON Schema (draft 2020-12), and its validation with
problems a compliance officer can act on (where, and what is wrong) instead of a stack trace.

A document::

    {
      "name": "Moving clients off WhatsApp",
      "description": "Requests to continue on channels the firm does not record.",
      "severity": "high",
      "scope": {"teams": ["Equities"], "regions": ["BR"], "direction": "any",
                "counterparty": "external"},
      "detect": {"any": [
          {"detector": "classifier", "category": "off_channel", "min_score": 0.8},
          {"detector": "links", "category": "off_channel"}
      ]},
      "exceptions": [{"detector": "lexicon", "rule": "approved-signal-group"}],
      "action": {"alert": true, "notify": ["assignees"]}
    }

`detect` is a condition: a detector test (a leaf) or `any` / `all` / `none` of conditions,
nested. A leaf names its detector and narrows what counts: `category`, `types` (personal data),
`rule` (a lexicon rule, by name), `min_score`. Scope lists are "any of"; an empty or missing
list means everyone. `lexicon` holds the policy's own term rules (the lexicon's document format,
policies/detectors/lexicon.py); its tests name a rule or a category of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from ..detectors.findings import CATEGORIES, PII_TYPES
from ..detectors.lexicon_rules import validate_lexicon

DETECTORS: tuple[str, ...] = ("lexicon", "pii", "links", "classifier", "sampling")
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
MAX_DEPTH = 8  # nesting of any/all/none: deeper is a mistake, not a policy
MAX_CONDITIONS = 200
# JSON levels: a condition group takes two (the object, its list), the lexicon a few more.
MAX_STRUCTURE_DEPTH = 2 * MAX_DEPTH + 16

_LEAF: dict[str, Any] = {
    "type": "object",
    "required": ["detector"],
    "additionalProperties": False,
    "properties": {
        "detector": {"enum": list(DETECTORS)},
        # A lexicon rule's category is its own (the rule names it), so any slug is allowed here;
        # the detectors' categories are checked against CATEGORIES below.
        "category": {"type": "string", "minLength": 1, "maxLength": 64},
        "types": {
            "type": "array",
            "items": {"enum": list(PII_TYPES)},
            "minItems": 1,
            "uniqueItems": True,
        },
        "rule": {"type": "string", "minLength": 1, "maxLength": 200},
        "min_score": {"type": "number", "minimum": 0, "maximum": 1},
        "rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    },
}

POLICY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name", "severity", "detect"],
    "additionalProperties": False,
    "$defs": {
        "condition": {
            "oneOf": [
                {"$ref": "#/$defs/leaf"},
                {"$ref": "#/$defs/group"},
            ]
        },
        "leaf": _LEAF,
        "group": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
            "properties": {
                op: {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}
                for op in ("any", "all", "none")
            },
        },
        "names": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": 200},
            "uniqueItems": True,
        },
    },
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "description": {"type": "string", "maxLength": 4000},
        "severity": {"enum": list(SEVERITIES)},
        "scope": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "employees": {"$ref": "#/$defs/names"},
                "teams": {"$ref": "#/$defs/names"},
                "regions": {
                    "type": "array",
                    "items": {"type": "string", "pattern": "^[A-Z]{2}$"},
                    "uniqueItems": True,
                },
                "direction": {"enum": ["any", "inbound", "outbound"]},
                "counterparty": {"enum": ["any", "internal", "external"]},
            },
        },
        "detect": {"$ref": "#/$defs/condition"},
        "exceptions": {"type": "array", "items": {"$ref": "#/$defs/condition"}},
        # The policy's own lexicon rules (policies/detectors/lexicon.py's document), which its
        # lexicon tests name by `rule` or `category`; checked by the lexicon's own validator.
        "lexicon": {"type": "object"},
        "action": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "alert": {"type": "boolean"},
                "notify": {
                    "type": "array",
                    "items": {"enum": ["assignees", "watchers", "supervisors"]},
                    "uniqueItems": True,
                },
            },
        },
    },
}

_VALIDATOR = Draft202012Validator(POLICY_SCHEMA)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or, with `warning`, suspicious) in a document: `where` is a path a person
    can follow ("detect > any > 2 > min_score"), `message` says what to change."""

    where: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def _where(path: Any) -> str:
    return " > ".join(str(part + 1) if isinstance(part, int) else str(part) for part in path)


def _schema_message(error: Any) -> str:
    """jsonschema's messages quote the offending value, which may be huge or hostile: say what is
    expected instead, in words."""
    keyword = error.validator
    expected = error.validator_value
    if keyword == "required":
        missing = [name for name in expected if name not in (error.instance or {})]
        return f"missing {', '.join(missing)}"
    if keyword == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        return f"unknown field; the fields here are {', '.join(allowed)}"
    if keyword == "enum":
        return f"must be one of {', '.join(str(value) for value in expected)}"
    if keyword == "type":
        return f"must be {'an' if str(expected)[0] in 'aeiou' else 'a'} {expected}"
    if keyword in ("minimum", "maximum", "exclusiveMinimum"):
        return "must be a number from 0 to 1" + (
            " above 0" if keyword == "exclusiveMinimum" else ""
        )
    if keyword in ("minLength", "minItems", "minProperties"):
        return "must not be empty"
    if keyword == "maxProperties":
        return "a group is one of any, all or none: nest groups to combine them"
    if keyword in ("maxLength", "maxItems"):
        return "is too long" if keyword == "maxLength" else "has too many entries"
    if keyword == "uniqueItems":
        return "lists the same entry twice"
    if keyword == "pattern":
        return "must be a two-letter country code in capitals, such as BR"
    if keyword == "oneOf":
        return (
            "must be a detector test (with 'detector') or one of 'any', 'all', 'none' with a list"
        )
    return "is not valid here"


def _depth(value: object) -> int:
    """How deeply lists and objects nest, without recursion (a hostile document may be deep)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = (
            item.values() if isinstance(item, Mapping) else item if isinstance(item, list) else None
        )
        if children is None:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_STRUCTURE_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


# PostgreSQL keeps neither NUL nor a lone UTF-16 surrogate (which JSON allows) in text or jsonb.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(document: Mapping[str, Any]) -> str | None:
    """Where the first string (key or value) that cannot be stored is, or None."""
    stack: list[tuple[object, tuple[Any, ...]]] = [(document, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return _where(path)
        elif isinstance(item, Mapping):
            for key, value in item.items():
                if _UNSTORABLE.search(str(key)):
                    return _where(path)
                stack.append((value, (*path, key)))
        elif isinstance(item, list):
            stack.extend((value, (*path, n)) for n, value in enumerate(item))
    return None


def _specific(error: Any) -> Any:
    """A condition is "a detector test or a group" (oneOf): the useful error is the one inside
    the branch the author meant (jsonschema's best_match picks it), not "matches neither"."""
    while error.context:
        candidates = error.context
        if error.validator == "oneOf":
            meant = 0 if isinstance(error.instance, Mapping) and "detector" in error.instance else 1
            candidates = [e for e in candidates if e.relative_schema_path[0] == meant] or candidates
        error = best_match(candidates)
    return error


def validate_document(document: object) -> list[Problem]:
    """Every problem of `document`, errors first, then warnings. Empty: the document is good."""
    if not isinstance(document, Mapping):
        return [Problem("", "a policy is a JSON object with name, severity and detect")]
    if _depth(document) > MAX_STRUCTURE_DEPTH:
        # Checked before the schema, whose validator recurses once per level.
        return [Problem("", f"nested more than {MAX_DEPTH} levels deep")]
    where = _unstorable(document)
    if where is not None:
        return [Problem(where, "holds a character that cannot be kept (NUL or a broken one)")]
    errors = sorted(
        (_specific(error) for error in _VALIDATOR.iter_errors(document)),
        key=lambda e: list(map(str, e.absolute_path)),
    )
    problems = [Problem(_where(error.absolute_path), _schema_message(error)) for error in errors]
    if problems:
        return problems
    lexicon = document.get("lexicon")
    if lexicon is not None:
        problems.extend(
            Problem(_join("lexicon", p.path), p.message, warning=p.severity == "warning")
            for p in validate_lexicon(lexicon)
        )
    problems.extend(_leaf_problems(document))
    return [p for p in problems if not p.warning] + [p for p in problems if p.warning]


def _leaves(
    condition: Mapping[str, Any], path: tuple[Any, ...], depth: int = 1
) -> Iterator[tuple[tuple[Any, ...], Mapping[str, Any], int]]:
    if "detector" in condition:
        yield path, condition, depth
        return
    for op, children in condition.items():
        for index, child in enumerate(children):
            yield from _leaves(child, (*path, op, index), depth + 1)


def _join(prefix: str, path: str) -> str:
    return f"{prefix} > {path}" if path else prefix


def _lexicon_names(document: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    rules = (document.get("lexicon") or {}).get("rules")
    if not isinstance(rules, list):
        return set(), set()
    names = {r.get("name") for r in rules if isinstance(r, Mapping)}
    categories = {r.get("category") for r in rules if isinstance(r, Mapping)}
    return {n for n in names if isinstance(n, str)}, {c for c in categories if isinstance(c, str)}


def _leaf_problems(document: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    rule_names, rule_categories = _lexicon_names(document)
    conditions = [(("detect",), document["detect"])] + [
        (("exceptions", index), condition)
        for index, condition in enumerate(document.get("exceptions", []))
    ]
    count = 0
    for root_path, root in conditions:
        for path, leaf, depth in _leaves(root, root_path):
            count += 1
            where = _where(path)
            if depth > MAX_DEPTH:
                problems.append(Problem(where, f"nested more than {MAX_DEPTH} levels deep"))
            problems.extend(_check_leaf(where, leaf))
            if leaf["detector"] == "lexicon":
                if "rule" in leaf and leaf["rule"] not in rule_names:
                    problems.append(Problem(where, "no rule of this name in the policy's lexicon"))
                elif "category" in leaf and leaf["category"] not in rule_categories:
                    problems.append(
                        Problem(where, "no rule of the policy's lexicon has this category")
                    )
    if count > MAX_CONDITIONS:
        problems.append(Problem("detect", f"more than {MAX_CONDITIONS} detector tests"))
    if _matches_everything(document["detect"]):
        problems.append(
            Problem(
                "detect",
                "this flags nearly every message (a 'none' on its own, or sampling at 100%)",
                warning=True,
            )
        )
    return problems


def _check_leaf(where: str, leaf: Mapping[str, Any]) -> list[Problem]:
    detector = leaf["detector"]
    problems: list[Problem] = []
    allowed = {
        "lexicon": {"detector", "rule", "category", "min_score"},
        "pii": {"detector", "types", "min_score"},
        "links": {"detector", "category", "min_score"},
        "classifier": {"detector", "category", "min_score"},
        "sampling": {"detector", "rate"},
    }[detector]
    for extra in sorted(set(leaf) - allowed):
        problems.append(Problem(where, f"'{extra}' does not apply to the {detector} detector"))
    if detector == "classifier" and leaf.get("category") not in CATEGORIES[:8]:
        problems.append(
            Problem(where, f"the classifier needs a category: one of {', '.join(CATEGORIES[:8])}")
        )
    if detector == "links" and leaf.get("category", "malicious_link") not in (
        "malicious_link",
        "off_channel",
    ):
        problems.append(Problem(where, "links find malicious_link or off_channel"))
    if detector == "lexicon" and "rule" not in leaf and "category" not in leaf:
        problems.append(Problem(where, "name the lexicon rule (rule) or its category"))
    if detector == "sampling" and "rate" not in leaf:
        problems.append(Problem(where, "sampling needs a rate, e.g. 0.02 for 2%"))
    return problems


def _matches_everything(condition: Mapping[str, Any]) -> bool:
    if "detector" in condition:
        return condition["detector"] == "sampling" and condition.get("rate") == 1
    ((op, children),) = condition.items()
    if op == "none":
        return True
    if op == "any":
        return any(_matches_everything(child) for child in children)
    return all(_matches_everything(child) for child in children)
