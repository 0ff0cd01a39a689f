"""Processes for the webhook benchmarks: the intake's server (granian, as production runs it; or
a gunicorn) and Celery workers of their own on free loopback ports, and the CPU time each group
of processes used (from /proc), so a benchmark can say where the machine's two cores went: the
web server, PostgreSQL, Redis, the load generator, or anything else running at the time (other
people's tests on this shared machine).

Everything started here is stopped by the same object (a context manager), by its own pid.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.serve import intake_command

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Celery tasks of a benchmark go through a Redis database of their own on the local stack's Redis
# (0 is `make run`'s broker, 1 the cache), so no other worker takes them, or their CPU, in the
# middle of a measurement.
BROKER_DBS = range(2, 16)
# Three gunicorn workers importing the application took more than 60 s at a load average of 18
# on the two shared cores (one alone took 20 s): the benchmark waits, rather than failing.
STARTUP_TIMEOUT = 180.0


STACK_KEYS = ("DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL")


def stack_env() -> dict[str, str]:
    """The local stack's .stack/env (scripts/stack.sh writes it), or, without one, the stack
    named by the environment (a test checking a script's --help runs in the test stack's)."""
    path = REPO / ".stack" / "env"
    if not path.exists() and all(os.environ.get(key) for key in STACK_KEYS):
        return {key: os.environ[key] for key in STACK_KEYS}
    if not path.exists():
        sys.exit("no .stack/env: start the local stack first (make run, or make bench)")
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def bench_environment(*, broker_db: int | None = None, **extra: str) -> dict[str, str]:
    """The environment of the processes a benchmark starts: the local stack, DEBUG off (as in
    production: DEBUG keeps every SQL statement in memory) and, given one, the benchmark's own
    broker database."""
    stack = stack_env()
    redis_base = stack["REDIS_URL"].rsplit("/", 1)[0]
    env = dict(os.environ)
    env.update(stack)
    env.update(
        DJANGO_SETTINGS_MODULE="compliance_hub.settings",
        DJANGO_ENV="local",
        DJANGO_DEBUG="0",
        REDIS_CACHE_URL=f"{redis_base}/1",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPO),
    )
    if broker_db is not None:
        env["REDIS_URL"] = f"{redis_base}/{broker_db}"
    env.update(extra)
    return env


class BrokerDb:
    """An empty Redis database of the local stack's Redis, claimed for one benchmark run (a
    marker key, so a concurrent run takes another) and emptied when the run ends: tasks a run
    did not process are dropped, their deliveries stay pending for the sweeper."""

    def __enter__(self) -> int:
        import redis

        base = stack_env()["REDIS_URL"].rsplit("/", 1)[0]
        for number in BROKER_DBS:
            client = redis.Redis.from_url(f"{base}/{number}")
            if client.dbsize() == 0 and client.set("bench:claimed", os.getpid(), nx=True, ex=86400):
                self.client, self.number = client, number
                return number
        raise RuntimeError("no empty Redis database left for the benchmark's broker (2-15)")

    def __exit__(self, *exc: object) -> None:
        self.client.flushdb()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- CPU accounting --------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, CPU ticks incl. waited-for children) of a process, None when gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    # fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
    ticks = int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return int(fields[1]), ticks


def process_tree(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                parents[int(entry)] = stat[0]
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree


def tree_ticks(root: int) -> int:
    return sum((_stat(pid) or (0, 0))[1] for pid in process_tree(root))


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return total - idle, total


def postgres_pid() -> int | None:
    link = REPO / ".stack" / "run" / "pg" / "pgdata" / "postmaster.pid"
    try:
        return int(link.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def redis_pid() -> int | None:
    try:
        return int((REPO / ".stack" / "run" / "redis" / "redis.pid").read_text().strip())
    except (OSError, ValueError):
        return None


@dataclass
class CpuMeter:
    """CPU seconds used by named process trees between start() and stop()."""

    roots: dict[str, int | None]
    before: dict[str, int] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)
    machine_before: tuple[int, int] = (0, 0)
    started: float = 0.0
    wall: float = 0.0

    def start(self) -> None:
        self.before = {name: tree_ticks(pid) for name, pid in self.roots.items() if pid}
        self.machine_before = machine_ticks()
        self.started = time.monotonic()

    def stop(self, extra: dict[str, float] | None = None) -> None:
        """``extra``: CPU seconds measured elsewhere (a process that exited: the generator)."""
        self.wall = time.monotonic() - self.started
        for name, pid in self.roots.items():
            if pid and name in self.before:
                self.used[name] = (tree_ticks(pid) - self.before[name]) / CLOCK_TICKS
        self.used.update(extra or {})
        busy, total = machine_ticks()
        cores = os.cpu_count() or 1
        busy_seconds = (busy - self.machine_before[0]) / CLOCK_TICKS
        self.used["whole machine"] = busy_seconds
        self.used["everything else"] = max(
            busy_seconds - sum(v for k, v in self.used.items() if k != "whole machine"), 0.0
        )
        self.capacity = (total - self.machine_before[1]) / CLOCK_TICKS or self.wall * cores

    def lines(self, requests: int) -> list[str]:
        out = []
        for name, seconds in self.used.items():
            cores = seconds / self.wall if self.wall else 0.0
            per = seconds / requests * 1e3 if requests else 0.0
            out.append(f"    {name:<17} {cores:5.2f} cores  {per:6.3f} ms CPU per request")
        return out


# --- web servers and Celery -----------------------------------------------------------------


class Started:
    """A process (in its own session) stopped with SIGTERM, then SIGKILL, by its pid."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], log: Path, cwd: Path = REPO
    ) -> None:
        self.name = name
        self.log = log
        self._log = log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own venv's programs
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, grace: float = 20.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def intake_application(code: Path) -> str:
    """The WSGI module the intake server runs in checkout ``code``: ingestion.wsgi (the
    webhook's lean path) since issue 13's headroom work, compliance_hub.wsgi before it."""
    return "ingestion.wsgi" if (code / "ingestion" / "wsgi.py").exists() else "compliance_hub.wsgi"


def start_gunicorn(
    *,
    port: int,
    workers: int,
    threads: int,
    log: Path,
    broker_db: int,
    worker_class: str = "gthread",
    code: Path = REPO,
) -> Started:
    """``code``: the checkout whose application is served (another one for A/B comparisons):
    its intake's, as the proxy sends Meta's deliveries to the intake."""
    argv = [
        str(VENV_BIN / "gunicorn"),
        intake_application(code),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        # Meta keeps connections open; gunicorn's default (2 s) would close idle ones under the
        # client's feet. A proxy in front (nginx: 75 s) behaves like this.
        "--keep-alive",
        "30",
        "--backlog",
        "2048",
        "--no-control-socket",
    ]
    env = bench_environment(broker_db=broker_db, PYTHONPATH=str(code))
    server = Started("gunicorn", argv, env, log, cwd=code)
    return wait_healthy(server, "gunicorn", port)


def start_intake(
    *, port: int, workers: int, threads: int, log: Path, broker_db: int, code: Path = REPO
) -> Started:
    """The webhook intake's server as production starts it (ingestion/serve.py: granian's WSGI
    mode), serving checkout ``code``'s intake application."""
    argv = intake_command(
        port=port,
        workers=workers,
        threads=threads,
        python=str(VENV_BIN / "python"),
        application=f"{intake_application(code)}:application",
    )
    env = bench_environment(broker_db=broker_db, PYTHONPATH=str(code))
    server = Started("granian", argv, env, log, cwd=code)
    return wait_healthy(server, "granian", port)


def wait_healthy(server: Started, name: str, port: int) -> Started:
    """Wait for a started web server's /healthz; stop it and say why when it dies or is late."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{name} exited during start-up:\n{server.tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(
        f"{name} did not answer /healthz within {STARTUP_TIMEOUT:.0f} s:\n{server.tail()}"
    )


def start_celery(*, concurrency: int, log: Path, broker_db: int) -> Started:
    argv = [
        str(VENV_BIN / "celery"),
        "-A",
        "compliance_hub",
        "worker",
        "-Q",
        "ingestion,default",
        "-c",
        str(concurrency),
        "-l",
        "warning",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"bench-{os.getpid()}@%h",
    ]
    return Started("celery", argv, bench_environment(broker_db=broker_db), log)
