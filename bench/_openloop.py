"""The benchmarks' side of the open-loop load generator (bench/_loadgen.py runs in a process of
its own): start it, let it go when the meters are ready, read its result, and sum it up.
No Django here."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, Protocol

BENCH = Path(__file__).resolve().parent


class Target(Protocol):
    path: str
    app_secret: str
    phone_number_id: str
    wamid_prefix: str


class Generator:
    """``Generator(...)`` builds and signs every request and opens its first connections;
    ``go()`` starts the clock; ``result()`` waits for the end (bounded) and reads the figures."""

    def __init__(
        self,
        *,
        target: Target,
        port: int,
        rate: float,
        count: int,
        first_index: int,
        max_connections: int,
        workdir: Path,
        timeout: float = 30.0,
        texts: list[str] | None = None,
    ) -> None:
        self.rate, self.count = rate, count
        spec = {
            "host": "127.0.0.1",
            "port": port,
            "path": target.path,
            "app_secret": target.app_secret,
            "phone_number_id": target.phone_number_id,
            "wamid_prefix": target.wamid_prefix,
            "rate": rate,
            "count": count,
            "first_index": first_index,
            "max_connections": max_connections,
            # No idle connections up front: gunicorn's gthread holds a thread up to 5 s waiting
            # for the first bytes of a new connection, which stalls everything behind it.
            "preopen": 0,
            "timeout": timeout,
            "texts": texts or [],
        }
        spec_path = workdir / f"spec-{first_index}.json"
        self.result_path = workdir / f"result-{first_index}.json"
        spec_path.write_text(json.dumps(spec))
        self.result_path.unlink(missing_ok=True)
        self.process = subprocess.Popen(  # noqa: S603 - our own script
            [
                sys.executable,
                str(BENCH / "_loadgen.py"),
                str(spec_path),
                str(self.result_path),
                "--wait-for-go",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline().strip()
        if ready != "ready":
            self.process.kill()
            raise RuntimeError(f"the load generator did not start: {ready!r}")

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def running(self) -> bool:
        return self.process.poll() is None

    def result(self) -> dict[str, Any]:
        self.process.wait(timeout=self.count / self.rate + 120)
        return json.loads(self.result_path.read_text())


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an unsorted list; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(1, min(len(ordered), math.ceil(q / 100 * len(ordered)))) - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarise(result: dict[str, Any], *, duration: float) -> dict[str, Any]:
    """Latency counts from the moment each request was due (open loop); service time from the
    moment it was written. Throughput per whole second of the schedule shows whether the rate
    was sustained or only averaged."""
    status, due, sent, done = result["status"], result["due"], result["sent"], result["done"]
    ok = [i for i, s in enumerate(status) if s == 200]
    latencies = [(done[i] - due[i]) * 1e3 for i in ok]
    service = [(done[i] - sent[i]) * 1e3 for i in ok]
    start = due[0]
    by_status: dict[str, int] = {}
    for s in status:
        key = str(s) if s else "no answer"
        by_status[key] = by_status.get(key, 0) + 1
    seconds = [0] * max(int(duration), 1)
    for i in ok:
        second = int(done[i] - start)
        if 0 <= second < len(seconds):
            seconds[second] += 1
    last = max((done[i] for i in ok), default=start)
    return {
        "sent": len(status),
        "ok": len(ok),
        "ok_indices": ok,
        "by_status": by_status,
        "errors": result["errors"],
        "achieved": len(ok) / (last - start) if last > start else 0.0,
        "per_second_min": min(seconds),
        "per_second_median": median([float(s) for s in seconds]),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": max(latencies, default=float("nan")),
        "service_p50": percentile(service, 50),
        "service_p99": percentile(service, 99),
        "late_sends": sum(1 for i in ok if sent[i] - due[i] > 0.005),
        "generator_cpu": result["cpu_seconds"] / result["wall_seconds"],
        "max_connections_open": result["max_connections_open"],
        "request_bytes": result["request_bytes"],
    }
