"""The queue's bulk bar (POST /alerts/bulk/): close, escalate or take the chosen alerts in one
go. Parses and calls alerts.bulk; the answer is a message on the queue (what changed, and why
each skipped alert was left), never an error page for a selection that is too big."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.views.decorators.http import require_POST

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import role_required

from .bulk import BulkOutcome, bulk_assign, bulk_transition, check_selection
from .bulk_forms import ASSIGN_ME, CLOSE, BulkForm, chosen_alerts
from .models import Status
from .services import REVIEWER_ROLES, AlertError

SKIPPED_SHOWN = 10  # reasons listed one by one; the rest are counted


def _back(form: BulkForm) -> HttpResponse:
    raw = form.cleaned_data.get("query", "") if hasattr(form, "cleaned_data") else ""
    # Re-encoded: the filters come back as sent, and nothing typed can break the header.
    query = QueryDict(raw).urlencode()
    return HttpResponseRedirect(reverse("alerts:queue") + (f"?{query}" if query else ""))


def _report(request: TenantRequest, outcome: BulkOutcome) -> None:
    messages.success(request, outcome.summary())
    for skipped in outcome.skipped[:SKIPPED_SHOWN]:
        messages.warning(request, f"Alert {skipped.alert_id}: {skipped.reason}")
    rest = len(outcome.skipped) - SKIPPED_SHOWN
    if rest > 0:
        messages.warning(request, f"{rest} more left as they were for the same kinds of reasons.")


@role_required(*REVIEWER_ROLES)
@require_POST
def queue_bulk(request: TenantRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    valid = form.is_valid()
    values = request.POST.getlist("alert")
    try:
        check_selection(len(values))
    except AlertError as error:
        messages.error(request, str(error))
        return _back(form)
    chosen = chosen_alerts(values)
    if chosen is None or not valid:
        messages.error(request, "Choose alerts from the list and what to do with them.")
        return _back(form)
    data = form.cleaned_data
    actor = Actor.from_request(request)
    try:
        if data["action"] == ASSIGN_ME:
            outcome = bulk_assign(
                tenant=request.tenant, actor=actor, chosen=chosen, assignee=actor.user
            )
        else:
            outcome = bulk_transition(
                tenant=request.tenant, actor=actor, chosen=chosen,
                to=Status.CLOSED if data["action"] == CLOSE else Status.ESCALATED,
                disposition=data["disposition"] if data["action"] == CLOSE else "",
                rationale=data["rationale"],
            )  # fmt: skip
    except AlertError as error:
        messages.error(request, str(error))
        return _back(form)
    _report(request, outcome)
    return _back(form)
