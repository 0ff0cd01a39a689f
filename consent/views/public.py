"""The monitored employee's public pages (no login: the token in the link is the credential):
read the notice and accept or decline, or withdraw.

Every page speaks the employee's language (their record's, or the one they pick for the
notice); a link that leads to no employee speaks the browser's. Declining and withdrawing are
asked about once, on a page of their own, so they work without JavaScript.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope

from .. import selectors, services
from ..forms import DeclineForm, ReasonForm, SignatureForm
from ..models import ConsentEvent, ConsentInvitation, ConsentNotice, Employee, Language
from ..services import ConsentError

PAGE_LANGUAGES = frozenset(code for code, _label in settings.LANGUAGES)


def error_text(error: ConsentError) -> str:
    """The refusal in the active language (messages the services already translated pass
    through unchanged)."""
    return " ".join(_(message) for message in error.messages)


def _public_error(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    return render(
        request,
        "consent/public/error.html",
        {"title": _("This link cannot be used"), "message": message},
        status=status,
    )


def _employee_through_link(request: HttpRequest, employee: Employee) -> Actor:
    """Who acts on these pages: the employee the link's token names, whoever is signed in on
    this browser (an admin testing a link does not act as themselves)."""
    return Actor.link_visitor(request, label=employee.audit_label)


def _browser_language(request: HttpRequest) -> str:
    # Only for links that lead to no employee: there is no record to take the language from.
    return translation.get_language_from_request(request)


def _notice_languages(notice: ConsentNotice) -> list[tuple[str, str]]:
    return [(code, label) for code, label in Language.choices if code in notice.texts]


def _chosen_language(request: HttpRequest, invitation: ConsentInvitation) -> str:
    available = [code for code, _label in _notice_languages(invitation.notice)]
    for candidate in (request.POST.get("lang"), request.GET.get("lang"), invitation.language):
        if candidate in available:
            return candidate
    return available[0] if available else invitation.language


def _page_language(request: HttpRequest, invitation: ConsentInvitation) -> str:
    """The page follows the notice language the employee picked, else their own."""
    picked = request.POST.get("lang") or request.GET.get("lang")
    return picked if picked in PAGE_LANGUAGES else invitation.language


@never_cache
def respond(request: HttpRequest, token: str) -> HttpResponse:
    """The employee reads the notice in their language and accepts (signing with their typed
    name) or declines (after confirming). The link works once; a used or expired one is 410."""
    with translation.override(_browser_language(request)):
        try:
            invitation = selectors.find_consent_invitation(token)
        except ConsentError as error:
            return _public_error(request, error_text(error), status=410)
    with (
        tenant_scope(invitation.tenant_id),
        translation.override(_page_language(request, invitation)),
    ):
        return _respond(request, token, invitation)


def _respond(request: HttpRequest, token: str, invitation: ConsentInvitation) -> HttpResponse:
    employee = invitation.employee
    language = _chosen_language(request, invitation)
    signature_form = SignatureForm(employee_name=employee.full_name)
    decline_form = DeclineForm()
    problem = ""
    status = 200
    base = {"invitation": invitation, "tenant": invitation.tenant, "employee": employee}
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "accept":
                signature_form = SignatureForm(request.POST, employee_name=employee.full_name)
                if signature_form.is_valid():
                    try:
                        event = services.accept_consent(
                            invitation=invitation,
                            signature_name=signature_form.cleaned_data["signature_name"],
                            actor=_employee_through_link(request, employee),
                            base_url=request.build_absolute_uri("/"),
                            language=language,  # the evidence names what they actually read
                        )
                    except ConsentError as error:
                        selectors.find_consent_invitation(token)  # answered meanwhile: 410
                        signature_form.add_error("signature_name", error_text(error))
                    else:
                        return render(
                            request, "consent/public/accepted.html", {**base, "event": event}
                        )
            elif action == "decline":
                decline_form = DeclineForm(request.POST)
                if decline_form.is_valid():
                    if request.POST.get("confirm") != "yes":
                        return render(
                            request,
                            "consent/public/confirm_decline.html",
                            {**base, "form": decline_form, "language": language},
                        )
                    services.decline_consent(
                        invitation=invitation,
                        actor=_employee_through_link(request, employee),
                        reason=decline_form.cleaned_data["reason"],
                        language=language,
                    )
                    return render(request, "consent/public/declined.html", base)
            else:
                problem = _("Choose Accept or Decline.")
        except ConsentError as error:
            try:
                selectors.find_consent_invitation(token)
            except ConsentError:
                # Answered or expired meanwhile (a second tab, a double tap).
                return _public_error(request, error_text(error), status=410)
            problem = error_text(error)
        status = 400
    return render(
        request,
        "consent/public/respond.html",
        {
            **base,
            "notice": invitation.notice,
            "text": invitation.notice.text_for(language),
            "language": language,
            "languages": _notice_languages(invitation.notice),
            "signature_form": signature_form,
            "decline_form": decline_form,
            "problem": problem,
        },
        status=status,
    )


@never_cache
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    """From the link in the confirmation email: the employee withdraws (after confirming);
    capture stops at once."""
    with translation.override(_browser_language(request)):
        try:
            grant = selectors.find_grant_by_withdrawal_token(token)
        except ConsentError as error:
            return _public_error(request, error_text(error), status=404)
    employee = grant.employee
    with tenant_scope(grant.tenant_id), translation.override(employee.language):
        return _withdraw(request, grant)


def _withdraw(request: HttpRequest, grant: ConsentEvent) -> HttpResponse:
    employee = grant.employee
    last = (
        ConsentEvent.objects.filter(tenant_id=grant.tenant_id, employee=employee)
        .order_by("-occurred_at", "-id")
        .first()
    )
    context = {
        "grant": grant,
        "employee": employee,
        "tenant": grant.tenant,
        "active": last is not None and last.kind == ConsentEvent.Kind.GRANTED,
        "form": ReasonForm(),
    }
    if request.method != "POST":
        return render(request, "consent/public/withdraw.html", context)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        context["form"] = form
        return render(request, "consent/public/withdraw.html", context, status=400)
    if request.POST.get("confirm") != "yes":
        if not context["active"]:
            context["error"] = _("There is no active consent to withdraw.")
            return render(request, "consent/public/withdraw.html", context, status=409)
        context["form"] = form
        return render(request, "consent/public/confirm_withdraw.html", context)
    try:
        event = services.withdraw_consent(
            employee=employee,
            actor=_employee_through_link(request, employee),
            reason=form.cleaned_data["reason"],
        )
    except ConsentError as error:
        context.update(active=False, error=error_text(error))
        return render(request, "consent/public/withdraw.html", context, status=409)
    context["event"] = event
    return render(request, "consent/public/withdrawn.html", context)
