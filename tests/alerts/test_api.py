"""``/api/v1/alerts/`` as officers, admins, auditors, API keys and an outsider use it: the queue
with its filters and keyset pages, one alert with its context (an audited read), the review's
actions and their refusals (400 for bad input, 409 for conflicts, 403 for the wrong role, 404
for another firm's alert), and bulk changes."""

from __future__ import annotations

import pytest
from django.test import override_settings

from alerts.models import Alert, AlertComment, AlertEvent, Status
from alerts.services import claim_alert
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role

BASE = "/api/v1/alerts/"


def _stored(alert: Alert) -> Alert:
    with tenant_scope(alert.tenant_id):
        return Alert.objects.get(pk=alert.pk)


def _post(client, url: str, body: dict | None = None):
    return client.post(url, body or {}, content_type="application/json")


def test_the_queue_lists_alerts_with_their_message_and_people(alerts, login_as, oscar):
    answer = login_as(oscar).get(BASE)
    assert answer.status_code == 200, answer.content
    rows = answer.json()["results"]
    assert {row["id"] for row in rows} == {a.pk for a in alerts}
    first = next(row for row in rows if row["id"] == alerts[0].pk)
    with tenant_scope(alerts[0].tenant_id):
        wamid = Alert.objects.select_related("message").get(pk=alerts[0].pk).message.wamid
    assert first["message"]["whatsapp_id"] == wamid
    assert first["status"] == "open" and first["severity"] == "high"
    assert first["policy"]["name"] == "Promises of returns"
    assert first["categories"] == ["promise"]
    assert first["employee"]["name"] and "counterparty" in first
    assert answer.json()["next"] is None


def test_the_queue_filters_as_the_page_does_plus_whatsapp_id(alerts, login_as, oscar):
    client = login_as(oscar)
    with tenant_scope(alerts[0].tenant_id):
        wamid = Alert.objects.select_related("message").get(pk=alerts[1].pk).message.wamid
    rows = client.get(BASE, {"whatsapp_id": wamid}).json()["results"]
    assert [row["id"] for row in rows] == [alerts[1].pk]
    assert client.get(BASE, {"severity": "low"}).json()["results"] == []
    assert client.get(BASE, {"assignee": "none", "status": ""}).json()["results"]
    assert client.get(BASE, {"status": "closed"}).json()["results"] == []


@pytest.mark.parametrize(
    "query",
    [
        {"policy": "²"},
        {"policy": "99999999999999999999999"},
        {"severity": "urgent"},
        {"assignee": "somebody"},
        {"older_than_days": "0"},
        {"overdue": "perhaps"},
        {"after": "x'--"},
        {"page_size": "1000"},
        {"category": "a\x00b"},
    ],
)
def test_bad_filters_are_a_400_that_names_the_parameter(alerts, login_as, oscar, query):
    answer = login_as(oscar).get(BASE, query)
    assert answer.status_code == 400, answer.content
    assert set(query) <= set(answer.json()["error"]["details"])


def test_the_queue_pages_by_keyset(alerts, login_as, oscar):
    client = login_as(oscar)
    first = client.get(BASE, {"page_size": "1"}).json()
    assert len(first["results"]) == 1 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    assert {first["results"][0]["id"], second["results"][0]["id"]} == {a.pk for a in alerts}
    assert client.get(BASE, {"after": "999999"}).status_code == 400


def test_the_queue_reads_a_fixed_number_of_queries(
    alerts, login_as, oscar, django_assert_num_queries
):
    client = login_as(oscar)
    client.get(BASE)  # warm the session and membership caches
    # The page's rows, four small prefetches (employee, policy, assignee, holder) and the
    # review's settings and unmaskings: a fixed number, whatever the page's size.
    with django_assert_num_queries(15, exact=False) as first:
        client.get(BASE, {"page_size": "1"})
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(BASE, {"page_size": "2"})


def test_reading_an_alert_shows_its_context_and_is_audited(alert, login_as, audrey):
    answer = login_as(audrey).get(f"{BASE}{alert.pk}/")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["findings"][0]["category"] == "promise"
    assert body["policy_version"]["number"] == 1
    assert "<b>trust me</b>" in body["message"]["text"]  # as stored: JSON, not HTML
    context = body["conversation_context"]
    assert context["before"] == [] and len(context["after"]) == 2
    with tenant_scope(alert.tenant_id):
        read = AuditEvent.objects.filter(action="archive.read").latest("id")
    assert read.details["endpoint"] == f"{BASE}{alert.pk}/"
    assert alert.message_id in read.details["message_ids"]


def test_another_firms_alert_is_not_found_anywhere(alert, login_as, bob):
    client = login_as(bob)
    assert client.get(f"{BASE}{alert.pk}/").status_code == 404
    assert client.get(BASE).json()["results"] == []
    for action in ("claim", "release", "transition", "assign", "comments"):
        answer = _post(client, f"{BASE}{alert.pk}/{action}/", {"to": "escalated", "body": "x"})
        assert answer.status_code == 404, (action, answer.content)
    assert client.get(f"{BASE}{alert.pk}/comments/").status_code == 404
    answer = _post(
        client, f"{BASE}bulk-transition/", {"alerts": [{"id": alert.pk}], "to": "escalated"}
    )
    assert answer.status_code == 200
    assert answer.json()["changed"] == [] and answer.json()["skipped"][0]["id"] == alert.pk
    assert _stored(alert).status == Status.OPEN


def test_an_auditor_reads_but_may_not_act(alert, login_as, audrey):
    client = login_as(audrey)
    assert client.get(f"{BASE}{alert.pk}/comments/").status_code == 200
    for action in ("claim", "release", "transition", "assign", "comments"):
        answer = _post(client, f"{BASE}{alert.pk}/{action}/", {"to": "escalated", "body": "x"})
        assert answer.status_code == 403, (action, answer.content)
    answer = _post(
        client, f"{BASE}bulk-transition/", {"alerts": [{"id": alert.pk}], "to": "escalated"}
    )
    assert answer.status_code == 403
    stored = _stored(alert)
    assert (stored.status, stored.version, stored.claimed_by_id) == (
        Status.OPEN,
        alert.version,
        None,
    )


def test_an_officer_claims_and_closes_an_alert(alert, login_as, oscar):
    client = login_as(oscar)
    claimed = _post(client, f"{BASE}{alert.pk}/claim/")
    assert claimed.status_code == 200, claimed.content
    assert claimed.json()["claimed_by"] == oscar.email and claimed.json()["status"] == "in_review"
    answer = _post(
        client, f"{BASE}{alert.pk}/transition/",
        {"to": "closed", "disposition": "false_positive", "rationale": "A quote.",
         "expected_version": claimed.json()["version"]},
    )  # fmt: skip
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "closed"
    stored = _stored(alert)
    assert (stored.status, stored.disposition, stored.rationale) == (
        Status.CLOSED, "false_positive", "A quote."
    )  # fmt: skip


def test_closing_with_its_group_closes_the_groups_other_open_alerts(alerts, login_as, oscar):
    """The page could close a group in one review; the API could not (issue 12: "grouped so one
    review can close them together")."""
    first, second = alerts
    client = login_as(oscar)
    assert client.get(f"{BASE}{first.pk}/").json()["group"] == [second.pk]
    alone = _post(client, f"{BASE}{first.pk}/transition/", {"to": "in_review", "with_group": True})
    assert alone.json()["group_closed"] == [] and _stored(second).status == Status.OPEN
    answer = _post(
        client, f"{BASE}{first.pk}/transition/",
        {"to": "closed", "disposition": "false_positive", "rationale": "Banter",
         "with_group": True},
    )  # fmt: skip
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "closed" and answer.json()["group_closed"] == [second.pk]
    stored = _stored(second)
    assert (stored.status, stored.disposition, stored.rationale) == (
        Status.CLOSED, "false_positive", "Banter"
    )  # fmt: skip


def test_closing_without_a_rationale_is_a_400_with_the_reason(alert, login_as, oscar):
    answer = _post(
        login_as(oscar), f"{BASE}{alert.pk}/transition/",
        {"to": "closed", "disposition": "false_positive", "rationale": "  "},
    )  # fmt: skip
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "Closing an alert needs a rationale."
    assert _stored(alert).status == Status.OPEN


@pytest.mark.parametrize(
    "body",
    [
        {"to": "archived"},
        {"to": "closed", "disposition": "maybe", "rationale": "x"},
        {"to": 5},
        {"to": "escalated", "expected_version": "²"},
        {"to": "escalated", "rationale": "\ud800"},
        {"to": "escalated", "rationale": 7},
        {},
    ],
)
def test_bad_transition_input_is_a_400_and_changes_nothing(alert, login_as, oscar, body):
    answer = _post(login_as(oscar), f"{BASE}{alert.pk}/transition/", body)
    assert answer.status_code == 400, answer.content
    assert _stored(alert).version == alert.version


def test_a_stale_version_is_a_409_with_the_services_sentence(alert, login_as, oscar):
    answer = _post(
        login_as(oscar), f"{BASE}{alert.pk}/transition/",
        {"to": "escalated", "expected_version": alert.version + 5},
    )  # fmt: skip
    assert answer.status_code == 409
    assert answer.json()["error"]["message"].startswith("Someone else changed this alert")
    assert _stored(alert).status == Status.OPEN


def test_an_alert_another_officer_holds_is_a_409(alert, login_as, oscar, alice):
    claim_alert(alert=alert, actor=Actor.for_user(alice.user))
    client = login_as(oscar)
    answer = _post(client, f"{BASE}{alert.pk}/claim/")
    assert answer.status_code == 409
    assert "already working" in answer.json()["error"]["message"]
    answer = _post(client, f"{BASE}{alert.pk}/transition/", {"to": "escalated"})
    assert answer.status_code == 409 and alice.email in answer.json()["error"]["message"]
    assert _stored(alert).claimed_by_id == alice.user.pk


def test_an_api_key_may_assign_and_comment_but_not_claim(alert, api_client_for, tenant_a, oscar):
    client = api_client_for(tenant_a, Role.OFFICER)
    answer = client.post(f"{BASE}{alert.pk}/claim/", format="json")
    refusal = answer.json()["error"]["message"]
    assert answer.status_code == 403 and "this key acts for nobody" in refusal
    assert "create_api_key SLUG --role ROLE --for EMAIL" in refusal  # how to get a personal key
    answer = client.post(f"{BASE}{alert.pk}/assign/", {"assignee": oscar.user.pk}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["assignee"] == oscar.email
    answer = client.post(f"{BASE}{alert.pk}/comments/", {"body": "Looked at it."}, format="json")
    assert answer.status_code == 201


def test_assigning_to_another_firms_user_or_an_auditor_is_refused(
    alert, login_as, oscar, bob, audrey
):
    client = login_as(oscar)
    for someone in (bob.user.pk, audrey.user.pk, 999999999):
        answer = _post(client, f"{BASE}{alert.pk}/assign/", {"assignee": someone})
        assert answer.status_code == 400
        assert "only to this firm's compliance officers" in answer.json()["error"]["message"]
    assert _stored(alert).assignee_id is None


def test_a_comment_with_a_script_is_stored_as_typed_and_escaped_on_the_page(alert, login_as, oscar):
    client = login_as(oscar)
    text = "<script>alert('x')</script> @alice@firm-a.example"
    answer = _post(client, f"{BASE}{alert.pk}/comments/", {"body": text})
    assert answer.status_code == 201, answer.content
    assert answer.json()["body"] == text
    assert client.get(f"{BASE}{alert.pk}/comments/").json()[0]["body"] == text
    with tenant_scope(alert.tenant_id):
        assert AlertComment.objects.get(alert=alert).body == text
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "<script>alert('x')</script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert _post(client, f"{BASE}{alert.pk}/comments/", {"body": " "}).status_code == 400


# --- bulk --------------------------------------------------------------------------------------


def test_bulk_close_moves_each_alert_and_reports_the_skipped(alerts, login_as, oscar, alice):
    first, second = alerts
    claim_alert(alert=second, actor=Actor.for_user(alice.user))
    answer = _post(
        login_as(oscar), f"{BASE}bulk-transition/",
        {"alerts": [{"id": first.pk, "expected_version": first.version}, {"id": second.pk}],
         "to": "closed", "disposition": "false_positive", "rationale": "Training quotes."},
    )  # fmt: skip
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["changed"] == [first.pk]
    assert body["skipped"] == [
        {"id": second.pk, "reason": f"{alice.email} is working on this alert; ask them to "
         "release it first."}
    ]  # fmt: skip
    assert _stored(first).status == Status.CLOSED and _stored(second).status == Status.IN_REVIEW
    with tenant_scope(first.tenant_id):
        bulk = AuditEvent.objects.get(action="alert.bulk_transitioned")
        assert AuditEvent.objects.filter(action="alert.closed").count() == 1
        assert AlertEvent.objects.filter(alert=first, to_status="closed").count() == 1
    assert (
        bulk.details["changed"] == [first.pk] and bulk.details["skipped"][0]["alert"] == second.pk
    )


def test_bulk_with_a_stale_version_skips_that_alert(alerts, login_as, oscar):
    first, second = alerts
    answer = _post(
        login_as(oscar), f"{BASE}bulk-transition/",
        {"alerts": [{"id": first.pk, "expected_version": first.version + 1},
                    {"id": second.pk, "expected_version": second.version}],
         "to": "escalated"},
    )  # fmt: skip
    assert answer.json()["changed"] == [second.pk]
    assert "Someone else changed" in answer.json()["skipped"][0]["reason"]
    assert _stored(first).status == Status.OPEN


@override_settings(ALERTS_BULK_MAX=3)
def test_a_huge_bulk_selection_is_a_clear_400_and_changes_nothing(alerts, login_as, oscar):
    client = login_as(oscar)
    chosen = [
        {"id": alerts[0].pk},
        {"id": alerts[1].pk},
        *({"id": n} for n in range(10**6, 10**6 + 2)),
    ]
    answer = _post(client, f"{BASE}bulk-transition/", {"alerts": chosen, "to": "escalated"})
    assert answer.status_code == 400
    assert "At most 3 alerts can be changed at once; you chose 4." in str(answer.json())
    assert [_stored(a).status for a in alerts] == [Status.OPEN, Status.OPEN]
    with tenant_scope(alerts[0].tenant_id):
        assert not AuditEvent.objects.filter(action="alert.bulk_transitioned").exists()


def test_a_very_long_selection_is_refused_before_it_is_read(alerts, login_as, oscar):
    chosen = [{"id": n} for n in range(1, 20001)]
    answer = _post(
        login_as(oscar), f"{BASE}bulk-transition/", {"alerts": chosen, "to": "escalated"}
    )
    assert answer.status_code == 400
    assert "At most 500 alerts" in str(answer.json())


@pytest.mark.parametrize(
    "body",
    [
        {"alerts": [], "to": "escalated"},
        {"alerts": "all", "to": "escalated"},
        {"alerts": [{"id": 1}, {"id": 1}], "to": "escalated"},
        {"alerts": [{"id": "²"}], "to": "escalated"},
        {"alerts": [{"id": 1}], "to": "closed", "disposition": "false_positive"},
        {"alerts": [{"id": 1}], "to": "escalated", "disposition": "false_positive"},
    ],
)
def test_bad_bulk_input_is_a_400(alerts, login_as, oscar, body):
    answer = _post(login_as(oscar), f"{BASE}bulk-transition/", body)
    assert answer.status_code == 400, answer.content
    assert [_stored(a).version for a in alerts] == [a.version for a in alerts]
