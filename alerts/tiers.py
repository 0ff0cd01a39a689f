"""Tiered review: which alerts a role sees and works. Escalated alerts move to the second level
(``Level.SENIOR``), which only senior officers and admins see and act on; a plain officer gets the
same 404 as for another firm's alert. Auditors read every alert: they examine the review, they
never work it, and hiding the second level from them would hide what a regulator asks about.

The role groups themselves are defined once, in compliance_hub/tenancy/roles.py.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.roles import SENIOR_ROLES

from .models import Alert, Level

# Roles that see second-level alerts (read); only SENIOR_ROLES work them.
SEES_SENIOR_LEVEL: tuple[str, ...] = (*SENIOR_ROLES, Role.AUDITOR)


def sees_senior_level(role: str | None) -> bool:
    return role in SEES_SENIOR_LEVEL


def may_see(alert: Alert, role: str | None) -> bool:
    """Whether a member with ``role`` may see ``alert`` at all (else: 404, as for a stranger)."""
    return alert.level == Level.FIRST or sees_senior_level(role)


def may_work(alert: Alert, role: str | None) -> bool:
    """Whether the alert's level lets ``role`` act on it (the reviewer roles still apply)."""
    return alert.level == Level.FIRST or role in SENIOR_ROLES


def visible_to(rows: QuerySet[Alert], role: str | None) -> QuerySet[Alert]:
    """``rows`` narrowed to the alerts ``role`` may see."""
    return rows if sees_senior_level(role) else rows.filter(level=Level.FIRST)


def only_visible(alerts: Iterable[Alert], role: str | None) -> list[Alert]:
    return [a for a in alerts if may_see(a, role)]
