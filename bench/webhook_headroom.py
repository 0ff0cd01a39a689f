"""Benchmark: server CPU per acknowledged webhook delivery, without the HTTP server.

Issue 13 ("Headroom on the webhook") asks for at most 1.0 ms of server CPU (web + PostgreSQL) per
acknowledged delivery. Over HTTP on this shared machine that figure drowns in the other
sessions' load (an open-loop run measures the machine, not the code), so this one calls the WSGI
application the intake server runs (ingestion.wsgi; compliance_hub.wsgi before issue 13's lean
path) directly, in one thread, with the same signed deliveries as bench/_loadgen.py, and reads
three CPU clocks around each round:

- this process's CPU (Django: the fast lane, the view, signature, insert, commit, drain mark);
- the CPU of the PostgreSQL backend serving this process's connection (from /proc);
- Redis's CPU (the drain mark).

What the HTTP server adds (parsing, sockets) is measured by bench/webhook_servers.py.

A/B in one run: ``--code DIR`` (repeatable) serves another checkout's application (e.g. a
``git archive`` of the commit before a change); each round runs every checkout once, in a fresh
process of its own, alternating, and the figure is each checkout's median over the rounds.
``--profile`` prints where the first checkout's Python CPU goes (cProfile, one extra round).

Run: .venv/bin/python bench/webhook_headroom.py [--deliveries 3000 --rounds 5 --code /tmp/base]
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_MS = 1.0


def say(line: str = "") -> None:
    print(line, flush=True)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- the child: one round against one checkout ------------------------------------------------


def _proc_seconds(pid: int) -> float:
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _environ(path: str, body: bytes, signature: str) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "facebookexternalua",
        "HTTP_X_HUB_SIGNATURE_256": signature,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def child(args: argparse.Namespace) -> None:
    """Runs with the checkout's own code first on sys.path; prints one JSON line."""
    sys.path.insert(0, str(args.child))
    from bench._stack import bench_environment, redis_pid

    # One connection for the whole round, so its backend's CPU is the round's: a slow round on
    # a busy machine outlives the 60 s of CONN_MAX_AGE, and one reconnection a minute is noise.
    os.environ.update(bench_environment(PYTHONPATH=str(args.child), DB_CONN_MAX_AGE="3600"))
    import django

    django.setup()
    from django.db import connection

    from bench._fixtures import fresh_tenant
    from bench._loadgen import build_body

    application = importlib.import_module(args.app).application
    from ingestion.whatsapp.signature import sign

    bench = fresh_tenant("headroom", "78")
    timestamp = int(time.time())
    requests = []
    for index in range(args.warmup + args.deliveries):
        body = build_body(
            prefix=bench.wamid_prefix,
            index=index,
            phone_number_id=bench.phone_number_id,
            timestamp=timestamp,
        )
        requests.append(_environ(bench.path, body, sign(body, bench.app_secret)))

    statuses: list[str] = []

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        statuses.append(status)

    def serve(environ: dict) -> None:
        result = application(environ, start_response)
        try:
            for _ in result:
                pass
        finally:
            if hasattr(result, "close"):  # optional in WSGI (PEP 3333)
                result.close()

    for environ in requests[: args.warmup]:
        serve(environ)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    redis = redis_pid()
    profiler = None
    if args.profile_child:
        import cProfile

        profiler = cProfile.Profile()
    web0, pg0, redis0 = time.process_time(), _proc_seconds(backend), _proc_seconds(redis)
    wall0 = time.perf_counter()
    if profiler:
        profiler.enable()
    for environ in requests[args.warmup :]:
        serve(environ)
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - wall0
    web, pg, redis_cpu = (
        time.process_time() - web0,
        _proc_seconds(backend) - pg0,
        _proc_seconds(redis) - redis0,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        same_backend = cursor.fetchone()[0] == backend
    ok = sum(1 for s in statuses[args.warmup :] if s.startswith("200"))
    if profiler:
        import pstats

        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
    print(
        json.dumps(
            {
                "ok": ok,
                "sent": args.deliveries,
                "web_ms": web / max(ok, 1) * 1e3,
                "pg_ms": pg / max(ok, 1) * 1e3,
                "redis_ms": redis_cpu / max(ok, 1) * 1e3,
                "wall_ms": wall / max(ok, 1) * 1e3,
                "same_backend": same_backend,
            }
        ),
        flush=True,
    )


# --- the parent: alternate checkouts, medians ------------------------------------------------


def parse_code(spec: str) -> tuple[Path, str]:
    """``DIR`` (its intake application) or ``DIR=MODULE`` (e.g. ``.=compliance_hub.wsgi``: this
    checkout through Django's handler, to see what the lean path buys)."""
    # Only in the parent: a child imports the bench package of the checkout it serves.
    sys.path.insert(0, str(REPO))
    from bench._stack import intake_application

    folder, _, module = spec.partition("=")
    code = Path(folder).resolve()
    return code, module or intake_application(code)


def run_child(code: Path, app: str, args: argparse.Namespace, *, profile: bool = False) -> dict:
    argv = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        str(code),
        "--app",
        app,
        "--deliveries",
        str(args.deliveries),
        "--warmup",
        str(args.warmup),
    ]
    if profile:
        argv.append("--profile-child")
    done = subprocess.run(  # noqa: S603 - our own script
        argv, cwd=code, capture_output=True, text=True, timeout=1800, check=False
    )
    if profile:
        say(done.stderr)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"round against {code} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=3000, help="per round and checkout")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--code",
        action="append",
        help="a checkout to serve, DIR or DIR=WSGI_MODULE (repeatable; default: this one with "
        "its intake's application)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the first checkout")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--app", default="ingestion.wsgi", help=argparse.SUPPRESS)
    parser.add_argument("--profile-child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.child:
        child(args)
        return
    codes = [parse_code(c) for c in (args.code or [str(REPO)])]
    say("webhook headroom: server CPU per acknowledged delivery, WSGI application called directly")
    say(
        f"  {args.deliveries:,} signed deliveries per round and checkout (+{args.warmup} warm-up), "
        f"{args.rounds} rounds, checkouts alternated: "
        + ", ".join(f"{code} ({app})" for code, app in codes)
    )
    if args.profile:
        run_child(*codes[0], args, profile=True)
    results: dict[tuple[Path, str], list[dict]] = {c: [] for c in codes}
    for number in range(args.rounds):
        order = codes if number % 2 == 0 else list(reversed(codes))
        for code, app in order:
            figures = run_child(code, app, args)
            results[(code, app)].append(figures)
            say(
                f"  round {number + 1} {code.name} ({app}): web {figures['web_ms']:.3f} + "
                f"PostgreSQL {figures['pg_ms']:.3f} + Redis {figures['redis_ms']:.3f} ms CPU per "
                "delivery "
                f"({figures['ok']:,}/{figures['sent']:,} acknowledged, one backend: "
                f"{figures['same_backend']}); load average {load_average()}"
            )
    say()
    say("  medians of the rounds (ms of CPU per acknowledged delivery):")
    for (code, app), rounds in results.items():
        web = statistics.median(r["web_ms"] for r in rounds)
        pg = statistics.median(r["pg_ms"] for r in rounds)
        rds = statistics.median(r["redis_ms"] for r in rounds)
        verdict = "met" if web + pg <= TARGET_MS else "NOT met"
        say(
            f"    {code} ({app}): web {web:.3f}, PostgreSQL {pg:.3f}, web + PostgreSQL "
            f"{web + pg:.3f} (target <= {TARGET_MS} without the HTTP server: {verdict}), "
            f"Redis {rds:.3f}"
        )
    say(f"  load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
