"""Erasure requests (GDPR Art. 17, LGPD Art. 18), from ``/api/v1/erasure-requests/`` and the
admins' ``/archive/erasure/`` page: refused with the legal basis written out while a retention
policy still keeps the subject's messages (the subject is then restricted, and the conversation
page says so), carried out with tombstones otherwise (the archive still verifies); every
decision audited; bad input a clear 400; another firm's employee cannot be named."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from archive.ledger.models import Tombstone
from archive.models import Conversation, Message
from archive.retention.erasure import record_erasure_request
from archive.retention.models import ErasureRequest, SubjectRestriction
from archive.retention.selectors import restricted_q
from archive.retention.services import create_policy
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from tests.archive.retention_helpers import ADMIN, archive_old, logged_archive, verify
from tests.fixtures import login

pytestmark = pytest.mark.usefixtures("anchor_dir")
URL = "/api/v1/erasure-requests/"
CLIENT = "+55 11 999"  # ledger_helpers' client: wa_id 5511999


def request_body(**overrides) -> dict:
    return {
        "subject_kind": "counterparty",
        "counterparty_number": CLIENT,
        "law": "gdpr",
        "requested_by": "The client, by email",
        "requested_on": "2026-12-01",
        **overrides,
    }


def trail(tenant) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action__startswith="erasure_request.").order_by("id"))


def texts(tenant) -> list[str]:
    with tenant_scope(tenant):
        return list(Message.objects.order_by("pk").values_list("text", flat=True))


def test_refused_with_the_legal_basis_while_retention_applies_and_the_client_restricted(
    admin_api, tenant_a
):
    logged_archive(tenant_a, count=2)  # sent 2026-03-02
    create_policy(tenant=tenant_a, actor=ADMIN, preset="sec_17a4_a")

    answer = admin_api.post(URL, request_body(), format="json")

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["decision"] == "refused"
    assert body["basis"] == [
        "SEC Rule 17a-4(a) requires these records be kept until 2032-03-02 "
        "(6 years from the newest message it covers).",
        "GDPR Art. 17(3)(b): erasure does not apply while a legal obligation requires the "
        "records be kept.",
    ]
    assert (body["subject"], body["message_count"]) == ("Client +5511999", 2)
    assert all(texts(tenant_a))  # nothing erased
    with tenant_scope(tenant_a):
        assert SubjectRestriction.objects.filter(counterparty_wa_id="5511999").count() == 1
        assert Message.objects.filter(restricted_q(tenant=tenant_a)).count() == 2
    [event] = trail(tenant_a)
    assert event.action == "erasure_request.refused"
    assert event.details["basis"].startswith("SEC Rule 17a-4(a) requires")
    assert event.details["requested_by"] == "The client, by email"


def test_carried_out_with_tombstones_when_nothing_keeps_the_records(admin_api, tenant_a):
    ana = logged_archive(tenant_a, count=2)
    archive_old(tenant_a, ana, sent=datetime(2019, 5, 1, 12, tzinfo=UTC), count=1, start=40)
    # No policy covers the client's messages: nothing obliges the firm to keep them.

    answer = admin_api.post(URL, request_body(law="lgpd"), format="json")

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["decision"], body["basis"]) == ("carried_out", [])
    assert body["disposed"] == {"archive.message": 3, "archive.messageevent": 2,
                                "archive.attachmentfile": 0, "waiting_for_the_log": 0}  # fmt: skip
    assert texts(tenant_a) == ["", "", ""]
    with tenant_scope(tenant_a):
        assert Tombstone.objects.filter(record_table="archive.message").count() == 3
        assert not SubjectRestriction.objects.exists()
    assert "OK:" in verify()
    assert trail(tenant_a)[0].action == "erasure_request.carried_out"


def test_an_employees_request_is_refused_naming_the_longest_rule(tenant_a):
    ana = logged_archive(tenant_a, count=1)
    create_policy(tenant=tenant_a, actor=ADMIN, preset="sec_17a4_b4")
    create_policy(tenant=tenant_a, actor=ADMIN, preset="mifid_ii", years=7, scope="region",
                  region="BR")  # fmt: skip
    decided = record_erasure_request(
        tenant=tenant_a, actor=ADMIN, subject_kind="employee", employee_id=ana.pk, law="gdpr",
        requested_by=ana.full_name, requested_on=date(2026, 12, 1),
    )  # fmt: skip
    assert decided.decision == ErasureRequest.Decision.REFUSED
    lines = decided.basis.splitlines()
    assert lines[0].startswith(
        "MiFID II Art. 16(7) and Delegated Regulation (EU) 2017/565 "
        "Art. 76 requires these records be kept until 2033-03-02"
    )
    assert lines[1].startswith("SEC Rule 17a-4(b)(4) requires these records be kept until 2029")


def test_the_conversation_page_shows_restricted(client, tenant_a, audrey):
    logged_archive(tenant_a, count=1)
    create_policy(tenant=tenant_a, actor=ADMIN, preset="finra_4511")
    with tenant_scope(tenant_a):
        conversation = Conversation.objects.get()
    login(client, audrey)
    assert b"restricted" not in client.get(f"/archive/conversations/{conversation.pk}/").content
    record_erasure_request(
        tenant=tenant_a, actor=ADMIN, subject_kind="counterparty", counterparty_number=CLIENT,
        law="gdpr", requested_by="client", requested_on=date(2026, 12, 1),
    )  # fmt: skip
    page = client.get(f"/archive/conversations/{conversation.pk}/")
    assert b'<span class="badge badge-warning">restricted</span>' in page.content


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (request_body(counterparty_number="call me"), "counterparty_number"),
        (request_body(counterparty_number=""), "counterparty_number"),
        (request_body(counterparty_number="+1 234"), "counterparty_number"),
        (request_body(subject_kind="employee"), "employee"),
        (request_body(subject_kind="employee", employee=999_999), "employee"),
        (request_body(subject_kind="martian"), "subject_kind"),
        (request_body(law="ccpa"), "law"),
        (request_body(requested_by=""), "requested_by"),
        (request_body(requested_by="   "), "requested_by"),
        (request_body(requested_on="yesterday"), "requested_on"),
        (request_body(requested_on="2999-01-01"), "requested_on"),
    ],
)
def test_bad_input_is_a_clear_400_that_records_nothing(admin_api, tenant_a, body, field):
    answer = admin_api.post(URL, body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["error"]["details"]
    with tenant_scope(tenant_a):
        assert not ErasureRequest.objects.exists()
    assert trail(tenant_a) == []


def test_roles_and_another_firm(api_client_for, tenant_a, tenant_b):
    ana = logged_archive(tenant_a, count=1)
    create_policy(tenant=tenant_a, actor=ADMIN, preset="finra_4511")
    decided = record_erasure_request(
        tenant=tenant_a, actor=ADMIN, subject_kind="employee", employee_id=ana.pk, law="gdpr",
        requested_by="Ana", requested_on=date(2026, 12, 1),
    )  # fmt: skip
    auditor = api_client_for(tenant_a, Role.AUDITOR)
    assert [r["id"] for r in auditor.get(URL).json()["results"]] == [decided.pk]
    assert auditor.post(URL, request_body(), format="json").status_code == 403
    assert api_client_for(tenant_a, Role.OFFICER).get(URL).status_code == 403
    outsider = api_client_for(tenant_b, Role.ADMIN)
    assert outsider.get(f"{URL}{decided.pk}/").status_code == 404
    assert outsider.get(URL).json()["results"] == []
    # Firm A's employee cannot be named by firm B.
    named = outsider.post(URL, request_body(subject_kind="employee", employee=ana.pk),
                          format="json")  # fmt: skip
    assert named.status_code == 400
    assert all(texts(tenant_a))


def test_the_page_records_a_request_and_shows_the_decision(client, tenant_a, alice, audrey):
    logged_archive(tenant_a, count=1)
    create_policy(tenant=tenant_a, actor=ADMIN, preset="cftc_1_31")
    login(client, alice)
    assert client.get("/archive/erasure/").status_code == 200
    posted = client.post("/archive/erasure/", {**request_body(), "requested_on": "2026-12-01"})
    assert posted.status_code == 302
    page = client.get("/archive/erasure/").content.decode()
    assert "refused · restricted" in page
    assert "CFTC Rule 1.31 requires these records be kept until 2031-03-02" in page
    bad = client.post("/archive/erasure/", request_body(counterparty_number="nope"))
    assert bad.status_code == 400
    assert "with its country code" in bad.content.decode()
    login(client, audrey)
    assert client.get("/archive/erasure/").status_code == 403
