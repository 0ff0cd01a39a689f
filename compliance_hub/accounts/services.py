"""The verbs of accounts: invitations and memberships. Each one writes the audit trail."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.digits import split_token
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Membership, Role, Tenant

from .models import Invitation, User, hash_token
from .time_zones import is_time_zone


class InvitationError(Exception):
    """An invitation link that cannot be used; the message is safe to show."""


class LastAdminError(ValidationError):
    pass


def invitation_token(tenant: Tenant, secret: str) -> str:
    # The tenant id travels in the token so the lookup runs inside that tenant's scope (RLS);
    # only the secret part proves anything.
    return f"{tenant.pk}.{secret}"


def invite_user(
    *, tenant: Tenant, email: str, role: str, actor: Actor, base_url: str = ""
) -> tuple[Invitation, str]:
    """Invite ``email`` to ``tenant`` as ``role``; mail the link and return it (shown once)."""
    email = User.objects.normalize_email(email).strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.values)}."})
    if Membership.objects.filter(tenant=tenant, user__email=email, is_active=True).exists():
        raise ValidationError({"email": "This person is already a member of this firm."})
    secret = secrets.token_urlsafe(32)
    with tenant_scope(tenant):
        # A new invitation replaces a pending one to the same address.
        Invitation.objects.filter(
            email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        invitation = Invitation.objects.create(
            tenant=tenant,
            email=email,
            role=role,
            token_hash=hash_token(secret),
            invited_by=actor.user,
            expires_at=timezone.now() + settings.INVITATION_TTL,
        )
        record_event(
            "invitation.created",
            tenant=tenant,
            actor=actor,
            target=invitation,
            details={"email": email, "role": role},
        )
    path = reverse("invitation_accept", args=[invitation_token(tenant, secret)])
    link = (base_url.rstrip("/") if base_url else settings.SITE_URL) + path
    body = render_to_string(
        "accounts/email/invitation.txt",
        {
            "tenant": tenant,
            "role": invitation.get_role_display(),
            "link": link,
            "expires_at": invitation.expires_at,
        },
    )
    transaction.on_commit(
        lambda: send_mail(
            f"You are invited to {tenant.name} on Compliance Hub",
            body,
            settings.DEFAULT_FROM_EMAIL,
            [email],
        )
    )
    return invitation, link


def find_invitation(token: str) -> Invitation:
    """The usable invitation for ``token``: raises InvitationError with a clear reason."""
    parts = split_token(token)
    if parts is None:
        raise InvitationError("This invitation link is not valid.")
    tenant_id, secret = parts
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        raise InvitationError("This invitation link is not valid.")
    with tenant_scope(tenant):
        invitation = Invitation.objects.filter(token_hash=hash_token(secret)).first()
    if invitation is None:
        raise InvitationError("This invitation link is not valid.")
    if not tenant.is_active:
        raise InvitationError(f"{tenant.name} is suspended; ask your administrator.")
    if invitation.accepted_at is not None:
        raise InvitationError("This invitation has already been used. Log in instead.")
    if invitation.revoked_at is not None:
        raise InvitationError(
            "This invitation was withdrawn. Ask your administrator for a new one."
        )
    if invitation.expires_at <= timezone.now():
        raise InvitationError("This invitation has expired. Ask your administrator for a new one.")
    invitation.tenant = tenant
    return invitation


def accept_invitation(*, invitation: Invitation, user: User, actor: Actor) -> Membership:
    """Make ``user`` a member with the invited role (``actor`` is that person, from where they
    accepted). Single use: a concurrent second accept finds the row already claimed and
    fails."""
    if user.email.lower() != invitation.email.lower():
        raise InvitationError(
            f"This invitation is for {invitation.email}; you are logged in as {user.email}."
        )
    tenant = invitation.tenant
    with tenant_scope(tenant), transaction.atomic():
        claimed = Invitation.objects.filter(
            pk=invitation.pk,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).update(accepted_at=timezone.now(), accepted_by=user)
        if claimed != 1:
            raise InvitationError("This invitation has already been used. Log in instead.")
        membership, created = Membership.objects.get_or_create(
            tenant=tenant, user=user, defaults={"role": invitation.role}
        )
        if not created:
            try:
                _ensure_an_admin_remains(membership, new_role=invitation.role, active=True)
            except LastAdminError as error:
                raise InvitationError(
                    f"Accepting would leave {tenant.name} without an admin. Ask for an "
                    "invitation as admin, or for another admin to be added first."
                ) from error
            membership.role = invitation.role
            membership.is_active = True
            membership.save(update_fields=["role", "is_active", "updated_at"])
        record_event("invitation.accepted", tenant=tenant, actor=actor, target=invitation)
        record_event(
            "membership.created" if created else "membership.reactivated",
            tenant=tenant,
            actor=actor,
            target=membership,
            target_label=user.email,
            details={"role": invitation.role, "via": "invitation"},
        )
    return membership


def revoke_invitation(*, invitation: Invitation, actor: Actor) -> Invitation:
    if invitation.accepted_at is not None:
        raise ValidationError("This invitation has already been accepted.")
    if invitation.revoked_at is None:
        with tenant_scope(invitation.tenant_id):
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
            record_event(
                "invitation.revoked",
                tenant=invitation.tenant,
                actor=actor,
                target=invitation,
            )
    return invitation


class OwnMembershipError(ValidationError):
    pass


def _ensure_an_admin_remains(membership: Membership, *, new_role: str, active: bool) -> None:
    """Refuse a change that would leave the firm without an active admin. Call inside the
    transaction that writes the change: the firm's admin rows stay locked until it commits, so
    two admins demoting each other at the same moment cannot both succeed."""
    if membership.role != Role.ADMIN or not membership.is_active:
        return
    if new_role == Role.ADMIN and active:
        return
    admins = list(
        Membership.objects.select_for_update()
        .filter(tenant_id=membership.tenant_id, role=Role.ADMIN, is_active=True)
        .order_by("pk")  # one lock order for every caller
        .values_list("pk", flat=True)
    )
    if not [pk for pk in admins if pk != membership.pk]:
        raise LastAdminError("A firm must keep at least one active admin.")


def change_membership(
    *,
    membership: Membership,
    role: str | None = None,
    is_active: bool | None = None,
    actor: Actor,
) -> Membership:
    """Change a member's role and/or activity; the last active admin cannot be demoted."""
    new_role = membership.role if role is None else role
    new_active = membership.is_active if is_active is None else is_active
    if new_role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.values)}."})
    if (new_role, new_active) == (membership.role, membership.is_active):
        return membership
    if actor.user is not None and actor.user.pk == membership.user_id:
        # An admin who demotes or deactivates themselves locks themselves out at once.
        raise OwnMembershipError(
            "You cannot change your own role or access. Ask another admin of this firm."
        )
    before = {"role": membership.role, "is_active": membership.is_active}
    with transaction.atomic():
        _ensure_an_admin_remains(membership, new_role=new_role, active=new_active)
        membership.role = new_role
        membership.is_active = new_active
        membership.save(update_fields=["role", "is_active", "updated_at"])
        if before["role"] != new_role:
            action = "membership.role_changed"
        else:
            action = "membership.reactivated" if new_active else "membership.deactivated"
        record_event(
            action,
            tenant=membership.tenant,
            actor=actor,
            target=membership,
            target_label=membership.user.email,
            details={"before": before, "after": {"role": new_role, "is_active": new_active}},
        )
    return membership


def add_member(*, tenant: Tenant, user: User, role: str, actor: Actor) -> Membership:
    """Platform path (CLI, seeding): make ``user`` a member directly, audited."""
    with transaction.atomic():
        existing = Membership.objects.filter(tenant=tenant, user=user).first()
        if existing is not None:
            _ensure_an_admin_remains(existing, new_role=role, active=True)
        membership, created = Membership.objects.update_or_create(
            tenant=tenant, user=user, defaults={"role": role, "is_active": True}
        )
        record_event(
            "membership.created" if created else "membership.role_changed",
            tenant=tenant,
            actor=actor,
            target=membership,
            target_label=user.email,
            details={"role": role},
        )
    return membership


def change_time_zone(*, user: User, time_zone: str, tenant: Tenant | None, actor: Actor) -> User:
    """Set the time zone ``user``'s pages show times in (an IANA name such as America/Sao_Paulo).
    Audited in ``tenant``'s trail (the firm the person was working in), or the platform's."""
    time_zone = time_zone.strip()
    if not is_time_zone(time_zone):
        message = (
            f"“{time_zone[:64]}” is not a time zone we know. Pick one from the list, such as"
            " America/Sao_Paulo or Asia/Kolkata."
        )
        raise ValidationError({"time_zone": message})
    previous = user.time_zone
    if previous == time_zone:
        return user
    with transaction.atomic():
        user.time_zone = time_zone
        user.save(update_fields=["time_zone"])
        record_event(
            "account.time_zone_changed",
            tenant=tenant,
            actor=actor,
            target=user,
            target_label=user.email,
            details={"from": previous, "to": time_zone},
        )
    return user
