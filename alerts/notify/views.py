"""Pages of notifications and notices: a member's notification preferences, watching an alert,
telling the employee from a closed alert, and the admins' notice templates. Views parse and
call; the services decide and audit."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from archive.selectors import READ_ROLES
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import role_required

from ..alert_page import alert_or_404
from ..models import Alert
from ..services import REVIEWER_ROLES, AlertError
from .forms import LANGUAGE_CHOICES, NoticeForm, NoticeTemplateForm, PreferencesForm
from .models import NoticeKind, NoticeTemplate
from .notices import PLACEHOLDERS, default_text
from .selectors import preference_of
from .services import (
    reset_notice_template,
    save_notice_template,
    save_preferences,
    send_employee_notice,
    set_watching,
)


def _back_to(alert: Alert) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("alerts:alert", args=[alert.pk]))


@role_required(*READ_ROLES)
@require_http_methods(["GET", "POST"])
def notifications_page(request: TenantRequest) -> HttpResponse:
    kinds, digest = preference_of(request.tenant, request.membership.user)
    initial = {"kinds": kinds, "delivery": "digest" if digest else "immediate"}
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            save_preferences(
                tenant=request.tenant, actor=Actor.from_request(request),
                kinds=form.cleaned_data["kinds"],
                daily_digest=form.cleaned_data["delivery"] == "digest",
            )  # fmt: skip
            messages.success(request, "Your notification choices are saved.")
            return HttpResponseRedirect(reverse("alerts:notifications"))
        return render(request, "alerts/notify/preferences.html", {"form": form}, status=400)
    return render(request, "alerts/notify/preferences.html", {"form": form})


@role_required(*REVIEWER_ROLES)
@require_POST
def alert_watch(request: TenantRequest, pk: int) -> HttpResponse:
    alert = alert_or_404(request, pk)
    watching = request.POST.get("watch") == "1"
    set_watching(alert=alert, actor=Actor.from_request(request), watching=watching)
    messages.success(
        request,
        "You will hear when this alert is escalated or overdue."
        if watching
        else "You no longer watch this alert.",
    )
    return _back_to(alert)


@role_required(*REVIEWER_ROLES)
@require_POST
def alert_notice(request: TenantRequest, pk: int) -> HttpResponse:
    alert = alert_or_404(request, pk)
    form = NoticeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the notices and languages listed.")
        return _back_to(alert)
    try:
        event = send_employee_notice(
            alert=alert, actor=Actor.from_request(request), kind=form.cleaned_data["kind"],
            language=form.cleaned_data["language"],
        )  # fmt: skip
    except AlertError as error:
        messages.error(request, str(error))
        return _back_to(alert)
    messages.success(request, f"The notice is on its way to {event.details['to']}.")
    return _back_to(alert)


def _template_rows(request: TenantRequest) -> list[dict[str, object]]:
    own = {(t.kind, t.language): t for t in NoticeTemplate.objects.filter(tenant=request.tenant)}
    rows: list[dict[str, object]] = []
    for kind, kind_words in NoticeKind.choices:
        for language, language_words in LANGUAGE_CHOICES:
            mine = own.get((kind, language))
            text = default_text(kind, language)
            initial = {"subject": mine.subject, "body": mine.body} if mine else {
                "subject": text.subject, "body": text.body}  # fmt: skip
            rows.append({
                "kind": kind, "kind_words": kind_words, "language": language,
                "language_words": language_words, "custom": mine is not None,
                "form": NoticeTemplateForm(initial=initial, prefix=f"{kind}-{language}"),
            })  # fmt: skip
    return rows


@role_required(Role.ADMIN)
@require_http_methods(["GET"])
def notice_templates_page(request: TenantRequest) -> HttpResponse:
    return render(
        request,
        "alerts/notify/notice_templates.html",
        {"rows": _template_rows(request), "placeholders": PLACEHOLDERS.items()},
    )


@role_required(Role.ADMIN)
@require_POST
def notice_template_save(request: TenantRequest, kind: str, language: str) -> HttpResponse:
    if kind not in NoticeKind.values or language not in dict(LANGUAGE_CHOICES):
        raise Http404("No such notice.")
    actor = Actor.from_request(request)
    if request.POST.get("reset") == "1":
        reset_notice_template(tenant=request.tenant, actor=actor, kind=kind, language=language)
        messages.success(request, "Back to the built-in wording.")
        return HttpResponseRedirect(reverse("alerts:notice_templates"))
    form = NoticeTemplateForm(request.POST, prefix=f"{kind}-{language}")
    problem = ""
    if form.is_valid():
        try:
            save_notice_template(
                tenant=request.tenant, actor=actor, kind=kind, language=language,
                subject=form.cleaned_data["subject"], body=form.cleaned_data["body"],
            )  # fmt: skip
        except AlertError as error:
            problem = str(error)
    else:
        problem = " ".join(str(e) for errors in form.errors.values() for e in errors)
    if problem:
        rows = _template_rows(request)
        for row in rows:
            if (row["kind"], row["language"]) == (kind, language):
                row["form"], row["error"] = form, problem
        return render(
            request, "alerts/notify/notice_templates.html",
            {"rows": rows, "placeholders": PLACEHOLDERS.items(), "error": problem},
            status=400,
        )  # fmt: skip
    messages.success(request, "The notice's wording is saved.")
    return HttpResponseRedirect(reverse("alerts:notice_templates"))
