"""The whole product on a stack of its own, to break on purpose: PostgreSQL and Redis of the
`faults` instance (scripts/stack.sh), the webhook intake's server (granian, as production's
intake runs it; gunicorn, as `make run` serves webhooks, for its own drill), a Celery worker and
beat, and a sender that
posts signed webhooks the way Meta does (retrying anything but a 200) and remembers which were
acknowledged. Then the ledger: what was sent, acknowledged, archived, stored twice, lost.

Nothing here is faked: the processes are the ones production and `make run` start, with the
demo tenant (seed_demo) as the firm, and the faults are real (kill -9, servers stopped)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from ingestion.demo import DEMO_APP_SECRET, DISPLAY
from ingestion.serve import intake_command
from ingestion.simulation import shapes
from ingestion.whatsapp.signature import sign

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "scripts" / "stack.sh"
VENV_BIN = Path(sys.executable).parent
ANA = "105550000001"  # the demo's consenting employee (consent/demo.py)
CLIENT = ("5511912345678", "Carlos Silva")
OUTSIDE_VARS = ("DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL", "REDIS_CACHE_URL",
                "DATABASE_NAME", "DB_SET_ROLE", "PYTEST_XDIST_WORKER")  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stack(command: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in OUTSIDE_VARS}
    done = subprocess.run(["bash", str(STACK), command, "faults"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=180)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"stack.sh {command} faults failed:\n{done.stdout}\n{done.stderr}")


@dataclass
class Process:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                self.argv, env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=60)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class FaultStack:
    """Start with ``up()``; ``down()`` stops every process it started and both servers."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.port = _free_port()
        self.env: dict[str, str] = {}
        self.web: Process | None = None  # the server on the port now
        self.intake: Process | None = None
        self.gunicorn: Process | None = None
        self.worker: Process | None = None
        self.beat: Process | None = None
        self.tenant_id = 0

    # --- set-up
    def up(self) -> None:
        stack("start")
        pairs = (line.split("=", 1) for line in (REPO / ".stack/faults/env").read_text().split())
        base = {k: v for k, v in os.environ.items() if k not in OUTSIDE_VARS}
        self.env = {**base, **dict(pairs), "DJANGO_SETTINGS_MODULE": "compliance_hub.settings",
                    "DJANGO_ENV": "local", "DJANGO_DEBUG": "0", "LOG_LEVEL": "WARNING",
                    "PYTHONPATH": str(REPO),
                    # This stack's checkpoint anchors and media, not `make run`'s.
                    "LEDGER_ANCHOR_DIR": str(self.logs / "anchors"),
                    "MEDIA_ROOT": str(self.logs / "media")}  # fmt: skip
        redis_base = self.env["REDIS_URL"].rsplit("/", 1)[0]
        self.env["REDIS_CACHE_URL"] = f"{redis_base}/1"
        self.manage("migrate", "--noinput")
        self.manage("seed_demo")
        [(tenant_id,)] = self.sql("SELECT id FROM compliance_hub_tenant WHERE slug = 'demo'")
        self.tenant_id = int(str(tenant_id))
        python = str(VENV_BIN / "python")
        self.web = Process(
            "granian",
            intake_command(port=self.port, python=python),
            self.env,
            self.logs / "granian.log",
        )
        # make run's one server, which takes the demo's webhooks: started in place of the intake
        # for its own restart drill (use_server).
        self.gunicorn = Process("gunicorn", [
            str(VENV_BIN / "gunicorn"), "ingestion.wsgi", "--bind", f"127.0.0.1:{self.port}",
            "--workers", "2", "--worker-class", "gthread", "--threads", "4",
            "--graceful-timeout", "20", "--keep-alive", "5",
        ], self.env, self.logs / "gunicorn.log")  # fmt: skip
        self.intake = self.web
        self.worker = Process("worker", [
            python, "-m", "celery", "-A", "compliance_hub", "worker", "-l", "info",
            "-Q", "default,ingestion,scoring,exports", "-c", "2", "--without-gossip",
            "--without-mingle",
        ], self.env, self.logs / "worker.log")  # fmt: skip
        self.beat = Process("beat", [
            python, "-m", "celery", "-A", "compliance_hub", "beat", "-l", "info",
            "--schedule", str(self.logs / "celerybeat-schedule"),
        ], self.env, self.logs / "beat.log")  # fmt: skip
        for process in (self.web, self.worker, self.beat):
            process.start()
        self.wait_web()

    def down(self) -> None:
        for process in (self.beat, self.worker, self.web, self.gunicorn, self.intake):
            if process is not None:
                process.stop()
        stack("stop")

    def manage(self, *args: str) -> str:
        done = subprocess.run([str(VENV_BIN / "python"), "manage.py", *args], env=self.env,
                              cwd=REPO, capture_output=True, text=True, timeout=600)  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def use_server(self, server: Process) -> None:
        """Serve the port with ``server`` (the intake's granian or make run's gunicorn) from now
        on: the one in place stops (TERM, its requests finished), the other starts."""
        if server is self.web:
            return
        if self.web is not None:
            self.web.stop()
        self.web = server
        server.start()
        self.wait_web()

    def wait_web(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(
            f"the web server did not come up:\n{self.web.tail() if self.web else ''}"
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- reading the database as the owner, inside the demo tenant's rows
    def sql(self, query: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        connection = psycopg2.connect(self.env["DATABASE_OWNER_URL"], connect_timeout=5)
        try:
            with connection, connection.cursor() as cursor:
                if self.tenant_id:
                    cursor.execute("SELECT set_config('app.tenant_id', %s, false)",
                                   (str(self.tenant_id),))  # fmt: skip
                cursor.execute(query, params)
                return list(cursor.fetchall())
        finally:
            connection.close()

    def redis_queue_length(self, queue: str) -> int:
        """Messages waiting in one of the broker's queues (Celery's Redis transport keeps each
        queue as a list named after it); -1 while Redis does not answer."""
        import redis

        try:
            client = redis.Redis.from_url(self.env["REDIS_URL"], socket_timeout=5)
            try:
                return int(client.llen(queue))
            finally:
                client.close()
        except redis.RedisError:
            return -1

    def ledger(self, sender: Sender) -> Ledger:
        prefix = sender.prefix + "%"
        [(rows, distinct)] = self.sql(
            "SELECT count(*), count(DISTINCT wamid) FROM archive_message WHERE wamid LIKE %s",
            (prefix,),
        )
        [(logged_twice,)] = self.sql(
            """SELECT count(*) FROM (
                 SELECT record_id FROM (
                   SELECT record_id FROM archive_logleaf WHERE record_table = 'archive_message'
                   UNION ALL
                   SELECT record_id FROM archive_pendingleaf WHERE record_table = 'archive_message'
                 ) leaves JOIN archive_message m ON m.id = leaves.record_id
                 WHERE m.wamid LIKE %s GROUP BY record_id HAVING count(*) > 1) twice""",
            (prefix,),
        )
        [(scanned,)] = self.sql(
            """SELECT count(*) FROM policies_messagescan s JOIN archive_message m
               ON m.id = s.message_id WHERE m.wamid LIKE %s""",
            (prefix,),
        )
        archived = {row[0] for row in self.sql(
            "SELECT wamid FROM archive_message WHERE wamid LIKE %s", (prefix,))}  # fmt: skip
        acknowledged = sender.acknowledged()
        return Ledger(
            sent=len(sender.results), acknowledged=len(acknowledged), archived=int(distinct),
            duplicates=int(rows) - int(distinct) + int(logged_twice), scanned=int(scanned),
            lost=len(acknowledged - archived),
        )  # fmt: skip


@dataclass
class Ledger:
    sent: int
    acknowledged: int
    archived: int
    duplicates: int
    scanned: int
    lost: int

    def line(self, fault: str) -> str:
        return (f"fault: {fault}: deliveries sent {self.sent}, acknowledged {self.acknowledged}, "
                f"archived {self.archived}, duplicates {self.duplicates}, lost {self.lost}, "
                f"scanned {self.scanned}")  # fmt: skip


@dataclass
class Result:
    statuses: list[int] = field(default_factory=list)  # each attempt's HTTP status (0: no answer)
    times: list[float] = field(default_factory=list)  # each attempt's time.monotonic() at its end

    @property
    def acknowledged(self) -> bool:
        return 200 in self.statuses


class Sender:
    """Posts ``count`` signed text webhooks at ``rate`` a second from a thread; each one that is
    not answered 200 is retried (as Meta retries) every ``retry_every`` seconds until
    ``give_up_after``."""

    def __init__(self, stack: FaultStack, name: str, *, count: int, rate: float,
                 retry_every: float = 2.0, give_up_after: float = 240.0) -> None:  # fmt: skip
        self.stack = stack
        self.prefix = f"wamid.fault.{name}.{int(time.time())}."
        self.count, self.rate = count, rate
        self.retry_every, self.give_up_after = retry_every, give_up_after
        self.results: dict[str, Result] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Sender:
        self._thread.start()
        return self

    def join(self, timeout: float = 400) -> None:
        self._thread.join(timeout)

    def acknowledged(self) -> set[str]:
        with self._lock:
            return {w for w, r in self.results.items() if r.acknowledged}

    def sent(self) -> int:
        with self._lock:
            return len(self.results)

    def answers(self) -> list[tuple[float, int]]:
        """(when, HTTP status) of every attempt."""
        with self._lock:
            results = self.results.values()
            return [pair for r in results for pair in zip(r.times, r.statuses, strict=True)]

    def _post(self, wamid: str) -> int:
        payload = shapes.inbound(ANA, DISPLAY[ANA], wamid, int(time.time()), CLIENT, "text",
                                 {"body": f"fault drill {wamid}"})  # fmt: skip
        body = json.dumps(payload, separators=(",", ":")).encode()
        request = urllib.request.Request(
            f"{self.stack.url}/webhooks/whatsapp/demo/", data=body, method="POST",
            headers={"Content-Type": "application/json",
                     "X-Hub-Signature-256": sign(body, DEMO_APP_SECRET)},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except OSError:
            return 0

    def _record(self, wamid: str) -> int:
        status = self._post(wamid)
        with self._lock:
            self.results[wamid].statuses.append(status)
            self.results[wamid].times.append(time.monotonic())
        return status

    def _run(self) -> None:
        started = time.monotonic()
        retry: list[str] = []
        for index in range(self.count):
            wamid = f"{self.prefix}{index}"
            with self._lock:
                self.results[wamid] = Result()
            status = self._record(wamid)
            if status != 200:
                retry.append(wamid)
            time.sleep(max(0.0, started + (index + 1) / self.rate - time.monotonic()))
        while retry and time.monotonic() - started < self.give_up_after:
            time.sleep(self.retry_every)
            still = []
            for wamid in retry:
                if self._record(wamid) != 200:
                    still.append(wamid)
            retry = still


def wait_for(condition, *, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
