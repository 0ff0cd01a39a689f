"""Benchmark: gunicorn (gthread) against granian (WSGI mode), both behind nginx, same run.

Issue 13 ("Headroom on the webhook") asks to compare the servers before choosing. Both serve
the same application (the intake's, ingestion.wsgi) with the same shape (``--workers`` processes x
``--threads`` threads), each behind its own nginx with the shipped configuration (the buffering
proxy production runs, docs/operations.md). Rounds alternate the order of the servers; in each
round the open-loop generator (bench/_loadgen.py) sends unique signed deliveries through nginx
at ``--rate`` for ``--duration`` seconds to one server, then to the other. Per server and
round: acknowledged/s, latency p50/p99 from the moment each request was due, and CPU per
stored delivery of the server's processes, nginx and PostgreSQL (from /proc). The figure
is each server's median over the rounds; the load average is printed with every round, since
this machine is shared.

Run: .venv/bin/python bench/webhook_servers.py [--rate 500 --duration 20 --rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._stack import (
    BrokerDb,
    CpuMeter,
    Started,
    bench_environment,
    free_port,
    postgres_pid,
    redis_pid,
    start_gunicorn,
    start_intake,
)

os.environ.update(bench_environment())

import django

django.setup()

from django.conf import settings  # noqa: E402

from bench._fixtures import delivery_counts, fresh_tenant  # noqa: E402
from bench._openloop import Generator, median, summarise  # noqa: E402
from bench._proxy import Nginx  # noqa: E402
from compliance_hub.audit.actors import Actor  # noqa: E402
from compliance_hub.tenancy.models import Tenant  # noqa: E402
from compliance_hub.tenancy.services import set_tenant_status  # noqa: E402


def say(line: str = "") -> None:
    print(line, flush=True)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=500, help="deliveries/s offered")
    parser.add_argument("--duration", type=float, default=20, help="seconds per server and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--max-connections", type=int, default=256)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-servers-"))
    workdir.chmod(0o755)  # nginx's workers read their folders under it
    bench = fresh_tenant("servers", "79")
    say(f"webhook servers: gunicorn gthread vs granian WSGI, both behind nginx ({bench.path})")
    say(
        f"  {args.workers} workers x {args.threads} threads each; {args.rate:,.0f} deliveries/s "
        f"for {args.duration:.0f} s per server and round, {args.rounds} rounds, order alternating"
    )
    results: dict[str, list[dict]] = {"gunicorn": [], "granian": []}
    next_index = 0
    with BrokerDb() as broker_db:
        servers: dict[str, Started] = {}
        proxies: dict[str, Nginx] = {}
        try:
            port = free_port()
            servers["gunicorn"] = start_gunicorn(
                port=port,
                workers=args.workers,
                threads=args.threads,
                broker_db=broker_db,
                log=workdir / "gunicorn.log",
            )
            proxies["gunicorn"] = Nginx(
                upstream=f"127.0.0.1:{port}",
                max_body=settings.WEBHOOK_MAX_BODY_BYTES,
                workdir=workdir,
            )
            port = free_port()
            servers["granian"] = start_intake(
                port=port,
                workers=args.workers,
                threads=args.threads,
                broker_db=broker_db,
                log=workdir / "granian.log",
            )
            proxies["granian"] = Nginx(
                upstream=f"127.0.0.1:{port}",
                max_body=settings.WEBHOOK_MAX_BODY_BYTES,
                workdir=workdir,
            )
            for number in range(args.rounds):
                order = ["gunicorn", "granian"] if number % 2 == 0 else ["granian", "gunicorn"]
                for name in order:
                    count = int(args.rate * args.duration)
                    meter = CpuMeter(
                        {
                            "web": servers[name].pid,
                            "nginx": proxies[name].pid,
                            "PostgreSQL": postgres_pid(),
                            "Redis": redis_pid(),
                        }
                    )
                    generator = Generator(
                        target=bench,
                        port=proxies[name].port,
                        rate=args.rate,
                        count=count,
                        first_index=next_index,
                        max_connections=args.max_connections,
                        workdir=workdir,
                    )
                    next_index += count
                    stored_before = sum(delivery_counts(bench.tenant).values())
                    meter.start()
                    generator.go()
                    raw = generator.result()
                    meter.stop(extra={"load generator": raw["cpu_seconds"]})
                    figures = summarise(raw, duration=args.duration)
                    # Per stored delivery: on an overloaded machine the client gives up on
                    # requests the server still stores; counting only the acknowledged ones
                    # would charge their CPU to the slower server.
                    figures["stored"] = sum(delivery_counts(bench.tenant).values()) - stored_before
                    ok = max(figures["stored"], 1)
                    for key in ("web", "nginx", "PostgreSQL", "Redis"):
                        figures[f"{key}_ms"] = meter.used.get(key, 0.0) / ok * 1e3
                    figures["load"] = load_average()
                    results[name].append(figures)
                    say(
                        f"  round {number + 1} {name:<8}: {figures['achieved']:,.0f}/s acknowledged"
                        f" ({figures['ok']:,}/{figures['sent']:,}), p50 {figures['p50']:.1f} / "
                        f"p99 {figures['p99']:.1f} ms; CPU per stored delivery: web "
                        f"{figures['web_ms']:.2f}, nginx {figures['nginx_ms']:.2f}, PostgreSQL "
                        f"{figures['PostgreSQL_ms']:.2f} ms; load average {figures['load']}"
                    )
        finally:
            for process in [*proxies.values(), *servers.values()]:
                process.stop()
            set_tenant_status(
                tenant=bench.tenant, status=Tenant.Status.SUSPENDED, actor=Actor.system()
            )
    say()
    say("  medians of the rounds:")
    for name, rounds in results.items():
        if not rounds:
            continue

        def m(key: str, rounds: list[dict] = rounds) -> float:
            return median([r[key] for r in rounds])

        say(
            f"    {name:<8}: {m('achieved'):,.0f}/s, p50 {m('p50'):.1f} ms, p99 {m('p99'):.1f} ms;"
            f" CPU per stored delivery: web {m('web_ms'):.2f} + PostgreSQL {m('PostgreSQL_ms'):.2f}"
            f" (+ nginx {m('nginx_ms'):.2f}, Redis {m('Redis_ms'):.2f}) ms"
        )
    say("  (deliveries left pending, tenant suspended so no sweeper spends CPU on them)")
    say(f"  (files of this run: {workdir})")


if __name__ == "__main__":
    main()
