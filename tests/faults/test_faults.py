"""Faults on the real stack (tests/faults/harness.py): a worker killed in the middle of a batch,
Redis gone for 30 s, PostgreSQL stopped, the intake's server restarted (granian, as production
runs it; then gunicorn, as `make run` serves the demo's webhooks), each while signed webhooks keep
arriving. After each: every acknowledged delivery archived exactly once and scanned, nothing
lost, nothing stored or logged twice; each prints its figure line. At the end the firm's archive
still verifies against its signed Merkle log.

One test runs the drills in order on one stack: the stack is a single set of ports and data, so
two pytest processes must never start it at once (a module of several tests can be split
between xdist's workers, and each would start and stop the same servers)."""

from __future__ import annotations

import signal
import time

import pytest

from tests.faults.harness import FaultStack, Ledger, Sender, stack, wait_for


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


def drill_kill_the_worker(faults, capsys):
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


def drill_redis_stopped_with_tasks_in_hand(faults, capsys):
    """Redis stopped while the worker holds messages it has not acknowledged (a backlog keeps
    its prefetch full): the worker must reconnect, not exit (Celery 5.7 exits here unless
    compliance_hub/celery_consumer.py is its consumer), and work through a new backlog after
    Redis came back (this stack's Redis keeps nothing across a restart)."""

    def queue_heartbeats(count: int) -> None:
        faults.manage("shell", "-c", "from compliance_hub.tasks import heartbeat_task\n"
                      f"for _ in range({count}): heartbeat_task.delay()")  # fmt: skip

    def worker_alive() -> bool:
        return faults.worker.process is not None and faults.worker.process.poll() is None

    queue_heartbeats(3000)
    waiting = faults.redis_queue_length("default")
    stack("stop-redis")
    time.sleep(5)
    stack("start")
    queue_heartbeats(300)
    wait_for(lambda: faults.redis_queue_length("default") == 0 or not worker_alive(),
             timeout=300, what="the new backlog to be finished after Redis came back")  # fmt: skip
    alive = worker_alive()
    with capsys.disabled():
        print(
            f"\nfault: Redis stopped with {waiting} tasks queued and some in hand: "
            f"worker alive {alive}"
        )
    assert waiting > 0, "the worker had finished the backlog before Redis stopped"
    assert alive, f"the worker exited when Redis went away:\n{faults.worker.tail(80)}"
    assert faults.redis_queue_length("default") == 0


def drill_redis_gone_for_30_seconds(faults, capsys):
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


def drill_postgresql_stopped(faults, capsys):
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


def drill_restart_the_server(faults, capsys, server):
    faults.use_server(server)
    sender = Sender(faults, f"restart-{server.name}", count=400, rate=20).start()
    time.sleep(5)
    server.stop()  # TERM: the server finishes the requests it has, then exits
    server.start()
    faults.wait_web()
    ledger = settle(faults, sender)
    report(capsys, ledger, f"{server.name} restarted under load")
    assert_whole(ledger)


def drill_verify_the_archive(faults):
    faults.manage("checkpoint_log", "demo", "--force")
    out = faults.manage("verify_archive", "demo")
    assert "OK" in out or "verified" in out.lower(), out


def rig_archived(rig: FaultStack, sender: Sender) -> int:
    [(count,)] = rig.sql(
        "SELECT count(*) FROM archive_message WHERE wamid LIKE %s", (sender.prefix + "%",)
    )
    return int(str(count))


def test_each_fault_loses_nothing_and_stores_nothing_twice(faults, capsys):
    """A worker killed mid-batch; Redis stopped under a worker's backlog (it reconnects); Redis
    gone 30 s (webhooks still 200); PostgreSQL stopped
    (5xx, never 200); granian and gunicorn each restarted under load; then the archive still
    verifies."""
    drill_kill_the_worker(faults, capsys)
    drill_redis_stopped_with_tasks_in_hand(faults, capsys)
    drill_redis_gone_for_30_seconds(faults, capsys)
    drill_postgresql_stopped(faults, capsys)
    drill_restart_the_server(faults, capsys, faults.intake)
    drill_restart_the_server(faults, capsys, faults.gunicorn)
    drill_verify_the_archive(faults)
