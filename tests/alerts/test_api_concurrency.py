"""Two officers acting through the API at the same moment, each request in its own thread,
connection and transaction: one claim wins and the other is a 409 with the service's sentence;
two transitions made on the same version, one wins, the other is a 409, and nothing is lost."""

from __future__ import annotations

import pytest
from django.test import Client

from alerts.models import Alert, AlertEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from tests.database import side_by_side
from tests.fixtures import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clients(tenant_a, oscar, person_factory):
    olga = person_factory("olga@firm-a.example", tenant=tenant_a, role=Role.OFFICER)
    signed_in = []
    for person in (oscar, olga):
        client = Client()
        login(client, person)
        signed_in.append((person.user.pk, client))
    return signed_in


def _race(clients, url: str, bodies: dict[int, dict]) -> dict[int, object]:
    answers: dict[int, object] = {}

    def job(user_id, client):
        def run(meet):
            meet()
            answers[user_id] = client.post(url, bodies[user_id], content_type="application/json")

        return run

    errors = side_by_side(*(job(user_id, client) for user_id, client in clients))
    assert errors == []
    return answers


def test_two_officers_claiming_at_once_one_gets_a_409(alert, clients):
    answers = _race(clients, f"/api/v1/alerts/{alert.pk}/claim/", {u: {} for u, _ in clients})
    statuses = sorted(answer.status_code for answer in answers.values())
    assert statuses == [200, 409]
    loser = next(a for a in answers.values() if a.status_code == 409)
    assert "already working on this alert" in loser.json()["error"]["message"]
    winner = next(user for user, a in answers.items() if a.status_code == 200)
    with tenant_scope(alert.tenant_id):
        assert Alert.objects.get(pk=alert.pk).claimed_by_id == winner


def test_two_transitions_on_one_version_one_wins_and_nothing_is_lost(alert, clients):
    (first, _), (second, _) = clients
    bodies = {
        first: {"to": "escalated", "expected_version": alert.version},
        second: {
            "to": "closed", "disposition": "false_positive", "rationale": "noise",
            "expected_version": alert.version,
        },
    }  # fmt: skip
    answers = _race(clients, f"/api/v1/alerts/{alert.pk}/transition/", bodies)
    assert sorted(a.status_code for a in answers.values()) == [200, 409]
    loser = next(a for a in answers.values() if a.status_code == 409)
    assert loser.json()["error"]["message"].startswith("Someone else changed this alert")
    winner = next(user for user, a in answers.items() if a.status_code == 200)
    with tenant_scope(alert.tenant_id):
        stored = Alert.objects.get(pk=alert.pk)
        events = list(AlertEvent.objects.filter(alert=alert).values_list("actor", "to_status"))
    assert stored.status == bodies[winner]["to"] and stored.version == alert.version + 1
    assert events == [(winner, bodies[winner]["to"])]
