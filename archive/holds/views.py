"""Legal hold pages: the list, placing one, one hold with its release. Officers and admins place,
correct and release holds; auditors read them (see archive/holds/api.py for why)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import REVIEWER_ROLES, role_denial, role_required
from compliance_hub.tenancy.walls import request_wall
from consent.pseudonymised import PeopleLens, people_lens

from ..exporting.selectors import EXPORT_ROLES
from ..selectors import READ_ROLES
from .forms import HoldEditForm, LegalHoldForm, ReleaseForm
from .models import LegalHold
from .selectors import describe_holds, hold_counts, legal_holds
from .services import HoldError, place_hold, release_hold, update_hold

WRITE_ROLES = REVIEWER_ROLES
_FORM_FIELDS = {"saved_search_version": "saved_search", "scope": None, "hold": None}


def _show_error(form: forms.Form, error: HoldError) -> None:
    field = _FORM_FIELDS.get(error.field, error.field) or None
    form.add_error(field if field in form.fields else None, error.message)


def _hold_or_404(request: TenantRequest, pk: int) -> LegalHold:
    hold = legal_holds(tenant=request.tenant).filter(pk=pk).first()
    if hold is None:
        raise Http404("No such legal hold.")
    return hold


def _lens(request: TenantRequest) -> PeopleLens:
    """How this reader reads the firm's people: the alert pages' pseudonyms when masked."""
    return people_lens(tenant=request.tenant, masked=request_wall(request).closed)


def _can_write(request: TenantRequest) -> bool:
    return getattr(request.membership, "role", None) in WRITE_ROLES


@role_required(*READ_ROLES)
@require_http_methods(["GET", "HEAD"])
def holds_page(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    holds = list(legal_holds(tenant=tenant))
    covers = describe_holds(tenant=tenant, holds=holds, lens=_lens(request))
    counts = hold_counts(tenant=tenant, holds=[h for h in holds if h.is_active])
    rows = [(hold, covers[hold.pk], counts.get(hold.pk)) for hold in holds]
    return render(
        request, "archive/holds/list.html", {"rows": rows, "can_write": _can_write(request)}
    )


@role_required(*WRITE_ROLES)
@require_http_methods(["GET", "HEAD", "POST"])
def hold_create_page(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    form = LegalHoldForm(request.POST or None, tenant=tenant, lens=_lens(request))
    if request.method == "POST" and form.is_valid():
        try:
            hold = place_hold(tenant=tenant, actor=Actor.from_request(request), **form.scope())
        except HoldError as error:
            _show_error(form, error)
        else:
            messages.success(request, f"Legal hold “{hold.matter}” placed.")
            return redirect("archive:hold", hold.pk)
    return render(request, "archive/holds/form.html", {"form": form})


@role_required(*READ_ROLES)
@require_http_methods(["GET", "HEAD", "POST"])
def hold_page(request: TenantRequest, pk: int) -> HttpResponse:
    """One hold: what it covers, how many messages now, who placed it; officers and admins
    correct its matter or reason here (POST)."""
    tenant = request.tenant
    hold = _hold_or_404(request, pk)
    edit = HoldEditForm(initial={"matter": hold.matter, "reason": hold.reason})
    if request.method == "POST":
        denial = role_denial(request, WRITE_ROLES)
        if denial is not None:
            return denial
        edit = HoldEditForm(request.POST)
        if edit.is_valid():
            try:
                update_hold(
                    tenant=tenant, actor=Actor.from_request(request), hold=hold,
                    **edit.cleaned_data,
                )  # fmt: skip
            except HoldError as error:
                _show_error(edit, error)
            else:
                messages.success(request, "Matter and reason saved.")
                return redirect("archive:hold", hold.pk)
    return _render_hold(request, hold, edit=edit, release=ReleaseForm())


def _render_hold(
    request: TenantRequest, hold: LegalHold, *, edit: HoldEditForm, release: ReleaseForm,
    status: int = 200,
) -> HttpResponse:  # fmt: skip
    tenant = request.tenant
    search = reverse("archive:search") + "?" + urlencode({"legal_hold": hold.pk})
    # Exports are the auditors' and admins' (archive/exporting/selectors.py): others see no link.
    can_export = getattr(request.membership, "role", None) in EXPORT_ROLES
    export = (
        reverse("archive:export_new") + "?" + urlencode({"legal_hold": hold.pk})
        if can_export
        else ""
    )
    return render(
        request,
        "archive/holds/detail.html",
        {
            "hold": hold,
            "covers": describe_holds(tenant=tenant, holds=[hold], lens=_lens(request))[hold.pk],
            "count": hold_counts(tenant=tenant, holds=[hold])[hold.pk],
            "search_link": search,
            "export_link": export,
            "can_write": _can_write(request),
            "edit": edit,
            "release": release,
        },
        status=status,
    )


@role_required(*WRITE_ROLES)
@require_POST
def hold_release(request: TenantRequest, pk: int) -> HttpResponse:
    hold = _hold_or_404(request, pk)
    form = ReleaseForm(request.POST)
    if form.is_valid():
        try:
            release_hold(
                tenant=request.tenant, actor=Actor.from_request(request), hold=hold,
                reason=form.cleaned_data["reason"],
            )  # fmt: skip
        except HoldError as error:
            _show_error(form, error)
        else:
            messages.success(request, f"Legal hold “{hold.matter}” released.")
            return redirect("archive:hold", hold.pk)
    edit = HoldEditForm(initial={"matter": hold.matter, "reason": hold.reason})
    hold = _hold_or_404(request, pk)
    return _render_hold(request, hold, edit=edit, release=form, status=400)
