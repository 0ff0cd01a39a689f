"""The gate's decision as a pure function of a number's history (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consent.timeline import ConsentChange, Deadline, Holding, NumberHistory, Reason, decide

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def history(holdings, changes=None, deadlines=None) -> NumberHistory:
    return NumberHistory(holdings=holdings, changes=changes or {}, deadlines=deadlines or [])


ANA = 1
BRUNO = 2


def test_unknown_number_is_refused():
    assert decide(history([]), day(1)).reason == Reason.UNKNOWN_NUMBER


def test_before_any_consent_there_is_no_capture_and_after_the_grant_there_is():
    h = history(
        [Holding(ANA, day(0), None, None)],
        {ANA: [ConsentChange(day(10), "granted", 1)]},
    )
    assert decide(h, day(5)) == decide(h, day(9.999))
    assert decide(h, day(5)).reason == Reason.NO_CONSENT
    assert decide(h, day(10)).capture is True
    assert decide(h, day(400)).capture is True


def test_a_withdrawal_stops_capture_from_that_moment_and_the_past_stays_covered():
    h = history(
        [Holding(ANA, day(0), None, None)],
        {ANA: [ConsentChange(day(1), "granted", 1), ConsentChange(day(20), "withdrawn", None)]},
    )
    assert decide(h, day(19)).capture is True
    assert decide(h, day(20)).reason == Reason.CONSENT_WITHDRAWN
    assert decide(h, day(21)).capture is False


def test_a_decline_never_covers():
    h = history([Holding(ANA, day(0), None, None)], {ANA: [ConsentChange(day(1), "declined", 1)]})
    assert decide(h, day(2)).reason == Reason.NO_CONSENT


def test_reconsent_deadline_ends_old_consents_only_after_the_deadline():
    h = history(
        [Holding(ANA, day(0), None, None)],
        {ANA: [ConsentChange(day(1), "granted", 1)]},
        [Deadline(day(30), 2)],
    )
    assert decide(h, day(29)).capture is True  # until the deadline the old consent stands
    assert decide(h, day(30)).reason == Reason.RECONSENT_OVERDUE
    assert decide(h, day(29)).capture is True, "the past does not change"


def test_reconsenting_before_or_after_the_deadline_restores_capture():
    h = history(
        [Holding(ANA, day(0), None, None)],
        {ANA: [ConsentChange(day(1), "granted", 1), ConsentChange(day(35), "granted", 2)]},
        [Deadline(day(30), 2)],
    )
    assert decide(h, day(31)).reason == Reason.RECONSENT_OVERDUE
    assert decide(h, day(35)).capture is True


def test_a_later_version_without_deadline_does_not_disturb_older_consents():
    h = history(
        [Holding(ANA, day(0), None, None)],
        {ANA: [ConsentChange(day(1), "granted", 1)]},
        [Deadline(day(30), 2), Deadline(day(60), 2)],
    )
    assert decide(h, day(20)).capture is True


def test_expired_event_reads_as_reconsent_overdue():
    h = history(
        [Holding(ANA, day(0), None, None)],
        {ANA: [ConsentChange(day(1), "granted", 1), ConsentChange(day(31), "expired", None)]},
    )
    assert decide(h, day(32)).reason == Reason.RECONSENT_OVERDUE


def test_a_number_passed_from_one_employee_to_another_is_judged_by_its_holder_then():
    h = history(
        [
            Holding(ANA, day(0), day(50), day(50)),  # Ana left on day 50
            Holding(BRUNO, day(60), None, None),
        ],
        {ANA: [ConsentChange(day(1), "granted", 1)], BRUNO: [ConsentChange(day(70), "granted", 1)]},
    )
    assert decide(h, day(10)).employee_id == ANA and decide(h, day(10)).capture
    assert decide(h, day(55)).reason == Reason.EMPLOYEE_INACTIVE
    assert (
        decide(h, day(65)).reason == Reason.NO_CONSENT and decide(h, day(65)).employee_id == BRUNO
    )
    assert decide(h, day(75)).capture and decide(h, day(75)).employee_id == BRUNO


def test_a_number_released_by_a_change_of_number_is_unknown_afterwards():
    h = history(
        [Holding(ANA, day(0), day(10), None)],
        {ANA: [ConsentChange(day(1), "granted", 1)]},
    )
    assert decide(h, day(5)).capture
    assert decide(h, day(11)).reason == Reason.UNKNOWN_NUMBER


@pytest.mark.parametrize("offset", [-1e-6, 0.0])
def test_the_exact_moment_of_a_change_belongs_to_the_new_state(offset):
    h = history(
        [Holding(ANA, day(0), None, None)],
        {ANA: [ConsentChange(day(1), "granted", 1), ConsentChange(day(2), "withdrawn", None)]},
    )
    moment = day(2) + timedelta(seconds=offset)
    assert decide(h, moment).capture is (offset < 0)
