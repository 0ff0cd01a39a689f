"""Services never see the request, and say what they take (issue 9).

The acting party reaches a service as a typed ``Actor`` built once at the edge (view, API view,
command, task); a service or selector that took ``request`` would read the address, the user or
the tenant from it again, each its own way. And a service signature with ``Any`` (or nothing)
where a type belongs hides what callers must pass: the next feature copies it. This test walks
the source with ``ast``, so a new module is covered the day it is added.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("compliance_hub", "consent", "archive", "ingestion", "policies", "alerts")

# Write modules that are not named services.py: each writes state and audits it on behalf of an
# actor, so it follows the services' rules.
OTHER_WRITE_MODULES = {
    "consent/imports.py",  # the CSV import: preview, confirm, discard (audited)
    "consent/demo.py",  # seeds the demo tenant's employees through the services
    "compliance_hub/api/keys.py",  # issues and revokes API keys (audited)
    "ingestion/notices.py",  # raises capture notices; an admin acknowledges them (audited)
    "ingestion/connection_check.py",  # runs the WhatsApp connection check (audited)
    "ingestion/demo.py",  # connects the demo tenant's WhatsApp and delivers its conversations
    "policies/runs.py",  # backtest and lookback jobs: created, cancelled (audited), run
    "policies/backtests.py",  # asks for a backtest (audited) and runs it
    "policies/lookback.py",  # asks for a lookback (audited) and raises its hits
    "alerts/bulk.py",  # moves and assigns chosen alerts through the services (audited)
}

# Where ``Any`` is the honest type, by (module, function, parameter or "return"), with why.
ALLOWED_ANY = {
    # Notice texts are JSON from a form or the API ({language: {title, body}}); _clean_texts
    # checks the shape and refuses what it does not know.
    ("consent/services/notices.py", "create_notice_draft", "texts"),
    ("consent/services/notices.py", "update_notice_draft", "texts"),
    # The saved-settings snapshot holds strings and a list of ids; only equality is read.
    ("ingestion/services.py", "changed_settings", "before"),
    ("ingestion/services.py", "changed_settings", "after"),
    ("ingestion/services.py", "saved_settings", "return"),
    # The audit trail's details are a JSON object of whatever the action needs to say.
    ("compliance_hub/audit/services.py", "record_event", "details"),
    # A record's row as the database returns it, of every column type; the canonical form
    # (archive/ledger/canonical.py) says how each type is written.
    ("archive/ledger/services.py", "record_leaf_hash", "row"),
    # The anchored copy of a checkpoint: a JSON document with no database behind it.
    ("archive/ledger/services.py", "checkpoint_document", "return"),
    # Row errors stored as JSON on the import (line, column, value, message).
    ("consent/imports.py", "error_dicts", "return"),
    # WhatsApp webhook payloads (JSON) for the demo.
    ("ingestion/demo.py", "demo_payloads", "return"),
    # A backtest's sample as stored in the run's results (JSON entries that _sample_entry
    # wrote): passed through, with the employee replaced for a masked reader.
    ("policies/backtests.py", "sample_as_read", "sample"),
    ("policies/backtests.py", "sample_as_read", "return"),
}


def _modules(pattern: str) -> set[str]:
    found = set()
    for app in APPS:
        for path in (ROOT / app).glob(pattern) if (ROOT / app).is_dir() else []:
            if "migrations" not in path.parts:
                found.add(path.relative_to(ROOT).as_posix())
    return found


def service_modules() -> set[str]:
    return (
        _modules("**/services.py")
        | {m for m in _modules("**/services/*.py") if not m.endswith("__init__.py")}
        | OTHER_WRITE_MODULES
    )


def read_modules() -> set[str]:
    return _modules("**/selectors.py")


def _functions(module: str) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse((ROOT / module).read_text(), module)
    return [node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.arg]:
    args = function.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every += [arg for arg in (args.vararg, args.kwarg) if arg is not None]
    return every


def _names(annotation: ast.expr) -> set[str]:
    # Annotations are strings under ``from __future__ import annotations`` only at run time;
    # in the source they are expressions (or a quoted string, parsed here).
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        annotation = ast.parse(annotation.value, mode="eval").body
    return {
        node.id if isinstance(node, ast.Name) else node.attr
        for node in ast.walk(annotation)
        if isinstance(node, ast.Name | ast.Attribute)
    }


def request_parameters(modules: set[str]) -> list[str]:
    found = []
    for module in sorted(modules):
        for function in _functions(module):
            for arg in _parameters(function):
                annotated = arg.annotation is not None and "HttpRequest" in _names(arg.annotation)
                if arg.arg == "request" or annotated:
                    found.append(f"{module}: {function.name}({arg.arg})")
    return found


def loose_signatures(modules: set[str]) -> list[str]:
    """Public functions with a parameter or return left unannotated or annotated ``Any``."""
    found = []
    for module in sorted(modules):
        for function in _functions(module):
            if function.name.startswith("_"):
                continue
            slots = [(arg.arg, arg.annotation) for arg in _parameters(function)]
            slots.append(("return", function.returns))
            for name, annotation in slots:
                if (module, function.name, name) in ALLOWED_ANY:
                    continue
                if annotation is None:
                    found.append(f"{module}: {function.name}({name}) has no annotation")
                elif "Any" in _names(annotation):
                    found.append(f"{module}: {function.name}({name}) is Any")
    return found


def test_the_walk_finds_the_service_modules_and_their_functions():
    modules = service_modules()
    assert {
        "compliance_hub/audit/services.py",
        "consent/services/consent_events.py",
        "archive/ledger/services.py",
        "ingestion/services.py",
    } <= modules
    assert all((ROOT / module).is_file() for module in modules)
    names = {f.name for f in _functions("compliance_hub/audit/services.py")}
    assert "record_event" in names


def test_the_checks_catch_what_they_are_for(tmp_path, monkeypatch):
    module = tmp_path / "loose.py"
    module.write_text(
        "from typing import Any\n"
        "def seen(*, request, actor: Any) -> None: ...\n"
        "def typed(*, asked: HttpRequest) -> int: ...\n"
        "def bare(x): ...\n"
        "def _private(x): ...\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert request_parameters({"loose.py"}) == [
        "loose.py: seen(request)",
        "loose.py: typed(asked)",
    ]
    assert loose_signatures({"loose.py"}) == [
        "loose.py: seen(request) has no annotation",
        "loose.py: seen(actor) is Any",
        "loose.py: bare(x) has no annotation",
        "loose.py: bare(return) has no annotation",
    ]


def test_services_and_selectors_never_take_the_request():
    # The edge builds the Actor (compliance_hub/audit/actors.py) and passes it as ``actor``.
    assert request_parameters(service_modules() | read_modules()) == []


def test_public_service_functions_say_what_they_take_and_return():
    assert loose_signatures(service_modules()) == []


def test_every_allowed_any_is_still_there():
    # An entry whose function changed would silently allow the next Any with that name.
    for module, function, name in ALLOWED_ANY:
        functions = {f.name: f for f in _functions(module)}
        assert function in functions, (module, function)
        slots = {arg.arg: arg.annotation for arg in _parameters(functions[function])}
        slots["return"] = functions[function].returns
        assert slots.get(name) is not None and "Any" in _names(slots[name]), (
            module,
            function,
            name,
        )
