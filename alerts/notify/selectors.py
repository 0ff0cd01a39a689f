"""Reads for notifications: who supervises, who watches, what each person chose, which notice
wording a firm uses."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from compliance_hub.accounts.models import User
from compliance_hub.tenancy.models import Membership, Tenant
from compliance_hub.tenancy.roles import SENIOR_ROLES

from ..models import Alert
from .models import DEFAULT_KINDS, AlertWatcher, NoticeTemplate, NotificationPreference
from .notices import NoticeText, default_text

# Who hears of escalations (and of overdue alerts nobody is responsible for): the ones who may
# review the second level.
SUPERVISOR_ROLES: tuple[str, ...] = SENIOR_ROLES
# Severities that notify the firm's reviewers who opted in when an alert is raised.
HIGH_SEVERITIES = frozenset({"high", "critical"})


def supervisors(tenant: Tenant) -> list[User]:
    """The tenant's active members whose role is one of SUPERVISOR_ROLES."""
    return list(
        User.objects.filter(
            memberships__tenant=tenant,
            memberships__is_active=True,
            memberships__role__in=SUPERVISOR_ROLES,
        )
        .distinct()
        .order_by("email")
    )


def members_among(tenant: Tenant, user_ids: Iterable[int]) -> list[User]:
    """Those of ``user_ids`` who are still active members of the tenant (a watcher who left,
    a mention of someone since removed: nobody outside the firm is ever written to)."""
    ids = set(user_ids)
    if not ids:
        return []
    member_ids = Membership.objects.active().filter(tenant=tenant, user_id__in=ids)
    return list(
        User.objects.filter(pk__in=member_ids.values("user_id"), is_active=True).order_by("email")
    )


def watcher_ids(tenant: Tenant, alert: Alert) -> list[int]:
    return list(
        AlertWatcher.objects.filter(tenant=tenant, alert=alert).values_list("user_id", flat=True)
    )


def is_watching(tenant: Tenant, alert: Alert, user: User) -> bool:
    return AlertWatcher.objects.filter(tenant=tenant, alert=alert, user=user).exists()


def preference_of(tenant: Tenant, user: User) -> tuple[list[str], bool]:
    """(kinds, daily digest) as ``user`` chose them in ``tenant`` (the defaults until then)."""
    pref = NotificationPreference.objects.filter(tenant=tenant, user=user).first()
    if pref is None:
        return [str(k) for k in DEFAULT_KINDS], False
    return list(pref.kinds), pref.daily_digest


def preferences_of(tenant: Tenant, users: Iterable[User]) -> dict[int, tuple[list[str], bool]]:
    ids = [u.pk for u in users]
    chosen = {
        p.user_id: (list(p.kinds), p.daily_digest)
        for p in NotificationPreference.objects.filter(tenant=tenant, user_id__in=ids)
    }
    default = ([str(k) for k in DEFAULT_KINDS], False)
    return {i: chosen.get(i, default) for i in ids}


def notice_text(tenant: Tenant, kind: str, language: str) -> NoticeText:
    """The firm's wording of notice ``kind`` in ``language``, else the built-in one."""
    own = NoticeTemplate.objects.filter(tenant=tenant, kind=kind, language=language).first()
    if own is not None:
        return NoticeText(own.subject, own.body)
    return default_text(kind, language)


def site_link(path: str) -> str:
    """An absolute link for an email (settings.SITE_URL: never a host a request named)."""
    return str(settings.SITE_URL).rstrip("/") + path
