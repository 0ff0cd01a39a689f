"""Browser pages of policies: the firm's list and the built-in packs, one policy with its versions
and their differences, and the editor (a form, or the JSON for experts) with its "test this
text" box. Officers and admins change policies; auditors read them. Views parse and call: the
writes are policies/services.py's (each audits itself), the form <-> document conversion is the
pure policies/documents/form.py."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from compliance_hub.audit.actors import Actor
from compliance_hub.digits import parse_count
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import READER_ROLES, REVIEWER_ROLES, role_required
from compliance_hub.tenancy.walls import request_wall

from .detectors.classifier import classify
from .detectors.findings import CATEGORIES, PII_TYPES
from .documents import form as editor
from .documents.evaluate import MessageContext
from .documents.schema import Problem, validate_document
from .forms import DocumentTextError, NoteForm, TrialForm, parse_document_text, pretty
from .models import Policy, PolicyVersion
from .packs import packs
from .scope_people import PeopleLens, document_as_read, document_as_written, lens_for
from .selectors import (
    pack_rows,
    policies,
    policy_rows,
    policy_version,
    policy_versions,
    scope_choices,
)
from .services import (
    PolicyDocumentError,
    UnknownPackPolicy,
    copy_from_pack,
    create_policy,
    enable_pack,
    save_version,
    set_active,
)
from .templatetags.policy_labels import DETECTOR_LABELS
from .trial import Trial, segments, try_document

READ_ROLES = READER_ROLES
WRITE_ROLES = REVIEWER_ROLES


def _can_write(request: TenantRequest) -> bool:
    return getattr(request.membership, "role", None) in WRITE_ROLES


def _lens(request: TenantRequest) -> PeopleLens:
    """How this reader reads the firm's people in a scope (pseudonyms when the wall masks them)."""
    return lens_for(tenant=request.tenant, wall=request_wall(request))


def _policy_or_404(request: TenantRequest, pk: int) -> Policy:
    policy = policies(tenant=request.tenant).filter(pk=pk).first()
    if policy is None:
        raise Http404("No such policy.")
    return policy


@role_required(*READ_ROLES)
@require_http_methods(["GET", "HEAD"])
def policy_list_page(request: TenantRequest) -> HttpResponse:
    return render(
        request,
        "policies/list.html",
        {
            "rows": policy_rows(tenant=request.tenant),
            "packs": pack_rows(tenant=request.tenant),
            "can_write": _can_write(request),
        },
    )


@role_required(*WRITE_ROLES)
@require_POST
def policy_switch(request: TenantRequest, pk: int) -> HttpResponse:
    policy = _policy_or_404(request, pk)
    active = request.POST.get("active") == "on"
    set_active(policy=policy, actor=Actor.from_request(request), active=active)
    messages.success(request, f"“{policy.name}” is switched {'on' if active else 'off'}.")
    target = request.POST.get("next")
    return (
        redirect("policies:policy", policy.pk) if target == "policy" else redirect("policies:list")
    )


@role_required(*WRITE_ROLES)
@require_POST
def pack_enable(request: TenantRequest, slug: str) -> HttpResponse:
    try:
        outcome = enable_pack(tenant=request.tenant, actor=Actor.from_request(request), slug=slug)
    except UnknownPackPolicy:
        raise Http404("No such pack.") from None
    name = next(p.name for p in packs() if p.slug == slug)
    if not outcome.changed:
        messages.info(
            request, f"The {name} pack is already on: every one of its policies is switched on."
        )
    else:
        done = []
        if outcome.added:
            done.append(f"{len(outcome.added)} added")
        if outcome.switched_on:
            done.append(f"{len(outcome.switched_on)} switched on again")
        if outcome.unchanged:
            done.append(f"{len(outcome.unchanged)} already there, left as they were")
        messages.success(request, f"{name} pack switched on: {', '.join(done)}.")
    return redirect("policies:list")


@role_required(*WRITE_ROLES)
@require_POST
def pack_copy(request: TenantRequest, slug: str, index: int) -> HttpResponse:
    try:
        policy = copy_from_pack(
            tenant=request.tenant, actor=Actor.from_request(request), slug=slug, index=index
        )
    except UnknownPackPolicy:
        raise Http404("No such policy in the packs.") from None
    messages.success(
        request, f"“{policy.name}” copied, switched off: change it, then switch it on."
    )
    return redirect("policies:edit", policy.pk)


@role_required(*READ_ROLES)
@require_http_methods(["GET", "HEAD"])
def policy_page(request: TenantRequest, pk: int) -> HttpResponse:
    policy = _policy_or_404(request, pk)
    versions = policy_versions(tenant=request.tenant, policy=policy)
    latest = versions[0]
    shown = document_as_read(latest.document, _lens(request))
    try:
        summary: editor.PolicyForm | None = editor.form_from_document(shown, spares=False)
    except editor.NotFormEditable:
        summary = None
    return render(
        request,
        "policies/policy.html",
        {
            "policy": policy,
            "latest": latest,
            "versions": versions,
            "summary": summary,
            "document_json": pretty(shown),
            "can_write": _can_write(request),
        },
    )


@role_required(*READ_ROLES)
@require_http_methods(["GET", "HEAD"])
def version_page(request: TenantRequest, pk: int, number: int) -> HttpResponse:
    policy = _policy_or_404(request, pk)
    version = policy_version(tenant=request.tenant, policy=policy, number=number)
    if version is None:
        raise Http404("No such version.")
    return render(
        request,
        "policies/version.html",
        {
            "policy": policy,
            "version": version,
            "document_json": pretty(document_as_read(version.document, _lens(request))),
        },
    )


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: str  # "added", "removed", "context", "hunk"
    text: str


def _diff(old: PolicyVersion, new: PolicyVersion, lens: PeopleLens) -> list[DiffLine]:
    """A line diff of the two documents written the same way (keys sorted, indented), so only
    what changed shows; people as the reader reads them."""

    def lines(version: PolicyVersion) -> list[str]:
        document = document_as_read(version.document, lens)
        return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False).split("\n")

    out = []
    for line in difflib.unified_diff(
        lines(old), lines(new), f"version {old.number}", f"version {new.number}", n=3, lineterm=""
    ):
        if line.startswith(("---", "+++")):
            continue
        kind = {"+": "added", "-": "removed", "@": "hunk"}.get(line[:1], "context")
        out.append(DiffLine(kind, "…" if kind == "hunk" else line[1:]))
    return out


def _number(value: str | None) -> int | None:
    number = parse_count(value)
    return number if number is not None and number < 10**9 else None


@role_required(*READ_ROLES)
@require_http_methods(["GET", "HEAD"])
def diff_page(request: TenantRequest, pk: int) -> HttpResponse:
    policy = _policy_or_404(request, pk)
    versions = policy_versions(tenant=request.tenant, policy=policy)
    by_number = {v.number: v for v in versions}
    new_number = _number(request.GET.get("to")) or policy.version
    old_number = _number(request.GET.get("from")) or max(new_number - 1, 1)
    old, new = by_number.get(old_number), by_number.get(new_number)
    if old is None or new is None:
        raise Http404("No such version.")
    return render(
        request,
        "policies/diff.html",
        {
            "policy": policy,
            "old": old,
            "new": new,
            "versions": versions,
            "lines": _diff(old, new, _lens(request)),
        },
    )


# --- the editor ---------------------------------------------------------------------------------


@dataclass
class EditorState:
    """What the editor page shows: the form view or the JSON view of the unsaved document, the
    problems that belong to no field, and the last test's result."""

    mode: str = "form"
    form: editor.PolicyForm | None = None
    json_text: str = ""
    json_error: str = ""
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    trial: Trial | None = None
    trial_text: str = ""

    @property
    def pieces(self) -> list[tuple[str, bool]]:
        """The tested text cut at the findings' spans, for <mark> (escaped by the template)."""
        return segments(self.trial_text, self.trial.findings) if self.trial else []


def _show(state: EditorState, document: object, problems: list[Problem] | None = None) -> None:
    """Show `document` in the state's view with `problems` next to their fields."""
    problems = validate_document(document) if problems is None else problems
    state.warnings = [p for p in problems if p.warning]
    errors = [p for p in problems if not p.warning]
    if state.mode == "form":
        try:
            state.form = editor.form_from_document(document)
        except editor.NotFormEditable as error:
            state.mode = "json"
            state.json_error = f"This policy opens in the JSON view: {error}."
        except RecursionError:
            state.mode = "json"
            state.json_error = "The document is nested too deeply to show as a form."
        else:
            state.problems = editor.place_problems(state.form, errors)
            return
    if not state.json_text:
        state.json_text = pretty(document)
    state.problems = errors


def _posted_document(request: TenantRequest, state: EditorState) -> tuple[bool, object]:
    """The unsaved document of the posted view; False when the JSON view's text is no JSON."""
    if request.POST.get("mode") == "json":
        state.mode = "json"
        state.json_text = request.POST.get("document", "")
        try:
            return True, parse_document_text(state.json_text)
        except DocumentTextError as error:
            state.json_error = str(error)
            return False, None
    return True, editor.document_from_form(editor.form_from_post(dict(request.POST.lists())))


def _context_of(trial: TrialForm) -> MessageContext:
    data = trial.cleaned_data
    return MessageContext(
        employee=data["employee"].strip(),
        team=data["team"].strip(),
        region=data["region"],
        direction=data["direction"],
        counterparty_internal=data["internal"],
    )


def _editor(request: TenantRequest, policy: Policy | None) -> HttpResponse:
    # A masked reader's editor holds the document as they read it (pseudonyms) throughout:
    # switching views and testing a text work on it as shown; only saving turns it back.
    lens = _lens(request)
    state = EditorState()
    note = NoteForm(request.POST or None)
    trial = TrialForm(prefix="trial")
    status = 200
    saved = policy.versions.get(number=policy.version).document if policy else None
    if request.method != "POST":
        _show(state, document_as_read(saved or editor.STARTER, lens), problems=[])
        return _render_editor(request, policy, state, note, trial, lens)

    action = request.POST.get("action", "")
    parsed, document = _posted_document(request, state)
    if action == "to_json" and parsed:
        state.mode, state.json_text = "json", ""
        _show(state, document)
    elif action == "to_form":
        if parsed:
            state.mode, state.json_error = "form", ""
            _show(state, document)
            if state.mode == "json":
                state.json_text = request.POST.get("document", "")
    elif action == "test":
        trial = TrialForm(request.POST, prefix="trial")
        if parsed:
            _show(state, document)
            if trial.is_valid():
                state.trial_text = trial.cleaned_data["text"]
                state.trial = try_document(
                    document, state.trial_text, context=_context_of(trial), classify=classify
                )
            else:
                status = 400
        if request.headers.get("X-Requested-With") == "policy-trial":
            return render(
                request,
                "policies/_trial.html",
                {"state": state, "trial": trial},
                status=status,
            )
    elif action == "save" and parsed and note.is_valid():
        stored, refused = document_as_written(document, lens, saved=saved)
        # Refused pseudonyms are shown with the document's other problems, so one round fixes all.
        outcome = (
            [*refused, *validate_document(document)]
            if refused
            else _save(request, policy, stored, note.cleaned_data["note"])
        )
        if isinstance(outcome, Policy):
            return redirect("policies:policy", outcome.pk)
        _show(state, document, problems=outcome)
        status = 400
    elif parsed:
        _show(state, document)
    if not parsed:
        status = 400
    return _render_editor(request, policy, state, note, trial, lens, status=status)


def _save(
    request: TenantRequest, policy: Policy | None, document: object, note: str
) -> Policy | list[Problem]:
    """Keep the document (a new policy, or the policy's next version); its problems if it has
    errors."""
    actor = Actor.from_request(request)
    try:
        if policy is None:
            policy, warnings = create_policy(
                tenant=request.tenant, actor=actor, document=document, note=note
            )
            messages.success(request, f"“{policy.name}” created, switched off: switch it on.")
        else:
            before = policy.version
            version, warnings = save_version(
                policy=policy, actor=actor, document=document, note=note
            )
            if version.number == before:
                messages.info(request, "Nothing changed, so no new version was kept.")
            else:
                messages.success(request, f"Saved as version {version.number}.")
    except PolicyDocumentError as error:
        return error.problems
    for warning in warnings:
        messages.warning(request, f"Saved, but check this: {warning.message}.")
    return policy


_RULE_TEXTS = (
    ("name", "Name", "Tests name the rule by it."),
    ("category", "Category", "A word for what it finds, such as guarantee."),
    ("score", "Score", "From 0 to 1 (empty: 1)."),
    ("language", "Language", "en, pt, es or hi-Latn: which words negate."),
    ("negation_window", "Negation reach", "Words before a term a negation reaches (1 to 10)."),
    ("description", "Description", ""),
)
_RULE_LISTS = (
    (
        "any",
        "Any of these terms",
        "One a line; invest* matches any ending; a proximity "
        'clause as one line of JSON: {"terms": [...], "near": [...], "within": 3}.',
    ),
    ("all", "And all of these", "Each must be in the message too."),
    ("none", "But none of these", "The rule stays quiet if one is in the message."),
    ("exclude", "Not inside these phrases", "A match inside one of these is not one."),
    ("patterns", "Or these patterns", "Regular expressions, one a line (checked for safety)."),
)


def _rule_view(row: editor.RuleRow) -> dict[str, Any]:
    def fields(spec: tuple[tuple[str, str, str], ...]) -> list[dict[str, Any]]:
        return [
            {"key": key, "label": label, "help": help_text, "value": getattr(row, key),
             "problems": row.problems.get(key, [])}
            for key, label, help_text in spec
        ]  # fmt: skip

    return {"row": row, "texts": fields(_RULE_TEXTS), "lists": fields(_RULE_LISTS)}


def _render_editor(
    request: TenantRequest,
    policy: Policy | None,
    state: EditorState,
    note: NoteForm,
    trial: TrialForm,
    lens: PeopleLens,
    *,
    status: int = 200,
) -> HttpResponse:
    choices = scope_choices(tenant=request.tenant)
    context: dict[str, Any] = {
        "policy": policy,
        "state": state,
        "note": note,
        "trial": trial,
        "detector_labels": DETECTOR_LABELS,
        "severities": editor.SEVERITIES,
        "combines": editor.COMBINES,
        "classifier_categories": CATEGORIES[:8],
        "pii_types": PII_TYPES,
        "notify_choices": editor.NOTIFY,
    }
    if state.form is not None:
        form = state.form
        if lens.masked:
            context["employee_choices"] = [
                (e, e) for e in editor.choices_with(form.employees, lens.employee_choices)
            ]
            context["team_choices"] = editor.choices_with(form.teams, lens.named_teams)
            trial.fields["employee"].label = "Employee (pseudonym)"
        else:
            names = dict(choices.employees)
            context["employee_choices"] = [
                (e, names.get(e, e)) for e in editor.choices_with(form.employees, list(names))
            ]
            context["team_choices"] = editor.choices_with(form.teams, choices.teams)
        context["region_choices"] = editor.choices_with(form.regions, choices.regions)
        context["rules"] = [_rule_view(row) for row in form.rules]
    return render(request, "policies/editor.html", context, status=status)


@role_required(*WRITE_ROLES)
@require_http_methods(["GET", "HEAD", "POST"])
def policy_new_page(request: TenantRequest) -> HttpResponse:
    return _editor(request, None)


@role_required(*WRITE_ROLES)
@require_http_methods(["GET", "HEAD", "POST"])
def policy_edit_page(request: TenantRequest, pk: int) -> HttpResponse:
    return _editor(request, _policy_or_404(request, pk))
