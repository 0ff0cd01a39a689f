"""The consent gate against the database: history at any past moment, re-consent deadlines,
offboarding, tenant isolation, and cache invalidation through Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from consent import gate
from consent import services as consent
from consent.timeline import Reason
from tests.fixtures import ANA_PHONE_ID
from tests.polling import wait_until

PHONE_ID = ANA_PHONE_ID


@pytest.fixture
def commit_callbacks(django_capture_on_commit_callbacks):
    """Run the on-commit work (gate invalidation, mails) as a committed request would."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def decide(tenant, at=None):
    return gate.decide(tenant_id=tenant.pk, phone_number_id=PHONE_ID, at=at or timezone.now())


def test_no_consent_means_no_capture(tenant_a, ana):
    decision = decide(tenant_a)
    assert (decision.capture, decision.reason, decision.employee_id) == (
        False,
        Reason.NO_CONSENT,
        ana.pk,
    )


def test_consent_then_withdrawal_is_right_for_past_and_present(tenant_a, ana, commit_callbacks):
    signed = ana.created_at + timedelta(milliseconds=1)
    commit_callbacks(
        consent.record_consent,
        employee=ana,
        actor=Actor.system(),
        evidence_reference="signed form, HR folder 12",
        occurred_at=signed,
    )
    assert decide(tenant_a).capture is True
    withdrawn = commit_callbacks(
        consent.withdraw_consent, employee=ana, reason="changed my mind", actor=Actor.system()
    )
    now = decide(tenant_a)
    assert (now.capture, now.reason) == (False, Reason.CONSENT_WITHDRAWN)
    assert decide(tenant_a, signed + timedelta(microseconds=1)).capture is True
    assert decide(tenant_a, ana.created_at).reason == Reason.NO_CONSENT
    assert decide(tenant_a, withdrawn.occurred_at).capture is False


def test_the_cache_answers_until_a_change_and_the_change_is_seen_at_once(
    tenant_a, ana, commit_callbacks, django_assert_num_queries
):
    commit_callbacks(
        consent.record_consent, employee=ana, actor=Actor.system(), evidence_reference="x"
    )
    assert decide(tenant_a).capture is True  # loads the history
    with django_assert_num_queries(0):
        for _ in range(100):
            assert decide(tenant_a).capture is True
    commit_callbacks(consent.withdraw_consent, employee=ana, actor=Actor.system())
    assert decide(tenant_a).capture is False


def test_an_invalidation_published_by_another_process_drops_the_cache(
    tenant_a, ana, commit_callbacks
):
    commit_callbacks(
        consent.record_consent, employee=ana, actor=Actor.system(), evidence_reference="x"
    )
    decide(tenant_a)
    assert gate._cache.get(tenant_a.pk, PHONE_ID) is not None
    redis.Redis.from_url(settings.REDIS_URL).publish(gate.CHANNEL, str(tenant_a.pk))
    wait_until(
        lambda: gate._cache.get(tenant_a.pk, PHONE_ID) is None,
        failure="the published invalidation did not drop the cache",
        timeout=5,
        interval=0.01,
    )


def test_offboarding_stops_capture_and_keeps_the_past(tenant_a, ana, commit_callbacks):
    granted = ana.created_at + timedelta(milliseconds=1)
    commit_callbacks(
        consent.record_consent,
        employee=ana,
        actor=Actor.system(),
        evidence_reference="x",
        occurred_at=granted,
    )
    commit_callbacks(
        consent.deactivate_employee, employee=ana, reason="left the firm", actor=Actor.system()
    )
    assert decide(tenant_a).reason == Reason.EMPLOYEE_INACTIVE
    assert decide(tenant_a, granted + timedelta(microseconds=1)).capture is True


def test_a_released_number_can_go_to_a_new_employee(tenant_a, ana, commit_callbacks):
    commit_callbacks(
        consent.record_consent, employee=ana, actor=Actor.system(), evidence_reference="x"
    )
    while_ana_held_it = timezone.now()
    commit_callbacks(consent.deactivate_employee, employee=ana, actor=Actor.system())
    bruno = commit_callbacks(
        consent.create_employee,
        tenant=tenant_a,
        data=consent.EmployeeData(
            full_name="Bruno Lima",
            email="bruno@firm-a.example",
            employee_id="A-2",
            phone_number="+55 11 98765-4321",
            region="BR",
            whatsapp_phone_number_id=PHONE_ID,
        ),
        actor=Actor.system(),
    )
    later = decide(tenant_a)
    assert (later.employee_id, later.reason) == (bruno.pk, Reason.NO_CONSENT)
    earlier = decide(tenant_a, while_ana_held_it)
    assert (earlier.employee_id, earlier.capture) == (ana.pk, True)


def test_another_tenants_number_is_unknown_here(tenant_a, tenant_b, ana, commit_callbacks):
    commit_callbacks(
        consent.record_consent, employee=ana, actor=Actor.system(), evidence_reference="x"
    )
    assert decide(tenant_b).reason == Reason.UNKNOWN_NUMBER
    assert decide(tenant_a).capture is True


def test_a_reconsent_deadline_ends_old_consents_after_it(tenant_a, ana, commit_callbacks):
    commit_callbacks(
        consent.record_consent, employee=ana, actor=Actor.system(), evidence_reference="v1"
    )
    v1 = consent.current_notice(tenant=tenant_a)
    draft = consent.create_notice_draft(tenant=tenant_a, texts=v1.texts, actor=Actor.system())
    deadline = timezone.now() + timedelta(days=30)
    v2 = commit_callbacks(
        consent.publish_notice, notice=draft, reconsent_deadline=deadline, actor=Actor.system()
    )
    assert v2.version == v1.version + 1
    assert decide(tenant_a).capture is True, "until the deadline the old consent stands"
    after = deadline + timedelta(seconds=1)
    assert decide(tenant_a, after).reason == Reason.RECONSENT_OVERDUE
    commit_callbacks(
        consent.record_consent, employee=ana, actor=Actor.system(), evidence_reference="v2"
    )
    assert decide(tenant_a, after).capture is True


class _Boom(Exception):
    pass


# Tenant ids of no tenant: the invalidations below need no rows, only transactions.
FIRM, OTHER_FIRM = 9_000_001, 9_000_002


@pytest.fixture
def published():
    """The tenant ids published on the gate's channel so far, in order, read from Redis."""
    subscriber = redis.Redis.from_url(settings.REDIS_URL).pubsub()
    subscriber.subscribe(gate.CHANNEL)
    assert subscriber.get_message(timeout=5)["type"] == "subscribe"
    end = "0"  # no tenant has id 0; the gate's own listener drops nothing for it

    def read() -> list[int]:
        redis.Redis.from_url(settings.REDIS_URL).publish(gate.CHANNEL, end)
        seen = []
        while (message := subscriber.get_message(timeout=5)) is not None:
            if message["data"].decode() == end:
                return seen
            seen.append(int(message["data"]))
        raise AssertionError("the end marker never came back")

    yield read
    subscriber.close()


@pytest.mark.django_db(transaction=True)
def test_many_changes_in_one_transaction_publish_once_per_tenant(published):
    with transaction.atomic():
        for _ in range(3):
            gate.invalidate(FIRM)
        with transaction.atomic():  # a savepoint that commits with its transaction
            gate.invalidate(FIRM)
            gate.invalidate(OTHER_FIRM)
        gate.invalidate(OTHER_FIRM)
    assert sorted(published()) == [FIRM, OTHER_FIRM]
    with transaction.atomic():
        gate.invalidate(FIRM)
    gate.invalidate(FIRM)  # outside a transaction: at once
    assert published() == [FIRM, FIRM], "each later commit publishes again"


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_publishes_nothing_and_leaves_nothing_behind(published):
    with pytest.raises(_Boom), transaction.atomic():
        gate.invalidate(FIRM)
        raise _Boom
    assert published() == []
    with transaction.atomic():
        gate.invalidate(FIRM)
    assert published() == [FIRM], "the rolled-back change did not swallow the next one"


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_drops_only_its_own_changes(published):
    with transaction.atomic(), pytest.raises(_Boom), transaction.atomic():
        gate.invalidate(FIRM)
        raise _Boom
    assert published() == []
    with transaction.atomic():
        with pytest.raises(_Boom), transaction.atomic():
            gate.invalidate(FIRM)
            raise _Boom
        gate.invalidate(FIRM)  # after the rollback, in the same transaction: still published
    assert published() == [FIRM]
    with transaction.atomic():
        gate.invalidate(FIRM)  # before the savepoint: survives its rollback
        with pytest.raises(_Boom), transaction.atomic():
            gate.invalidate(FIRM)
            raise _Boom
    assert published() == [FIRM]
