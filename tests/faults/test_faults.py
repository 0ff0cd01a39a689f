"""Faults on the real stack (tests/faults/harness.py): a worker killed in the middle of a batch,
Redis gone for 30 s, PostgreSQL stopped, gunicorn restarted, each while signed webhooks keep
arriving. After each: every acknowledged delivery archived exactly once and scanned, nothing
lost, nothing stored or logged twice; each prints its figure line. At the end the firm's archive
still verifies against its signed Merkle log.

The tests share one stack and run in order in one process (xdist_group)."""

from __future__ import annotations

import signal
import time

import pytest

from tests.faults.harness import FaultStack, Ledger, Sender, stack, wait_for

pytestmark = pytest.mark.xdist_group("faults")


@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    rig = FaultStack(tmp_path_factory.mktemp("faults"))
    try:
        rig.up()
        yield rig
    finally:
        rig.down()


def settle(rig: FaultStack, sender: Sender, *, timeout: float = 300) -> Ledger:
    """Wait until the sender is done and everything it got acknowledged is archived and
    scanned (the sweepers included), then read the ledger."""
    sender.join(timeout)

    def settled():
        ledger = rig.ledger(sender)
        done = ledger.archived == ledger.acknowledged and ledger.scanned == ledger.archived
        return ledger if done else None

    try:
        return wait_for(settled, timeout=timeout, what="the backlog to be archived and scanned")
    except AssertionError:
        raise AssertionError(
            f"{rig.ledger(sender)}\n--- worker\n{rig.worker.tail()}\n--- web\n{rig.web.tail()}"
        ) from None


def report(capsys, ledger: Ledger, fault: str) -> None:
    with capsys.disabled():
        print("\n" + ledger.line(fault))


def assert_whole(ledger: Ledger) -> None:
    assert ledger.lost == 0 and ledger.duplicates == 0, ledger
    assert ledger.acknowledged == ledger.sent == ledger.archived == ledger.scanned, ledger


def test_a_worker_killed_in_the_middle_of_a_batch_loses_and_repeats_nothing(faults, capsys):
    sender = Sender(faults, "kill-worker", count=400, rate=80).start()
    wait_for(lambda: rig_archived(faults, sender) >= 20, timeout=120,
             what="the worker to start archiving")  # fmt: skip
    [(waiting,)] = faults.sql("SELECT count(*) FROM ingestion_delivery WHERE status <> 'processed'")
    faults.worker.kill(signal.SIGKILL)
    time.sleep(2)
    faults.worker.start()
    ledger = settle(faults, sender)
    report(capsys, ledger, f"kill -9 the Celery worker mid-batch ({waiting} deliveries waiting)")
    assert int(str(waiting)) > 0, "the worker was idle when killed: nothing was in flight"
    assert_whole(ledger)


def test_redis_gone_for_30_seconds_webhooks_still_answer_200_and_the_sweeper_catches_up(
    faults, capsys
):
    sender = Sender(faults, "redis-down", count=250, rate=5).start()
    time.sleep(8)
    stack("stop-redis")
    outage_started = time.monotonic()
    time.sleep(30)
    stack("start")
    outage_ended = time.monotonic()
    ledger = settle(faults, sender)
    during = [status for at, status in sender.answers() if outage_started < at < outage_ended]
    report(capsys, ledger, f"Redis stopped for 30 s ({len(during)} answered meanwhile)")
    assert during, "no webhook arrived while Redis was down"
    assert set(during) == {200}, f"answers while Redis was down: {sorted(set(during))}"
    assert_whole(ledger)


def test_postgresql_stopped_webhooks_answer_5xx_never_200_and_retries_are_archived_once(
    faults, capsys
):
    sender = Sender(faults, "postgres-down", count=200, rate=5).start()
    time.sleep(8)
    stack("stop-postgres")
    outage_started = time.monotonic()
    time.sleep(15)
    outage_ended = time.monotonic()
    stack("start")
    ledger = settle(faults, sender)
    # An answer that ended while PostgreSQL was down was never a 200 (Meta then retries).
    during = [status for at, status in sender.answers() if outage_started + 1 < at < outage_ended]
    report(capsys, ledger, f"PostgreSQL stopped for 15 s ({len(during)} answered 5xx meanwhile)")
    assert during, "no webhook was answered while PostgreSQL was down"
    assert 200 not in during and all(status >= 500 for status in during), sorted(set(during))
    assert_whole(ledger)


def test_gunicorn_restarted_under_load_loses_no_acknowledged_delivery(faults, capsys):
    sender = Sender(faults, "restart-web", count=400, rate=20).start()
    time.sleep(5)
    faults.web.stop()  # TERM: gunicorn finishes the requests it has, then exits
    faults.web.start()
    faults.wait_web()
    ledger = settle(faults, sender)
    report(capsys, ledger, "gunicorn restarted under load")
    assert_whole(ledger)


def test_after_every_fault_the_archive_still_verifies_against_its_log(faults):
    faults.manage("checkpoint_log", "demo", "--force")
    out = faults.manage("verify_archive", "demo")
    assert "OK" in out or "verified" in out.lower(), out


def rig_archived(rig: FaultStack, sender: Sender) -> int:
    [(count,)] = rig.sql(
        "SELECT count(*) FROM archive_message WHERE wamid LIKE %s", (sender.prefix + "%",)
    )
    return int(str(count))
