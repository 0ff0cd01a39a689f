"""Consent notices: versions, drafts, publication. Everyone in the firm reads the notices that
employees agree to; only admins write them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import role_denial, role_required

from .. import selectors, services
from ..forms import NoticeDraftForm, PublishNoticeForm, add_service_errors
from ..models import ConsentNotice, Language
from ._common import TENANT_ROLES, error_text


def _notice_or_404(request: TenantRequest, pk: int) -> ConsentNotice:
    return get_object_or_404(
        ConsentNotice.objects.filter(tenant=request.tenant).select_related(
            "published_by", "created_by"
        ),
        pk=pk,
    )


def _is_admin(request: TenantRequest) -> bool:
    return request.membership.role == Role.ADMIN


@role_required(*TENANT_ROLES)
def notices(request: TenantRequest) -> HttpResponse:
    """Published versions and drafts; an admin's POST starts a draft from the current texts."""
    tenant = request.tenant
    if request.method == "POST":
        denial = role_denial(request, (Role.ADMIN,))
        if denial is not None:
            return denial
        current = selectors.current_notice(tenant=tenant)
        draft = services.create_notice_draft(
            tenant=tenant,
            texts=current.texts if current else {},
            actor=Actor.from_request(request),
        )
        messages.success(request, "Draft created from the current version. Edit it, then publish.")
        return redirect("consent:notice", draft.pk)
    all_notices = ConsentNotice.objects.filter(tenant=tenant).select_related("published_by")
    return render(
        request,
        "consent/notices/list.html",
        {
            "published": [n for n in all_notices if n.is_published],
            "drafts": [n for n in all_notices if not n.is_published],
            "is_admin": _is_admin(request),
        },
    )


def _publish_confirmation(request: TenantRequest, notice: ConsentNotice) -> HttpResponse:
    """The question asked once before a draft becomes a version for good; a draft that cannot
    be published says why instead."""
    try:
        services.check_publishable(notice=notice)
    except ValidationError as error:
        messages.error(request, error_text(error))
        return redirect("consent:notice", notice.pk)
    latest = selectors.current_notice(tenant=request.tenant)
    return render(
        request,
        "consent/notices/publish_confirm.html",
        {
            "notice": notice,
            "next_version": ((latest.version or 0) if latest else 0) + 1,
            "publish_form": PublishNoticeForm(),
        },
    )


@role_required(*TENANT_ROLES)
def notice_detail(request: TenantRequest, pk: int) -> HttpResponse:
    """A version's texts, or a draft's editor. "Save and publish" saves the edits first, then
    asks for confirmation: nothing typed is lost, and nothing is published by one click."""
    notice = _notice_or_404(request, pk)
    is_admin = _is_admin(request)
    form = None
    error = ""
    status = 200
    if request.method == "POST":
        denial = role_denial(request, (Role.ADMIN,))
        if denial is not None:
            return denial
    if not notice.is_published and is_admin:
        form = NoticeDraftForm(initial=NoticeDraftForm.initial_from(notice.texts))
        if request.method == "POST":
            form = NoticeDraftForm(request.POST)
            if form.is_valid():
                try:
                    services.update_notice_draft(
                        notice=notice, texts=form.texts(), actor=Actor.from_request(request)
                    )
                except ValidationError as refusal:
                    # Not `error`: Python unbinds an except clause's name when the clause ends,
                    # and `error` (the page's message) is rendered below.
                    add_service_errors(form, refusal)
                else:
                    if request.POST.get("action") == "publish":
                        return _publish_confirmation(request, notice)
                    messages.success(request, "Draft saved.")
                    return redirect("consent:notice", notice.pk)
            status = 400
    elif request.method == "POST":
        # No form offers this; a forged POST gets the service's refusal and changes nothing.
        posted = NoticeDraftForm(request.POST)
        try:
            services.update_notice_draft(
                notice=notice,
                texts=posted.texts() if posted.is_valid() else {},
                actor=Actor.from_request(request),
            )
        except ValidationError as refusal:
            error = error_text(refusal)
            status = 409
    texts = [
        (code, label, notice.texts[code])
        for code, label in Language.choices
        if code in notice.texts
    ]
    return render(
        request,
        "consent/notices/detail.html",
        {"notice": notice, "texts": texts, "form": form, "error": error, "is_admin": is_admin},
        status=status,
    )


@role_required(Role.ADMIN)
@require_POST
def notice_publish(request: TenantRequest, pk: int) -> HttpResponse:
    """The confirmed publication (from the confirmation page, which the draft's editor shows
    after saving)."""
    notice = _notice_or_404(request, pk)
    form = PublishNoticeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the re-consent date as YYYY-MM-DD, or leave it empty.")
        return redirect("consent:notice", notice.pk)
    if not form.cleaned_data["confirm"]:
        if not notice.is_published:
            return _publish_confirmation(request, notice)
        messages.error(request, "This notice is already published.")
        return redirect("consent:notice", notice.pk)
    try:
        services.publish_notice(
            notice=notice,
            actor=Actor.from_request(request),
            reconsent_deadline=form.deadline(),
        )
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(
            request,
            f"Published as version {notice.version}. New invitations use it from now on.",
        )
    return redirect("consent:notice", notice.pk)
