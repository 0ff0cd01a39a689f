"""The monitored employee's public pages (no login: the token in the link is the credential):
read the notice and accept or decline, or withdraw.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from compliance_hub.tenancy.context import tenant_scope

from .. import services
from ..forms import DeclineForm, ReasonForm, SignatureForm
from ..models import ConsentEvent, ConsentInvitation, ConsentNotice, Language
from ..services import ConsentError
from ._common import error_text


def _public_error(request: HttpRequest, message: str, *, status: int, title: str) -> HttpResponse:
    return render(
        request,
        "consent/public/error.html",
        {"title": title, "message": message},
        status=status,
    )


def _notice_languages(notice: ConsentNotice) -> list[tuple[str, str]]:
    return [(code, label) for code, label in Language.choices if code in notice.texts]


def _chosen_language(request: HttpRequest, invitation: ConsentInvitation) -> str:
    available = [code for code, _label in _notice_languages(invitation.notice)]
    for candidate in (request.POST.get("lang"), request.GET.get("lang"), invitation.language):
        if candidate in available:
            return candidate
    return available[0] if available else invitation.language


@never_cache
def respond(request: HttpRequest, token: str) -> HttpResponse:
    """The employee reads the notice in their language and accepts (signing with their typed
    name) or declines. The link works once; a used or expired one answers 410."""
    try:
        invitation = services.find_consent_invitation(token)
    except ConsentError as error:
        return _public_error(
            request, error_text(error), status=410, title="This link cannot be used"
        )
    with tenant_scope(invitation.tenant_id):
        language = _chosen_language(request, invitation)
        signature_form = SignatureForm()
        decline_form = DeclineForm()
        problem = ""
        status = 200
        if request.method == "POST":
            action = request.POST.get("action")
            try:
                if action == "accept":
                    signature_form = SignatureForm(request.POST)
                    if signature_form.is_valid():
                        event = services.accept_consent(
                            invitation=invitation,
                            signature_name=signature_form.cleaned_data["signature_name"],
                            request=request,
                            base_url=request.build_absolute_uri("/"),
                            language=language,  # the evidence names what they actually read
                        )
                        return render(
                            request,
                            "consent/public/accepted.html",
                            {"invitation": invitation, "event": event, "tenant": invitation.tenant},
                        )
                elif action == "decline":
                    decline_form = DeclineForm(request.POST)
                    if decline_form.is_valid():
                        services.decline_consent(
                            invitation=invitation,
                            request=request,
                            reason=decline_form.cleaned_data["reason"],
                            language=language,
                        )
                        return render(
                            request,
                            "consent/public/declined.html",
                            {"invitation": invitation, "tenant": invitation.tenant},
                        )
                else:
                    problem = "Choose Accept or Decline."
            except ConsentError as error:
                try:
                    services.find_consent_invitation(token)
                except ConsentError:
                    # Answered or expired meanwhile (a second tab, a double tap).
                    return _public_error(
                        request, error_text(error), status=410, title="This link cannot be used"
                    )
                problem = error_text(error)
            status = 400
        text = invitation.notice.text_for(language)
        return render(
            request,
            "consent/public/respond.html",
            {
                "invitation": invitation,
                "tenant": invitation.tenant,
                "employee": invitation.employee,
                "notice": invitation.notice,
                "text": text,
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
    """From the link in the confirmation email: the employee withdraws; capture stops at once."""
    try:
        grant = services.find_grant_by_withdrawal_token(token)
    except ConsentError as error:
        return _public_error(
            request, error_text(error), status=404, title="This link cannot be used"
        )
    employee = grant.employee
    with tenant_scope(grant.tenant_id):
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
        if request.method == "POST":
            form = ReasonForm(request.POST)
            if not form.is_valid():
                context["form"] = form
                return render(request, "consent/public/withdraw.html", context, status=400)
            try:
                event = services.withdraw_consent(
                    employee=employee,
                    request=request,
                    reason=form.cleaned_data["reason"],
                    by_employee=True,
                )
            except ConsentError as error:
                context.update(active=False, error=error_text(error))
                return render(request, "consent/public/withdraw.html", context, status=409)
            context["event"] = event
            return render(request, "consent/public/withdrawn.html", context)
        return render(request, "consent/public/withdraw.html", context)
