"""Two officers at once, each in their own thread, connection and transaction: one claim wins,
one transition wins, and the loser gets a clear answer; nothing is lost or held twice."""

from __future__ import annotations

import pytest

from alerts.models import Alert, AlertEvent, Status
from alerts.services import ClaimConflict, StaleAlert, claim_alert, transition_alert
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from tests.database import side_by_side

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def officers(tenant_a, oscar, person_factory):
    olga = person_factory("olga@firm-a.example", tenant=tenant_a, role=Role.OFFICER)
    return oscar.user, olga.user


def test_two_officers_claiming_at_once_never_both_hold_it(alert, officers):
    for _ in range(3):  # a race lost by chance once is not proof: race a few times
        wins: list[int] = []

        def claim(user, wins=wins):
            def job(meet):
                meet()
                claim_alert(alert=alert, actor=Actor.for_user(user))
                wins.append(user.pk)

            return job

        errors = side_by_side(*(claim(user) for user in officers))
        assert len(wins) == 1 and len(errors) == 1
        assert isinstance(errors[0], ClaimConflict) and "already working" in str(errors[0])
        with tenant_scope(alert.tenant_id):
            stored = Alert.objects.get(pk=alert.pk)
            assert stored.claimed_by_id == wins[0]
            Alert.objects.filter(pk=alert.pk).update(claimed_by=None, claimed_at=None)


def test_two_transitions_on_the_same_version_one_wins_no_lost_update(alert, officers):
    seen = alert.version
    moves = {
        officers[0].pk: {"to": "escalated"},
        officers[1].pk: {"to": "closed", "disposition": "false_positive", "rationale": "noise"},
    }
    done: list[int] = []

    def move(user):
        def job(meet):
            meet()
            transition_alert(
                alert=alert, actor=Actor.for_user(user), expected_version=seen, **moves[user.pk]
            )
            done.append(user.pk)

        return job

    errors = side_by_side(*(move(user) for user in officers))
    assert len(done) == 1 and len(errors) == 1
    assert isinstance(errors[0], StaleAlert) and "Someone else changed" in str(errors[0])
    with tenant_scope(alert.tenant_id):
        stored = Alert.objects.get(pk=alert.pk)
        events = list(AlertEvent.objects.filter(alert=alert).values_list("actor", "to_status"))
    winner = moves[done[0]]["to"]
    assert stored.status == winner and stored.version == seen + 1
    assert events == [(done[0], winner)]
    assert (stored.status == Status.CLOSED) == (stored.disposition == "false_positive")
