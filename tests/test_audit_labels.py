"""The audit trail speaks the users' language: every action any app records, and every kind of
target, has a label, and the pages show labels, never codes (``auth.login``, ``employeeimport``,
``consentnotice``), with correct plurals ("4 messages", not "(4 message)")."""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import pytest
from django.apps import apps

from compliance_hub.audit.actions import ACTION_LABELS, TARGET_LABELS, action_label
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from consent.models import ConsentNotice, EmployeeImport
from ingestion.services import save_whatsapp_settings
from tests.fixtures import login

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {"tests", "migrations", ".venv", "bench", "scripts", "docs", ".stack"}
# The functions that take an action code as their first argument.
RECORDERS = {"record_event", "record_for_user_tenants", "_authenticator_event"}
CODE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


def _source_files() -> list[Path]:
    files = []
    for path in ROOT.rglob("*.py"):
        parts = set(path.relative_to(ROOT).parts)
        if not parts & SKIPPED_DIRS and not any(p.startswith(".") for p in parts):
            files.append(path)
    return files


def _strings(node: ast.AST, names: dict[str, list[ast.AST]], seen: set[str]) -> set[str]:
    """The string constants an expression can evaluate to, following names assigned in the
    same module (``action = "a" if x else "b"``; ``CHECK_ACTION = "..."``)."""
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Constant) and isinstance(child.value, str):
            found.add(child.value)
        elif isinstance(child, ast.Name) and child.id not in seen:
            seen.add(child.id)
            for value in names.get(child.id, []):
                found |= _strings(value, names, seen)
    return found


def recorded_action_codes() -> dict[str, str]:
    """Every action code passed to the audit trail anywhere in the project's code, with where."""
    codes: dict[str, str] = {}
    imported: dict[str, list[ast.AST]] = {}
    trees = {path: ast.parse(path.read_text(), str(path)) for path in _source_files()}
    for tree in trees.values():  # constants imported from another module (CHECK_ACTION)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id.isupper():
                        imported.setdefault(target.id, []).append(node.value)
    for path, tree in trees.items():
        names: dict[str, list[ast.AST]] = {key: list(v) for key, v in imported.items()}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        names.setdefault(target.id, []).append(node.value)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in RECORDERS:
                for code in _strings(node.args[0], names, set()):
                    if CODE.match(code):
                        codes.setdefault(code, f"{path.relative_to(ROOT)}:{node.lineno}")
    return codes


def test_the_collector_finds_actions_however_they_are_written():
    codes = recorded_action_codes()
    assert "auth.login" in codes  # through record_for_user_tenants
    assert "mfa.code_rejected" in codes  # through _authenticator_event
    assert "membership.deactivated" in codes  # a variable set by a conditional expression
    assert "whatsapp.connection_checked" in codes  # a constant of another module
    assert len(codes) >= 45


def test_every_action_code_recorded_anywhere_has_a_label():
    missing = {code: where for code, where in recorded_action_codes().items()}
    missing = {code: where for code, where in missing.items() if code not in ACTION_LABELS}
    assert not missing, f"add a label in compliance_hub/audit/actions.py for: {missing}"


def test_every_kind_of_target_has_a_label():
    project_apps = ("compliance_hub", "consent", "ingestion", "archive")
    names = {
        model._meta.model_name
        for label in project_apps
        for model in apps.get_app_config(label).get_models()
    }
    assert names - set(TARGET_LABELS) == set()


def test_an_unknown_code_from_an_older_version_still_reads_as_words():
    assert action_label("payroll.run_started") == "Payroll: run started"


def words(response) -> str:
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())
    return re.sub(r" ([:.,])", r"\1", text)


@pytest.fixture
def trail(client, tenant_a, alice):
    """Alice signs in, checks an employee file, edits a notice draft and saves a WhatsApp
    setting: the kinds of entry that showed codes."""
    login(client, alice)
    record_event("auth.login", tenant=tenant_a, actor=Actor.for_user(alice.user))
    record_event(
        "employee_import.previewed",
        tenant=tenant_a,
        actor=Actor.for_user(alice.user),
        target=EmployeeImport(pk=7),
        target_label="Import of staff.csv",
    )
    record_event(
        "notice.draft_updated",
        tenant=tenant_a,
        actor=Actor.for_user(alice.user),
        target=ConsentNotice(pk=3),
        target_label="Monitoring notice (English)",
    )
    save_whatsapp_settings(tenant=tenant_a, actor=Actor.for_user(alice.user), app_secret="a" * 20)
    return tenant_a


def test_the_audit_trail_shows_labels_not_codes(client, trail, alice):
    response = client.get("/audit/")
    page = words(response)
    raw = response.content.decode()
    assert "Signed in" in page
    assert "Employee file checked before import" in page and "Employee import" in page
    assert "Notice draft edited" in page and "Monitoring notice" in page
    assert "WhatsApp settings changed" in page and "WhatsApp connection" in page
    for code in ("auth.login", "employee_import.previewed", "whatsapp.settings_changed"):
        assert f">{code}<" not in raw and f"<code>{code}" not in raw
    for model_name in ("whatsappsettings", "employeeimport", "consentnotice"):
        assert model_name not in page
    assert "WhatsApp settings of tenant" not in page
    # Details read as "Key: value" lines, not as JSON.
    assert "Show details" in page and "Changed app_secret" in page
    assert '{"changed"' not in html.unescape(raw)
    # The filter offers labelled actions and groups; the codes stay underneath.
    assert '<option value="auth.">Signing in and out (all)</option>' in raw
    assert '<option value="auth.login">Signed in</option>' in raw
    filtered = client.get("/audit/?action=whatsapp.").content.decode()
    rows = html.unescape(filtered.split("<tbody>", 1)[1])
    assert "WhatsApp settings changed" in rows and "Signed in" not in rows


def test_the_dashboard_shows_labels_not_codes(client, trail):
    response = client.get("/")
    assert "Signed in" in words(response)
    assert "<code>auth.login</code>" not in response.content.decode()


def test_an_archive_read_says_how_many_in_words(api_client_for, tenant_a):
    api = api_client_for(tenant_a, "auditor")
    assert api.get("/api/v1/messages/").status_code == 200
    with tenant_scope(tenant_a):
        event = AuditEvent.objects.get(action="archive.read")
    assert event.target_label == "0 messages through the API"
    assert event.details["endpoint"] == "/api/v1/messages/"


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("officer@firm.example", "officer@firm.example"),
        ("api-key:1a2b3c4d", "API key 1a2b3c4d"),
        ("cli:dispose_records", "the dispose_records command"),
        ("system", "Compliance Hub"),
        ("employee:BR-001", "employee BR-001, through their emailed link"),
        ("", ""),
    ],
)
def test_who_acted_reads_in_words_on_pages(stored, shown):
    from compliance_hub.templatetags.audit_labels import actor

    assert actor(stored) == shown
