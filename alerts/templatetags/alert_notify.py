"""``{% notify_panel %}`` on the alert page: watching, and telling the employee once closed."""

from __future__ import annotations

from typing import Any

from django import template

from compliance_hub.tenancy.models import Role

from ..notify.forms import LANGUAGE_CHOICES, NoticeForm
from ..notify.notices import DEFAULT_LANGUAGE
from ..notify.selectors import is_watching

register = template.Library()


@register.inclusion_tag("alerts/notify/alert_panel.html", takes_context=True)
def notify_panel(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    alert = context["alert"]
    can_act = bool(context.get("can_act"))
    # How the page names people (alerts/masking.py): a masked reviewer reads the pseudonym
    # here too, and not the address the notice goes to.
    masking = context.get("masking")
    masked = masking is None or masking.masks(alert)
    employee = masking.employee(alert) if masking is not None else "the employee"
    language = alert.employee.language
    if language not in dict(LANGUAGE_CHOICES):
        language = DEFAULT_LANGUAGE
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "alert": alert,
        "can_act": can_act,
        "is_admin": request.membership.role == Role.ADMIN,
        "watching": can_act and is_watching(request.tenant, alert, request.user),
        "employee": employee,
        "has_email": bool(alert.employee.email.strip()),
        "employee_email": "" if masked else alert.employee.email.strip(),
        "notice_form": NoticeForm(initial={"language": language}),
    }
