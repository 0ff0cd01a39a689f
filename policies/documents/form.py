"""The policy editor's form and the policy document it stands for, converted both ways.

The editor shows a document as fields a compliance officer understands (the conditions as rows
of detector tests combined with any / all / none, the term rules as lines of terms) and turns the
posted fields back into the document. Converting is pure and exact: a document opened in the
form and posted unchanged gives the same document (so an unchanged save adds no version), which
is why the form carries the document it was opened from (`original`): a key the form shows as
its default (an empty scope list, "any direction") is written back only if the document had it.

What the form cannot show as fields it keeps and shows read-only: a group nested inside the
conditions (as JSON); a document the form cannot hold at all (`NotFormEditable`) opens in the
JSON view. Problems of the schema (`Problem.where`) are put next to the field they are about.

The posted fields: `name`, `description`, `severity`, `employees`, `teams`, `regions` (lists),
`direction`, `counterparty`, `combine`, `cond-N-*` and `exc-N-*` (a test: `detector`,
`category`, `types`, `rule`, `min_score`, `rate`; or `group`, a nested group as JSON; `remove`),
`rule-N-*` (a term rule: `name`, `category`, `score`, `language`, `negation`, `negation_window`,
`description`, and `any`, `all`, `none`, `exclude`, `patterns` as one entry a line), `alert`,
`notify` (a list) and `original`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .schema import DETECTORS, SEVERITIES, Problem

COMBINES: tuple[str, ...] = ("any", "all", "none")
DIRECTIONS: tuple[str, ...] = ("any", "inbound", "outbound")
COUNTERPARTIES: tuple[str, ...] = ("any", "internal", "external")
NOTIFY: tuple[str, ...] = ("assignees", "watchers", "supervisors")
SPARE_CONDITIONS = 2  # empty rows under the conditions, so a test can be added without script
SPARE_EXCEPTIONS = 1
SPARE_RULES = 1

# Which fields of a detector test apply to each detector (as the schema's checks say).
LEAF_FIELDS: Mapping[str, tuple[str, ...]] = {
    "lexicon": ("rule", "category", "min_score"),
    "pii": ("types", "min_score"),
    "links": ("category", "min_score"),
    "classifier": ("category", "min_score"),
    "sampling": ("rate",),
}
_TOP_KEYS = frozenset(
    {"name", "description", "severity", "scope", "detect", "exceptions", "lexicon", "action"}
)
_SCOPE_LISTS = ("employees", "teams", "regions")
_RULE_TEXT = ("name", "category", "language", "description")
_RULE_LISTS = ("any", "all", "none", "exclude", "patterns")
_RULE_NUMBERS = ("score", "negation_window")
_RULE_KEYS = frozenset({*_RULE_TEXT, *_RULE_LISTS, *_RULE_NUMBERS, "negation"})
_LEXICON_PATH = re.compile(r"rules\[(\d+)\](?:\.(\w+))?")

STARTER: dict[str, Any] = {
    "name": "",
    "severity": "medium",
    "detect": {"any": []},
    "action": {"alert": True, "notify": ["assignees"]},
}


class NotFormEditable(ValueError):
    """The document has a shape the form cannot hold; the message says what, in words."""


@dataclass
class ConditionRow:
    """One detector test (or a nested group, kept as JSON and shown read-only)."""

    index: int
    detector: str = ""
    category: str = ""
    types: list[str] = field(default_factory=list)
    rule: str = ""
    min_score: str = ""
    rate: str = ""
    group: str = ""
    problems: dict[str, list[str]] = field(default_factory=dict)

    @property
    def blank(self) -> bool:
        return not self.detector and not self.group


@dataclass
class RuleRow:
    """One term rule of the policy's own lexicon; list fields hold one entry a line."""

    index: int
    name: str = ""
    category: str = ""
    score: str = ""
    language: str = ""
    negation: bool = True
    negation_window: str = ""
    description: str = ""
    any: str = ""
    all: str = ""
    none: str = ""
    exclude: str = ""
    patterns: str = ""
    problems: dict[str, list[str]] = field(default_factory=dict)

    @property
    def blank(self) -> bool:
        texts = (self.name, self.category, self.score, self.language, self.negation_window)
        lists = (self.description, self.any, self.all, self.none, self.exclude, self.patterns)
        return not any(value.strip() for value in (*texts, *lists))


@dataclass
class PolicyForm:
    name: str = ""
    description: str = ""
    severity: str = "medium"
    employees: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    direction: str = "any"
    counterparty: str = "any"
    combine: str = "any"
    conditions: list[ConditionRow] = field(default_factory=list)
    exceptions: list[ConditionRow] = field(default_factory=list)
    rules: list[RuleRow] = field(default_factory=list)
    alert: bool = True
    notify: list[str] = field(default_factory=list)
    original: str = "{}"  # the document the form was opened from, as JSON
    # Problems by field ("name", "teams", "conditions", "rules", "action", ...).
    problems: dict[str, list[str]] = field(default_factory=dict)

    @property
    def rule_names(self) -> list[str]:
        return [row.name for row in self.rules if row.name]


# --- document -> form ---------------------------------------------------------------------------


def _text(value: object, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise NotFormEditable(f"{where} is not text")


def _names(value: object, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise NotFormEditable(f"{where} is not a list of names")
    return list(value)


def _number_text(value: object, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise NotFormEditable(f"{where} is not a number")
    return str(value)


def _mapping(value: object, where: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise NotFormEditable(f"{where} is not an object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise NotFormEditable(f"{where} has fields the form does not show: {', '.join(unknown)}")
    return value


def _condition_row(index: int, condition: object, where: str) -> ConditionRow:
    if isinstance(condition, Mapping) and "detector" in condition:
        detector = condition["detector"]
        if detector not in LEAF_FIELDS:
            raise NotFormEditable(f"{where} names an unknown detector")
        _mapping(condition, where, frozenset({"detector", *LEAF_FIELDS[detector]}))
        return ConditionRow(
            index=index,
            detector=detector,
            category=_text(condition.get("category"), where),
            types=_names(condition.get("types"), where),
            rule=_text(condition.get("rule"), where),
            min_score=_number_text(condition.get("min_score"), where),
            rate=_number_text(condition.get("rate"), where),
        )
    return ConditionRow(index=index, group=json.dumps(condition, ensure_ascii=False, indent=1))


def _group(detect: object) -> tuple[str, list[object]]:
    if isinstance(detect, Mapping) and "detector" in detect:
        return "any", [detect]
    if isinstance(detect, Mapping) and len(detect) == 1:
        ((op, children),) = detect.items()
        if op in COMBINES and isinstance(children, list):
            return op, children
    raise NotFormEditable("the conditions are not a detector test or a group of them")


def _lines(items: object, where: str, *, terms: bool) -> str:
    """Terms one a line; a proximity clause (an object) as its JSON on one line. A term that
    would read as JSON is written as a JSON string, so it reads back as the same term."""
    if items is None:
        return ""
    if not isinstance(items, list):
        raise NotFormEditable(f"{where} is not a list")
    lines = []
    for item in items:
        if isinstance(item, str) and "\n" not in item and "\r" not in item:
            lines.append(json.dumps(item) if terms and item[:1] in ('"', "{") else item)
        elif terms and isinstance(item, Mapping):
            lines.append(json.dumps(item, ensure_ascii=False))
        else:
            raise NotFormEditable(f"{where} holds an entry that is not a term")
    return "\n".join(lines)


def _rule_row(index: int, rule: object) -> RuleRow:
    where = f"term rule {index + 1}"
    raw = _mapping(rule, where, _RULE_KEYS)
    negation = raw.get("negation", True)
    if not isinstance(negation, bool):
        raise NotFormEditable(f"{where}: negation is not yes or no")
    row = RuleRow(index=index, negation=negation)
    for key in _RULE_TEXT:
        setattr(row, key, _text(raw.get(key), where))
    for key in _RULE_NUMBERS:
        setattr(row, key, _number_text(raw.get(key), where))
    for key in _RULE_LISTS:
        setattr(row, key, _lines(raw.get(key), where, terms=key != "patterns"))
    return row


def form_from_document(document: object, *, spares: bool = True) -> PolicyForm:
    """The form showing `document` (which need not be valid: a wrong value is shown as it is,
    for its problem to be shown next to it). Raises NotFormEditable."""
    doc = _mapping(document, "the policy", _TOP_KEYS)
    scope = _mapping(
        doc.get("scope"), "the scope", frozenset({*_SCOPE_LISTS, "direction", "counterparty"})
    )
    action = _mapping(doc.get("action"), "the action", frozenset({"alert", "notify"}))
    lexicon = doc.get("lexicon")
    if lexicon is not None and not isinstance(lexicon, Mapping):
        raise NotFormEditable("the term rules are not an object")
    rules = (lexicon or {}).get("rules", [])
    if not isinstance(rules, list):
        raise NotFormEditable("the term rules are not a list")
    exceptions = doc.get("exceptions", [])
    if not isinstance(exceptions, list):
        raise NotFormEditable("the exceptions are not a list")
    alert = action.get("alert", True)
    if not isinstance(alert, bool):
        raise NotFormEditable("the action's alert is not yes or no")
    combine, children = _group(doc.get("detect"))
    form = PolicyForm(
        name=_text(doc.get("name"), "the name"),
        description=_text(doc.get("description"), "the description"),
        severity=_text(doc.get("severity"), "the severity"),
        employees=_names(scope.get("employees"), "the scope's employees"),
        teams=_names(scope.get("teams"), "the scope's teams"),
        regions=_names(scope.get("regions"), "the scope's regions"),
        direction=_text(scope.get("direction", "any"), "the direction"),
        counterparty=_text(scope.get("counterparty", "any"), "the counterparty"),
        combine=combine,
        conditions=[_condition_row(i, child, f"test {i + 1}") for i, child in enumerate(children)],
        exceptions=[
            _condition_row(i, child, f"exception {i + 1}") for i, child in enumerate(exceptions)
        ],
        rules=[_rule_row(i, rule) for i, rule in enumerate(rules)],
        alert=alert,
        notify=_names(action.get("notify"), "the action's notify"),
        original=json.dumps(doc, ensure_ascii=False),
    )
    if spares:
        add_spares(form)
    return form


def add_spares(form: PolicyForm) -> None:
    """Empty rows to fill in (ignored when left empty)."""
    for rows, count in ((form.conditions, SPARE_CONDITIONS), (form.exceptions, SPARE_EXCEPTIONS)):
        first = len(rows)
        rows.extend(ConditionRow(index=first + n) for n in range(count))
    first = len(form.rules)
    form.rules.extend(RuleRow(index=first + n) for n in range(SPARE_RULES))


# --- posted fields -> form ----------------------------------------------------------------------


def _one(data: Mapping[str, Sequence[str]], key: str, default: str = "") -> str:
    values = data.get(key) or ()
    return values[-1].replace("\r\n", "\n").replace("\r", "\n") if values else default


def _many(data: Mapping[str, Sequence[str]], key: str) -> list[str]:
    return list(dict.fromkeys(value for value in data.get(key) or () if value))


def _indices(data: Mapping[str, Sequence[str]], prefix: str) -> list[int]:
    found = set()
    for key in data:
        head, _, rest = key.partition("-")
        number, _, _ = rest.partition("-")
        if head == prefix and number.isascii() and number.isdigit() and len(number) < 5:
            found.add(int(number))
    return sorted(found)


def _posted_condition(data: Mapping[str, Sequence[str]], prefix: str, n: int) -> ConditionRow:
    key = f"{prefix}-{n}-"
    return ConditionRow(
        index=n,
        detector=_one(data, key + "detector"),
        category=_one(data, key + "category").strip(),
        types=_many(data, key + "types"),
        rule=_one(data, key + "rule").strip(),
        min_score=_one(data, key + "min_score").strip(),
        rate=_one(data, key + "rate").strip(),
        group=_one(data, key + "group"),
    )


def form_from_post(data: Mapping[str, Sequence[str]]) -> PolicyForm:
    """The form as posted (`data`: each field's values, as `QueryDict.lists()` gives them).
    Rows marked `remove` are left out."""

    def rows(prefix: str) -> list[ConditionRow]:
        return [
            _posted_condition(data, prefix, n)
            for n in _indices(data, prefix)
            if not _one(data, f"{prefix}-{n}-remove")
        ]

    rules = []
    for n in _indices(data, "rule"):
        key = f"rule-{n}-"
        if _one(data, key + "remove"):
            continue
        row = RuleRow(index=n, negation=bool(_one(data, key + "negation")))
        for name in (*_RULE_TEXT, *_RULE_NUMBERS):
            setattr(row, name, _one(data, key + name).strip())
        for name in _RULE_LISTS:
            setattr(row, name, _one(data, key + name))
        rules.append(row)
    return PolicyForm(
        name=_one(data, "name").strip(),
        description=_one(data, "description").strip(),
        severity=_one(data, "severity"),
        employees=_many(data, "employees"),
        teams=_many(data, "teams"),
        regions=_many(data, "regions"),
        direction=_one(data, "direction", "any"),
        counterparty=_one(data, "counterparty", "any"),
        combine=_one(data, "combine", "any"),
        conditions=rows("cond"),
        exceptions=rows("exc"),
        rules=rules,
        alert=bool(_one(data, "alert")),
        notify=_many(data, "notify"),
        original=_one(data, "original", "{}"),
    )


# --- form -> document ---------------------------------------------------------------------------


def _number(text: str) -> int | float | str:
    """A number as typed ("0.8", "1", "0,8"); text that is no number stays text, for the schema
    to say what is expected next to the field."""
    cleaned = text.strip().replace(",", ".")
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        number = float(cleaned)
    except ValueError:
        return text
    return number if number == number and abs(number) != float("inf") else text


def _object(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _condition(row: ConditionRow) -> object:
    if row.group:
        return _object(row.group)
    leaf: dict[str, Any] = {"detector": row.detector}
    for name in LEAF_FIELDS.get(row.detector, ()):
        if name == "types":
            if row.types:
                leaf["types"] = list(row.types)
        elif name in ("min_score", "rate"):
            value = getattr(row, name)
            if value:
                leaf[name] = _number(value)
        elif getattr(row, name):
            leaf[name] = getattr(row, name)
    return leaf


def _term(line: str) -> object:
    if line[:1] in ('"', "{"):
        return _object(line)
    return line


def _rule(row: RuleRow, was: Mapping[str, Any]) -> dict[str, Any]:
    rule: dict[str, Any] = {"name": row.name}
    for name in ("category", "language", "description"):
        if getattr(row, name) or name in was:
            rule[name] = getattr(row, name)
    for name in _RULE_NUMBERS:
        if getattr(row, name):
            rule[name] = _number(getattr(row, name))
    for name in _RULE_LISTS:
        lines = [line for line in getattr(row, name).split("\n") if line.strip()]
        if lines or name in was:
            rule[name] = lines if name == "patterns" else [_term(line) for line in lines]
    if not row.negation or "negation" in was:
        rule["negation"] = row.negation
    return rule


def _as_mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def document_from_form(form: PolicyForm) -> dict[str, Any]:
    """The document the form stands for (not checked: validate_document says what is wrong)."""
    original = _as_mapping(_object(form.original))
    document: dict[str, Any] = {"name": form.name}
    if form.description or "description" in original:
        document["description"] = form.description
    document["severity"] = form.severity

    was_scope = _as_mapping(original.get("scope"))
    scope: dict[str, Any] = {}
    for name in _SCOPE_LISTS:
        if getattr(form, name) or name in was_scope:
            scope[name] = list(getattr(form, name))
    for name in ("direction", "counterparty"):
        if getattr(form, name) != "any" or name in was_scope:
            scope[name] = getattr(form, name)
    if scope or "scope" in original:
        document["scope"] = scope

    conditions = [_condition(row) for row in form.conditions if not row.blank]
    was_leaf = "detector" in _as_mapping(original.get("detect")) or not original.get("detect")
    if len(conditions) == 1 and form.combine in ("any", "all") and was_leaf:
        document["detect"] = conditions[0]
    else:
        document["detect"] = {form.combine: conditions}

    exceptions = [_condition(row) for row in form.exceptions if not row.blank]
    if exceptions or "exceptions" in original:
        document["exceptions"] = exceptions

    was_lexicon = _as_mapping(original.get("lexicon"))
    was_rules = was_lexicon.get("rules")
    if not isinstance(was_rules, list):
        was_rules = []
    rules = [
        _rule(row, _as_mapping(was_rules[row.index]) if row.index < len(was_rules) else {})
        for row in form.rules
        if not row.blank
    ]
    if rules or "lexicon" in original:
        document["lexicon"] = {**was_lexicon, "rules": rules}

    was_action = _as_mapping(original.get("action"))
    action: dict[str, Any] = {}
    if not form.alert or "alert" in was_action:
        action["alert"] = form.alert
    if form.notify or "notify" in was_action:
        action["notify"] = [name for name in form.notify]
    if action or "action" in original:
        document["action"] = action
    return document


# --- problems next to their fields --------------------------------------------------------------


def _row_problem(rows: Sequence[ConditionRow], rest: Sequence[str], message: str) -> bool:
    # ASCII digits only: "²".isdigit() is true and int() refuses it.
    if (
        not rest
        or not (rest[0].isascii() and rest[0].isdigit())
        or not 0 < int(rest[0]) <= len(rows)
    ):
        return False
    row = rows[int(rest[0]) - 1]
    key = rest[1] if len(rest) == 2 and not row.group else "row"
    row.problems.setdefault(key, []).append(message)
    return True


def _place(form: PolicyForm, problem: Problem) -> bool:
    parts = problem.where.split(" > ") if problem.where else []
    head = parts[0] if parts else ""

    def note(key: str) -> bool:
        form.problems.setdefault(key, []).append(problem.message)
        return True

    if head in ("name", "description", "severity") and len(parts) == 1:
        return note(head)
    if head == "scope" and len(parts) >= 2:
        return note(parts[1])
    if head == "detect":
        if len(parts) >= 2 and parts[1] in COMBINES:
            return _row_problem(form.conditions, parts[2:], problem.message) or note("conditions")
        if len(parts) >= 2 and form.conditions:
            return _row_problem(form.conditions, ["1", *parts[1:]], problem.message)
        return note("conditions")
    if head == "exceptions":
        return _row_problem(form.exceptions, parts[1:], problem.message) or note("exceptions")
    if head == "lexicon":
        found = _LEXICON_PATH.match(parts[1]) if len(parts) == 2 else None
        if found and int(found.group(1)) < len(form.rules):
            row = form.rules[int(found.group(1))]
            row.problems.setdefault(found.group(2) or "row", []).append(problem.message)
            return True
        return note("rules")
    if head == "action":
        return note("action")
    return False


def place_problems(form: PolicyForm, problems: Sequence[Problem]) -> list[Problem]:
    """Put each problem next to its field in `form` (opened from the document the problems are
    about, so rows are in the document's order); returns those that belong to no field."""
    return [problem for problem in problems if not _place(form, problem)]


def choices_with(selected: Sequence[str], available: Sequence[str]) -> list[str]:
    """The options of a picker: the selected ones first, in the document's order (a browser
    posts a multiple choice in the options' order), then the rest of what the firm has."""
    return list(dict.fromkeys([*selected, *available]))


__all__ = [
    "COMBINES",
    "COUNTERPARTIES",
    "DETECTORS",
    "DIRECTIONS",
    "NOTIFY",
    "SEVERITIES",
    "STARTER",
    "ConditionRow",
    "NotFormEditable",
    "PolicyForm",
    "RuleRow",
    "add_spares",
    "choices_with",
    "document_from_form",
    "form_from_document",
    "form_from_post",
    "place_problems",
]
