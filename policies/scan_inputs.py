"""What a scan of archived messages needs besides the policies, in one place for every reader
of the archive that runs the engine (the scan pipeline, lookbacks, backtests): the engine with
the classifiers and the firm's phone region, each message's context (employee, team, region,
direction, colleague or client) and the secret seed of a policy's supervision sample.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.crypto import salted_hmac

from archive.models import Message
from compliance_hub.tenancy.models import Tenant
from consent.models import Employee

from .documents.evaluate import MessageContext
from .engine import Classify, Engine, PolicyRun
from .engine import Message as EngineMessage

if TYPE_CHECKING:
    from .detectors.classifier import ActiveModel


def classifiers(model: ActiveModel | None = None) -> Classify | None:
    """The ML classifiers' batch function, with a firm's own model (None: the process's
    built-in one). Imported when asked, so that light callers (pages, the dashboard) never
    import scikit-learn; the model loads on the first batch."""
    from .detectors.classifier import classify

    if model is None:
        return classify
    return functools.partial(classify, model=model)


def phone_region(tenant: Tenant) -> str:
    """The region of phone numbers written without a country code."""
    return str(getattr(settings, "POLICIES_DEFAULT_REGION", "BR"))


def sampling_seed(tenant_id: int, policy_id: int) -> str:
    """Secret per firm and policy: an employee cannot work out which messages a sample takes.
    The same for every run of the policy, so a backtest draws the sample the policy draws."""
    return salted_hmac("policies.sampling", f"{tenant_id}:{policy_id}").hexdigest()


def build_engine(tenant: Tenant, runs: Sequence[PolicyRun]) -> Engine:
    """The engine as the pipeline runs it for the firm: classifiers on (the firm's own model
    when an admin promoted one, as scanning uses it), the firm's region."""
    from .learning import scoring_model

    return Engine(runs, classify=classifiers(scoring_model(tenant)[1]), region=phone_region(tenant))


def message_contexts(tenant: Tenant, messages: Sequence[Message]) -> dict[int, MessageContext]:
    """Each message's context by its id (messages with their conversation selected)."""
    employees = {
        e.pk: e
        for e in Employee.objects.filter(
            tenant=tenant, pk__in={m.employee_id for m in messages}
        ).select_related("team")
    }
    numbers = {
        m.conversation.counterparty_wa_id for m in messages if m.conversation.counterparty_wa_id
    }
    colleagues = set(
        Employee.objects.filter(
            tenant=tenant, phone_number__in=[f"+{n}" for n in numbers]
        ).values_list("phone_number", flat=True)
    )
    contexts = {}
    for m in messages:
        employee = employees.get(m.employee_id)
        contexts[m.pk] = MessageContext(
            employee=employee.employee_id if employee else "",
            team=employee.team.name if employee and employee.team else "",
            region=employee.region if employee else "",
            direction=m.direction,
            counterparty_internal=f"+{m.conversation.counterparty_wa_id}" in colleagues,
        )
    return contexts


def engine_messages(tenant: Tenant, messages: Sequence[Message]) -> list[EngineMessage]:
    """The messages as the engine reads them: text, context, and the ids sampling draws by."""
    contexts = message_contexts(tenant, messages)
    return [EngineMessage(m.text, contexts[m.pk], key=(m.employee_id, m.pk)) for m in messages]
