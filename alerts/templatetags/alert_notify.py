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
        "employee_email": alert.employee.email.strip(),
        "notice_form": NoticeForm(initial={"language": language}),
    }
