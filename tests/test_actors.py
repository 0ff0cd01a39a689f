"""Who acted: the Actor each edge builds (compliance_hub/audit/actors.py), and the audit row each
kind of edge leaves (label, person, address, browser) - the same rows as before the Actor."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command

from compliance_hub.api.models import ApiKey
from compliance_hub.audit.actors import Actor, ActorKind, client_ip
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from consent import services as consent
from consent.models import ConsentEvent
from consent.tasks import send_consent_invitations_task
from tests.consent.employees import invitation_path, make_employee
from tests.fixtures import login

BROWSER = "Mozilla/5.0 (Actor test)"


def last_event(tenant, action: str) -> AuditEvent:
    with tenant_scope(tenant):
        return AuditEvent.objects.filter(action=action).latest("id")


# --- the constructors ----------------------------------------------------------------------


def test_a_signed_in_person_is_their_email_with_the_address_and_browser(rf, alice):
    request = rf.post("/", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="x" * 600)
    request.user = alice.user
    actor = Actor.from_request(request)
    assert (actor.kind, actor.label, actor.user, actor.api_key) == (
        ActorKind.USER,
        alice.email,
        alice.user,
        None,
    )
    assert actor.ip_address == "203.0.113.7"
    assert actor.user_agent == "x" * 512  # the trail's column


def test_an_api_key_is_its_prefix_and_the_address_behind_the_declared_proxy(
    rf, settings, tenant_a, api_key_factory
):
    api_key_factory(tenant_a)
    key = ApiKey.objects.get(tenant=tenant_a)
    settings.TRUSTED_PROXY_COUNT = 1
    # The first entry is whatever the client wrote; our one proxy appended what it saw.
    request = rf.get(
        "/",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.50",
        HTTP_USER_AGENT="curl/8",
    )
    request.user = AnonymousUser()
    request.api_key = key
    actor = Actor.from_request(request)
    assert (actor.kind, actor.label, actor.user, actor.api_key) == (
        ActorKind.API_KEY,
        f"api-key:{key.prefix}",
        None,
        key,
    )
    assert (actor.ip_address, actor.user_agent) == ("203.0.113.50", "curl/8")
    settings.TRUSTED_PROXY_COUNT = 0  # no proxy declared: the header is the client's own words
    assert Actor.from_request(request).ip_address == "10.0.0.2"
    assert client_ip(request) == "10.0.0.2"


def test_a_request_with_nobody_signed_in_is_refused_rather_than_guessed(rf):
    request = rf.get("/")
    request.user = AnonymousUser()
    with pytest.raises(ValueError, match="Nobody is signed in"):
        Actor.from_request(request)


def test_a_link_visitor_is_the_employee_even_when_someone_is_signed_in(rf, alice, tenant_a):
    employee = make_employee(tenant_a)
    request = rf.post("/", REMOTE_ADDR="198.51.100.8", HTTP_USER_AGENT=BROWSER)
    request.user = alice.user
    actor = Actor.link_visitor(request, label=employee.audit_label)
    assert (actor.kind, actor.label, actor.user) == (ActorKind.LINK, "employee:E-100", None)
    assert (actor.ip_address, actor.user_agent) == ("198.51.100.8", BROWSER)


def test_a_visitor_names_the_account_a_login_attempt_named(rf, alice):
    request = rf.post("/", REMOTE_ADDR="198.51.100.9")
    actor = Actor.visitor(request, label="alice@firm-a.example", user=alice.user)
    assert (actor.kind, actor.label, actor.user) == (
        ActorKind.VISITOR,
        "alice@firm-a.example",
        alice.user,
    )
    assert actor.ip_address == "198.51.100.9"


def test_the_system_commands_and_tasks_keep_todays_labels(alice):
    assert Actor.system() == Actor(kind=ActorKind.SYSTEM, label="system")
    assert Actor.command().label == "system"  # the platform commands
    assert Actor.command("cli:rotate_log_key").label == "cli:rotate_log_key"
    for actor in (Actor.system(), Actor.command("verify_archive"), Actor.task(user=None)):
        assert (actor.kind, actor.user, actor.ip_address, actor.user_agent) == (
            ActorKind.SYSTEM,
            None,
            None,
            "",
        )
    queued = Actor.task(user=alice.user)  # work a person queued: in their name, no address
    assert (queued.kind, queued.label, queued.user, queued.ip_address) == (
        ActorKind.USER,
        alice.email,
        alice.user,
        None,
    )


# --- one audit row per kind of edge ---------------------------------------------------------


def test_a_page_records_the_signed_in_person_their_address_and_browser(client, alice, tenant_a):
    login(client, alice)
    client.post(
        "/employees/teams/",
        {"name": "Equities"},
        REMOTE_ADDR="203.0.113.21",
        HTTP_USER_AGENT=BROWSER,
    )
    event = last_event(tenant_a, "team.created")
    assert (event.actor, event.actor_label, event.ip_address, event.user_agent) == (
        alice.user,
        alice.email,
        "203.0.113.21",
        BROWSER,
    )


def test_an_api_call_records_the_key_and_the_address_behind_the_proxy(
    api_client_for, tenant_a, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    client = api_client_for(tenant_a)
    response = client.post(
        "/api/v1/employees/",
        {
            "full_name": "Bruno Lima",
            "email": "bruno@firm-a.example",
            "employee_id": "E-2",
            "phone_number": "+55 11 98765-4322",
        },
        format="json",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.60",
        HTTP_USER_AGENT="hr-sync/2",
    )
    assert response.status_code == 201, response.content
    key = ApiKey.objects.get(tenant=tenant_a)
    event = last_event(tenant_a, "employee.created")
    assert (event.actor, event.actor_label, event.ip_address, event.user_agent) == (
        None,
        f"api-key:{key.prefix}",
        "203.0.113.60",
        "hr-sync/2",
    )


def test_the_emailed_link_records_the_employee_in_the_trail_and_the_evidence(
    client, tenant_a, alice
):
    employee = make_employee(tenant_a)
    path = invitation_path(employee)
    login(client, alice)  # an admin trying the link on their own browser acts as nobody else
    response = client.post(
        path,
        {"action": "accept", "signature_name": "Maria Souza", "lang": "en"},
        REMOTE_ADDR="198.51.100.30",
        HTTP_USER_AGENT=BROWSER,
    )
    assert response.status_code == 200, response.content
    event = last_event(tenant_a, "consent.granted")
    assert (event.actor, event.actor_label, event.ip_address, event.user_agent) == (
        None,
        "employee:E-100",
        "198.51.100.30",
        BROWSER,
    )
    with tenant_scope(tenant_a):
        grant = ConsentEvent.objects.get(employee=employee, kind="granted")
    assert (grant.recorded_by, grant.ip_address, grant.user_agent) == (
        None,
        "198.51.100.30",
        BROWSER,
    )


def test_a_command_records_its_label_and_no_address(tenant_a, capsys):
    call_command("create_api_key", tenant_a.slug, "--role", "auditor")
    event = last_event(tenant_a, "api_key.created")
    assert (event.actor, event.actor_label, event.ip_address, event.user_agent) == (
        None,
        "system",
        None,
        "",
    )


def test_a_task_records_the_person_who_queued_it_or_the_system(tenant_a, alice):
    notice = consent.current_notice(tenant=tenant_a)
    # Queued by a person, then by an API key (no person: the worker acts as the system).
    for employee_id, queued_by in (("E-1", alice.user.pk), ("E-2", None)):
        employee = make_employee(
            tenant_a,
            employee_id=employee_id,
            email=f"{employee_id}@firm-a.example",
            phone_number=f"+551198765432{employee_id[-1]}",
            whatsapp_phone_number_id="",
        )
        send_consent_invitations_task.apply(
            kwargs={
                "tenant_id": tenant_a.pk,
                "employee_ids": [employee.pk],
                "notice_id": notice.pk,
                "actor_id": queued_by,
            }
        ).get()
    with tenant_scope(tenant_a):
        sent = AuditEvent.objects.filter(action="consent.invitation_sent").order_by("id")
        rows = [(e.actor, e.actor_label, e.ip_address, e.user_agent) for e in sent]
    assert rows == [(alice.user, alice.email, None, ""), (None, "system", None, "")]
