"""Browser pages of the platform: dashboard, tenant switcher, members, invitations, API keys,
audit trail. Views parse and call services; the services audit."""

from __future__ import annotations

import csv

from allauth.account.internal.flows.login import record_authentication
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_POST

from compliance_hub.accounts import services as account_services
from compliance_hub.accounts import throttle
from compliance_hub.accounts.models import Invitation, User
from compliance_hub.api import keys
from compliance_hub.api.models import ApiKey
from compliance_hub.audit.actions import action_choices, action_label
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.selectors import audit_actions, audit_trail
from compliance_hub.audit.services import record_event
from compliance_hub.csv_cells import spreadsheet_safe
from compliance_hub.dashboard import activities_for, panels_for
from compliance_hub.emailed_links import emailed_links_shown_on_page
from compliance_hub.forms import (
    AcceptInvitationForm,
    ApiKeyForm,
    AuditFilterForm,
    InviteForm,
    MembershipForm,
    TenantSwitchForm,
    TimeZoneForm,
)
from compliance_hub.tenancy.middleware import SESSION_TENANT_KEY
from compliance_hub.tenancy.models import Membership, Role
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import role_required
from compliance_hub.tenancy.selectors import active_memberships, tenant_members


@role_required()
def dashboard(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    context = {
        "member_count": Membership.objects.filter(tenant=tenant, is_active=True).count(),
        "pending_invitations": Invitation.objects.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).count(),
        "panels": panels_for(request),
        "activities": activities_for(request),
        "recent_events": (
            audit_trail(tenant=tenant)[:8]
            if request.membership.role in (Role.ADMIN, Role.AUDITOR)
            else []
        ),
    }
    return render(request, "dashboard.html", context)


@login_required
@require_POST
def switch_tenant(request: HttpRequest) -> HttpResponse:
    form = TenantSwitchForm(request.POST)
    membership = None
    if form.is_valid():
        membership = (
            active_memberships(request.user).filter(pk=form.cleaned_data["membership"]).first()
        )
    if membership is None:
        messages.error(request, "You are not a member of that firm.")
        return redirect("dashboard")
    request.session[SESSION_TENANT_KEY] = membership.tenant_id
    record_event(
        "tenant.switched",
        tenant=membership.tenant,
        actor=Actor.from_request(request),
        target=membership.tenant,
    )
    messages.success(request, f"You are now working in {membership.tenant.name}.")
    return redirect("dashboard")


@login_required
def account_settings(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own settings: the time zone their pages speak."""
    user = request.user
    assert isinstance(user, User)
    form = TimeZoneForm(request.POST or None, initial={"time_zone": user.time_zone})
    if request.method == "POST" and form.is_valid():
        try:
            account_services.change_time_zone(
                user=user,
                time_zone=form.cleaned_data["time_zone"],
                tenant=getattr(request, "tenant", None),
                actor=Actor.from_request(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Times are now shown in {user.time_zone}.")
            return redirect("account_settings")
    return render(
        request, "accounts/settings.html", {"form": form}, status=400 if form.errors else 200
    )


@role_required(Role.ADMIN)
def members(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, link = account_services.invite_user(
                tenant=tenant,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                actor=Actor.from_request(request),
                base_url=request.build_absolute_uri("/"),
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                f"Invitation sent to {invitation.email}. It expires on "
                f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC.",
            )
            if emailed_links_shown_on_page():
                messages.info(
                    request, f"Local demo, no email needed: {link}", extra_tags="demo-link"
                )
            return redirect("members")
    invitations = Invitation.objects.filter(
        accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("invited_by")
    return render(
        request,
        "members/list.html",
        {
            "memberships": tenant_members(tenant=tenant),
            "invitations": invitations,
            "form": form,
            "roles": Role.choices,
        },
    )


@role_required(Role.ADMIN)
@require_POST
def member_update(request: TenantRequest, pk: int) -> HttpResponse:
    membership = get_object_or_404(tenant_members(tenant=request.tenant), pk=pk)
    form = MembershipForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
        return redirect("members")
    try:
        account_services.change_membership(
            membership=membership,
            role=form.cleaned_data["role"],
            is_active=form.cleaned_data["is_active"],
            actor=Actor.from_request(request),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Updated {membership.user.email}.")
    return redirect("members")


@role_required(Role.ADMIN)
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects.all(), pk=pk)
    try:
        account_services.revoke_invitation(invitation=invitation, actor=Actor.from_request(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Invitation to {invitation.email} withdrawn.")
    return redirect("members")


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitee's landing page: join with a new account, or with the one they are logged in
    with (which must be the invited address)."""
    try:
        invitation = account_services.find_invitation(token)
    except account_services.InvitationError as error:
        return render(
            request, "accounts/invitation_invalid.html", {"reason": str(error)}, status=410
        )
    existing = User.objects.filter(email__iexact=invitation.email).first()
    context: dict[str, object] = {
        "invitation": invitation,
        "tenant": invitation.tenant,
        "existing": existing,
    }
    if existing is not None and not (
        request.user.is_authenticated and request.user.pk == existing.pk
    ):
        return render(request, "accounts/invitation_login.html", context)
    form = None if existing else AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and (form is None or form.is_valid()):
        user = existing
        if user is None:
            assert form is not None, "a new person always gets the account form (see above)"
            user = User.objects.create_user(
                invitation.email,
                form.cleaned_data["password1"],
                full_name=form.cleaned_data["full_name"],
            )
        try:
            membership = account_services.accept_invitation(
                invitation=invitation, user=user, actor=Actor.for_user(user, request)
            )
        except account_services.InvitationError as error:
            return render(
                request, "accounts/invitation_invalid.html", {"reason": str(error)}, status=410
            )
        if not request.user.is_authenticated:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            # The person proved the password seconds ago by choosing it: record that as allauth
            # records a password sign-in, so setting up the authenticator next does not ask for
            # it again (allauth's reauthentication counts only such records).
            record_authentication(
                request, user, method="password", email=user.email, reauthenticated=True
            )
        request.session[SESSION_TENANT_KEY] = membership.tenant_id
        messages.success(request, f"Welcome to {membership.tenant.name}.")
        return redirect("dashboard")
    context["form"] = form
    return render(request, "accounts/invitation_accept.html", context)


@role_required(Role.ADMIN)
def api_keys(request: TenantRequest) -> HttpResponse:
    members = {
        m.user_id: m.user
        for m in Membership.objects.active()
        .filter(tenant=request.tenant)
        .select_related("user")
        .order_by("user__email")
    }
    choices = [(pk, f"{user} ({user.email})") for pk, user in members.items()]
    form = ApiKeyForm(request.POST or None, members=choices)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = keys.issue_api_key(
                tenant=request.tenant,
                role=form.cleaned_data["role"],
                name=form.cleaned_data["name"],
                actor=Actor.from_request(request),
                for_user=members.get(form.member_id() or 0),
            )
        except keys.KeyRefused as error:
            form.add_error("role", str(error))
        else:
            form = ApiKeyForm(members=choices)
    return render(
        request,
        "api_keys/list.html",
        {
            "api_keys": ApiKey.objects.filter(tenant=request.tenant).select_related("user"),
            "form": form,
            "issued": issued,
        },
        status=400 if form.errors else 200,
    )


@role_required(Role.ADMIN)
@require_POST
def api_key_revoke(request: TenantRequest, pk: int) -> HttpResponse:
    api_key = get_object_or_404(ApiKey.objects.filter(tenant=request.tenant), pk=pk)
    keys.revoke_api_key(api_key=api_key, actor=Actor.from_request(request))
    messages.success(request, f"API key {api_key.name} revoked; it stops working at once.")
    return redirect("api_keys")


def _filtered_trail(request: TenantRequest):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    filters = {name: value for name, value in filters.items() if value}
    return form, filters, audit_trail(tenant=request.tenant, **filters)


def _action_choices(request: TenantRequest, form: AuditFilterForm) -> list[tuple[str, str]]:
    choices = action_choices(audit_actions(tenant=request.tenant))
    chosen = form["action"].value() or ""
    if chosen and chosen not in dict(choices):
        choices.append((chosen, action_label(chosen)))
    return choices


@role_required(Role.ADMIN, Role.AUDITOR)
def audit_log(request: TenantRequest) -> HttpResponse:
    form, _, events = _filtered_trail(request)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "action_choices": _action_choices(request, form),
        },
    )


@role_required(Role.ADMIN, Role.AUDITOR)
def audit_export(request: TenantRequest) -> HttpResponse:
    form, filters, events = _filtered_trail(request)
    if form.is_bound and not form.is_valid():
        # Exporting everything when a filter was mistyped would hand out more than was asked.
        problems = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
        return HttpResponse(
            f"The export's filters are not valid ({problems}). Correct them and export again.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    record_event(
        "audit.exported",
        tenant=request.tenant,
        actor=Actor.from_request(request),
        # The validated filters only: raw query text may hold what jsonb refuses (NUL).
        details={"filters": {name: str(value) for name, value in filters.items()}},
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{request.tenant.slug}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "time_utc",
            "actor",
            "action",
            "target_type",
            "target_id",
            "target",
            "ip",
            "user_agent",
            "details",
        ]
    )
    for event in events.iterator(chunk_size=2000):
        writer.writerow(
            [
                spreadsheet_safe(value)
                for value in (
                    event.occurred_at.isoformat(),
                    event.actor_label,
                    event.action,
                    event.target_type,
                    event.target_id,
                    event.target_label,
                    event.ip_address,
                    event.user_agent,
                    event.details_json,
                )
            ]
        )
    return response


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico by themselves; the icon is a static file (whitenoise)."""
    return redirect(static("favicon.ico"))


def mfa_deactivate_refused(request: HttpRequest) -> HttpResponse:
    """allauth's page that switches the authenticator app off: two-factor is required here."""
    return render(
        request,
        "error.html",
        {
            "status": 403,
            "message": "Two-factor authentication is required for every account, so the "
            "authenticator app cannot be switched off.",
        },
        status=403,
    )


def too_many_requests(request: HttpRequest) -> HttpResponse:
    """allauth's answer when a limit is used up (handler429), saying when to try again."""
    return render(request, "429.html", {"until": throttle.paused_until(request)}, status=429)
