"""What a browser posts for the policy editor's form as the page shows it (checkboxes only when
ticked, textarea lines with CRLF), for the form's unit tests and the page tests."""

from __future__ import annotations

from policies.documents.form import PolicyForm, form_from_document

_RULE_FIELDS = ("name", "category", "score", "language", "negation_window", "description",
                "any", "all", "none", "exclude", "patterns")  # fmt: skip


def post_of(form: PolicyForm) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {
        "name": [form.name], "description": [form.description], "severity": [form.severity],
        "employees": form.employees, "teams": form.teams, "regions": form.regions,
        "direction": [form.direction], "counterparty": [form.counterparty],
        "combine": [form.combine], "notify": form.notify, "original": [form.original],
    }  # fmt: skip
    if form.alert:
        data["alert"] = ["on"]
    for prefix, rows in (("cond", form.conditions), ("exc", form.exceptions)):
        for row in rows:
            key = f"{prefix}-{row.index}-"
            if row.group:
                data[key + "group"] = [row.group]
                continue
            for name in ("detector", "category", "rule", "min_score", "rate"):
                data[key + name] = [getattr(row, name)]
            data[key + "types"] = row.types
    for rule in form.rules:
        key = f"rule-{rule.index}-"
        for name in _RULE_FIELDS:
            data[key + name] = [getattr(rule, name).replace("\n", "\r\n")]
        if rule.negation:
            data[key + "negation"] = ["on"]
    return data


def editor_fields(document: dict) -> dict[str, list[str]]:
    """The editor page's fields for `document` in its form view."""
    return {"mode": ["form"], **post_of(form_from_document(document))}
