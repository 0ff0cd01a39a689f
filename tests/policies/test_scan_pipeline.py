"""The scan pipeline: archived messages through the firm's active policies, hits kept with their
findings, never twice; restricted subjects left unread; and the whole path from a signed webhook
through a real Celery worker to a hit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from archive.models import Message
from archive.retention.erasure import record_erasure_request
from archive.retention.services import create_policy as create_retention_policy
from archive.services import archive_messages
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from policies.models import MessageScan, PolicyHit
from policies.packs import pack
from policies.scanning import scan_messages
from policies.services import create_policy, set_active
from tests.archive.ledger_helpers import employee_of, message_record
from tests.polling import wait_until
from tests.webhook_firms import connected_firm, employee_on, post_text

ADMIN = Actor.command("test-admin")
CPF_TEXT = "Segue meu CPF 529.982.247-25 pra abrir a conta"


def activate(tenant, slug: str) -> None:
    with tenant_scope(tenant):
        for document in pack(slug).documents:
            policy, _ = create_policy(tenant=tenant, actor=ADMIN, document=document, pack=slug)
            set_active(policy=policy, actor=ADMIN, active=True)


def archived(tenant, employee, texts: list[str]) -> list[int]:
    records = [replace(message_record(employee, n), text=text) for n, text in enumerate(texts)]
    with tenant_scope(tenant):
        archive_messages(tenant=tenant, records=records)
        return list(Message.objects.order_by("pk").values_list("pk", flat=True))


def test_a_hit_keeps_the_findings_and_a_second_scan_adds_nothing(tenant_a):
    activate(tenant_a, "data_protection")
    employee = employee_of(tenant_a)
    ids = archived(tenant_a, employee, [CPF_TEXT, "Bom dia, reunião às 15h"])

    assert scan_messages(tenant=tenant_a, message_ids=ids) == 1
    assert scan_messages(tenant=tenant_a, message_ids=ids) == 0
    with tenant_scope(tenant_a):
        [hit] = PolicyHit.objects.select_related("policy")
        scans = MessageScan.objects.count()
    assert hit.message_id == ids[0] and hit.policy.name == "Brazilian CPF and CNPJ"
    [finding] = hit.findings
    start, end = finding["spans"][0]
    assert (finding["type"], CPF_TEXT[start:end]) == ("br_cpf", "529.982.247-25")
    assert hit.severity == "medium" and "CPF" in hit.explanation
    assert scans == 2


def test_an_inactive_policy_raises_nothing(tenant_a):
    with tenant_scope(tenant_a):
        create_policy(tenant=tenant_a, actor=ADMIN, document=pack("data_protection").documents[1])
    ids = archived(tenant_a, employee_of(tenant_a), [CPF_TEXT])
    assert scan_messages(tenant=tenant_a, message_ids=ids) == 0


def test_a_restricted_subject_is_marked_and_not_read(tenant_a):
    activate(tenant_a, "data_protection")
    employee = employee_of(tenant_a)
    ids = archived(tenant_a, employee, [CPF_TEXT])
    with tenant_scope(tenant_a):
        # FINRA's six years still cover the message, so the erasure is refused and restricted.
        create_retention_policy(tenant=tenant_a, actor=ADMIN, preset="finra_4511")
        record_erasure_request(
            tenant=tenant_a, actor=ADMIN, subject_kind="employee", law="gdpr",
            requested_by="the employee", requested_on=date(2026, 3, 3), employee_id=employee.pk,
        )  # fmt: skip
    assert scan_messages(tenant=tenant_a, message_ids=ids) == 0
    with tenant_scope(tenant_a):
        assert MessageScan.objects.get().skipped == "restricted"


def test_a_lookback_raises_once_per_message_and_policy(tenant_a):
    employee = employee_of(tenant_a)
    ids = archived(tenant_a, employee, [CPF_TEXT])
    assert scan_messages(tenant=tenant_a, message_ids=ids) == 0  # nothing active yet
    activate(tenant_a, "data_protection")
    with tenant_scope(tenant_a):
        from policies.scanning import active_versions

        versions = active_versions(tenant_a)
    assert scan_messages(tenant=tenant_a, message_ids=ids, lookback=True, versions=versions) == 1
    assert scan_messages(tenant=tenant_a, message_ids=ids, lookback=True, versions=versions) == 0
    with tenant_scope(tenant_a):
        assert PolicyHit.objects.get().lookback is True


@pytest.mark.django_db(transaction=True)
def test_a_signed_webhook_becomes_a_hit_through_a_real_worker(client, worker):
    secret = "scan-e2e-app-secret-42"
    firm = connected_firm("firm-scan", secret)
    employee_on(firm, phone_number_id="444000444", phone_number="+55 11 98765-0101", name="Scanned")
    activate(firm, "data_protection")
    response = post_text(
        client, firm, secret, phone_number_id="444000444", wamid="wamid.SCAN.1", text=CPF_TEXT
    )
    assert response.status_code == 200

    def hit():
        with tenant_scope(firm):
            return PolicyHit.objects.select_related("message").first()

    found = wait_until(hit, failure="the worker did not scan the message in time")
    assert found.message.wamid == "wamid.SCAN.1"
    assert found.findings[0]["type"] == "br_cpf"


def test_the_sweeper_scans_what_the_drain_missed_once(tenant_a):
    from policies.scanning import scan_unscanned, unscanned_message_ids

    activate(tenant_a, "data_protection")
    ids = archived(tenant_a, employee_of(tenant_a), [CPF_TEXT, "ok", "obrigado"])
    assert unscanned_message_ids(tenant=tenant_a) == ids
    assert scan_unscanned(tenant=tenant_a) == 1
    assert unscanned_message_ids(tenant=tenant_a) == []
    assert scan_unscanned(tenant=tenant_a) == 0


@pytest.mark.django_db(transaction=True)
def test_the_beat_sweep_reaches_each_tenant_with_a_policy_through_the_worker(
    worker, tenant_a, tenant_b
):
    from policies.tasks import sweep_unscanned_task

    firm, idle = tenant_a, tenant_b
    activate(firm, "data_protection")
    archived(firm, employee_of(firm), [CPF_TEXT])
    archived(idle, employee_of(idle), [CPF_TEXT])
    assert sweep_unscanned_task() >= 1  # other modules' firms may still be in this database

    def swept():
        with tenant_scope(firm):
            return MessageScan.objects.count() == 1 and PolicyHit.objects.count() == 1

    wait_until(swept, failure="the sweep did not scan the firm's message")
    with tenant_scope(idle):
        assert not MessageScan.objects.exists()


def test_new_hits_are_announced_after_commit_and_a_failing_receiver_does_not_fail_the_scan(
    tenant_a, django_capture_on_commit_callbacks
):
    from policies.hooks import hits_raised

    heard: list[dict] = []

    def listener(**kwargs):
        heard.append(kwargs)

    def broken(**kwargs):
        raise RuntimeError("a receiver above policies failed")

    activate(tenant_a, "data_protection")
    ids = archived(tenant_a, employee_of(tenant_a), [CPF_TEXT, "Bom dia, reunião às 15h"])
    hits_raised.connect(broken, dispatch_uid="test-broken")
    hits_raised.connect(listener, dispatch_uid="test-listener")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert scan_messages(tenant=tenant_a, message_ids=ids) == 1
            assert heard == []  # nothing before the hits are committed
        with django_capture_on_commit_callbacks(execute=True):
            scan_messages(tenant=tenant_a, message_ids=ids)  # nothing new: nothing announced
    finally:
        hits_raised.disconnect(dispatch_uid="test-broken")
        hits_raised.disconnect(dispatch_uid="test-listener")
    [call] = heard
    with tenant_scope(tenant_a):
        [hit] = PolicyHit.objects.all()
    assert call["tenant"] == tenant_a
    assert (call["message_ids"], call["version_ids"]) == ([hit.message_id], [hit.policy_version_id])


def test_decisions_from_every_registered_source_are_merged_true_positive_winning(tenant_a):
    from policies import decisions

    decisions.register_decision_source("test-a", lambda tenant, ids: {ids[0]: False, ids[1]: False})
    decisions.register_decision_source("test-b", lambda tenant, ids: {ids[1]: True})
    try:
        assert decisions.decided(tenant_a, [10, 11, 12]) == {10: False, 11: True}
    finally:
        decisions._sources.pop("test-a")
        decisions._sources.pop("test-b")
