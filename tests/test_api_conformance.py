"""The OpenAPI document is the truth: schemathesis sends every operation of /api/schema/ valid and
invalid requests (a bounded number per operation), as each role's API key, and every answer must
be documented (status code, content type, body) and none may be a 5xx.

CONFORMANCE_EXAMPLES (environment) raises the number of examples for a deeper run by hand."""

from __future__ import annotations

import os
import time
from collections import Counter
from contextlib import contextmanager, suppress
from dataclasses import replace

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from alerts.raising import raise_missing_alerts
from archive.models import Message
from archive.services import archive_messages
from compliance_hub.api.throttling import TenantRateThrottle
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from consent import services as consent_services
from policies.scanning import scan_messages
from policies.services import create_policy, set_active
from tests.archive.ledger_helpers import employee_of, message_record
from tests.consent.employees import make_employee

EXAMPLES = int(os.environ.get("CONFORMANCE_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# CONFORMANCE_STRICT=1 also reports schema-valid requests refused and invalid ones accepted: some
# rules cannot be said in OpenAPI (a phone number valid for its country, a unique employee id).
if os.environ.get("CONFORMANCE_STRICT"):
    CHECKS += [positive_data_acceptance, negative_data_rejection]


@contextmanager
def requests_in_this_transaction():
    """Django's WSGI application, called in this thread inside the test's transaction: like
    Django's test client, keep the request signals from closing the connection under it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _no_throttle(monkeypatch):
    # The API's throttle (600/min per key) is tested in test_api.py; here it would only get in
    # the way of a few hundred requests a second.
    monkeypatch.setattr(
        TenantRateThrottle,
        "THROTTLE_RATES",
        {"tenant": "1000000/min", "policy_trial": "1000000/min"},
    )


@pytest.fixture
def some_rows(tenant_a, alice):
    """Something for the reads to find: an employee, with a WhatsApp number, and a notice; a
    policy switched on, with a hit on an archived message, and its alert."""
    make_employee(tenant_a)
    consent_services.create_notice_draft(
        tenant=tenant_a,
        texts={"en": {"title": "Monitoring", "body": "We keep your messages."}},
        actor=Actor.system(),
    )
    document = {
        "name": "CPF numbers",
        "severity": "medium",
        "detect": {"detector": "pii", "types": ["br_cpf"], "min_score": 0.5},
    }
    record = replace(message_record(employee_of(tenant_a), 0), text="CPF 529.982.247-25")
    with tenant_scope(tenant_a):
        policy, _ = create_policy(tenant=tenant_a, actor=Actor.system(), document=document)
        set_active(policy=policy, actor=Actor.system(), active=True)
        archive_messages(tenant=tenant_a, records=[record])
        ids = list(Message.objects.values_list("pk", flat=True))
    assert scan_messages(tenant=tenant_a, message_ids=ids) == 1
    with tenant_scope(tenant_a):
        # The hook raises alerts after the scan's commit, which a test's transaction never
        # reaches: the sweeper's verb raises it here.
        assert raise_missing_alerts(tenant=tenant_a) == 1


class Run:
    """What a run sent and the distinct failures it found (one line per kind, with a request
    that shows it)."""

    def __init__(self, headers: dict) -> None:
        self.headers = headers
        self.sent = 0
        self.failures: dict[str, str] = {}

    def send(self, case, mode: GenerationMode) -> None:
        self.sent += 1
        response = case.call(headers=self.headers)
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                self.record(case, mode, response.status_code, failure)
        except Failure as failure:
            self.record(case, mode, response.status_code, failure)

    def record(self, case, mode: GenerationMode, status: int, failure: Failure) -> None:
        key = f"{case.operation.label} [{mode.value}] {status}: {failure.title}"
        self.failures.setdefault(key, f"{key}\n    {case.as_curl_command()[:400]}")

    def operation(self, operation, mode: GenerationMode, examples: int) -> None:
        @hypothesis.settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        def send(case) -> None:
            self.send(case, mode)

        # Unsatisfiable: nothing to make invalid (an operation without parameters or body).
        with suppress(hypothesis.errors.Unsatisfiable):
            send()


def run_every_operation(
    schema, *, headers: dict, examples: int, paths: tuple[str, ...] = ("/",)
) -> tuple[int, list[str]]:
    """Send ``examples`` positive and negative examples to each operation (of ``paths``)."""
    run = Run(headers)
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith(paths):
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run.operation(operation, mode, examples)
    return run.sent, sorted(run.failures.values())


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OFFICER, Role.AUDITOR])
def test_every_operation_answers_as_its_schema_says(
    api_client_for, api_key_factory, tenant_a, some_rows, role
):
    key = api_key_factory(tenant_a, role)
    document = api_client_for(tenant_a, role).get("/api/schema/?format=json").json()
    schema = schemathesis.openapi.from_dict(document)
    started = time.monotonic()
    with requests_in_this_transaction() as app:
        schema.app = app
        sent, failures = run_every_operation(
            schema, headers={"Authorization": f"Api-Key {key}"}, examples=EXAMPLES
        )
    statuses = Counter(line.split(": ", 1)[0].rsplit(" ", 1)[-1] for line in failures)
    print(f"{role}: {sent} requests in {time.monotonic() - started:.0f} s; failures {statuses}")
    assert sent > 0
    assert failures == [], "\n".join(failures)


# The operations that read or take people as a masked reader's pseudonyms (docs/alerts.md, "The
# pseudonym wall where officers write").
PSEUDONYMISED_PATHS = ("/api/v1/policies/", "/api/v1/backtests/", "/api/v1/legal-holds/")


@pytest.mark.parametrize("role", [Role.OFFICER, Role.SENIOR_OFFICER])
def test_a_masked_officers_operations_on_scopes_and_holds_answer_as_their_schema_says(
    api_client_for, api_key_factory, tenant_a, some_rows, role
):
    from alerts.review_settings import update_review_settings
    from archive.holds.services import place_hold

    update_review_settings(tenant=tenant_a, actor=Actor.system(), pseudonymise=True, sla_hours={})
    from consent.models import Employee

    with tenant_scope(tenant_a):
        employee = Employee.objects.order_by("pk").first()
        assert employee is not None
        place_hold(
            tenant=tenant_a, actor=Actor.system(), matter="M", reason="R",
            employee_ids=[employee.pk], counterparty="5511911110000",
        )  # fmt: skip
        # A scope that names people, for the reads to pseudonymise.
        scoped = {
            "name": "Scoped", "severity": "low", "detect": {"detector": "pii"},
            "scope": {"employees": [employee.employee_id, "NOBODY-1"], "teams": ["Small"]},
        }  # fmt: skip
        create_policy(tenant=tenant_a, actor=Actor.system(), document=scoped)
    key = api_key_factory(tenant_a, role)
    document = api_client_for(tenant_a, role).get("/api/schema/?format=json").json()
    schema = schemathesis.openapi.from_dict(document)
    with requests_in_this_transaction() as app:
        schema.app = app
        sent, failures = run_every_operation(
            schema, headers={"Authorization": f"Api-Key {key}"}, examples=EXAMPLES,
            paths=PSEUDONYMISED_PATHS,
        )  # fmt: skip
    assert sent > 0
    assert failures == [], "\n".join(failures)


# --- the document itself -------------------------------------------------------------------------


@pytest.fixture
def document(api_client_for, tenant_a) -> dict:
    return api_client_for(tenant_a, Role.AUDITOR).get("/api/schema/?format=json").json()


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_every_operation_documents_the_errors_of_the_plumbing(document):
    error = {"$ref": "#/components/schemas/ApiError"}
    for label, operation in operations(document):
        for status in ("401", "403", "404", "429"):
            response = operation["responses"].get(status)
            assert response is not None, (label, status)
            assert response["content"]["application/json"]["schema"] == error, (label, status)
        if "requestBody" in operation:
            assert {"400", "415"} <= set(operation["responses"]), label


def test_request_bodies_are_json_unless_they_carry_files(document):
    kinds = {
        label: set(operation["requestBody"]["content"])
        for label, operation in operations(document)
        if "requestBody" in operation
    }
    assert kinds.pop("POST /api/v1/employees/import/") == {"multipart/form-data"}
    assert kinds.pop("POST /api/v1/employees/{id}/consents/") == {
        "multipart/form-data",
        "application/json",
    }
    assert kinds and all(media == {"application/json"} for media in kinds.values()), kinds


def test_an_empty_filter_is_documented_as_no_filter_and_paging_is_strict(document):
    parameters = {
        parameter["name"]: parameter
        for parameter in document["paths"]["/api/v1/employees/"]["get"]["parameters"]
    }
    assert parameters["consent_state"]["allowEmptyValue"] is True
    assert "allowEmptyValue" not in parameters["page_size"]
    assert parameters["page_size"]["schema"]["maximum"] == 500


def test_the_whatsapp_settings_input_says_what_it_refuses(document):
    schema = document["components"]["schemas"]["PatchedWhatsAppSettingsInputRequest"]
    assert schema["minProperties"] == 1 and schema["additionalProperties"] is False


def test_the_dashboards_series_are_documented_as_json_and_csv(document):
    operation = document["paths"]["/api/v1/stats/{series}/"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert sorted(parameters["series"]["schema"]["enum"]) == [
        "alerts-over-time",
        "coverage",
        "false-positives",
        "open-by-age",
        "reviewer-throughput",
    ]
    assert sorted(parameters["format"]["schema"]["enum"]) == ["csv", "json"]
    assert {"start", "end", "bucket", "time_zone"} <= set(parameters)
