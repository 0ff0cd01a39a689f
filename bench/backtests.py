"""Benchmark: backtests (issue 11, "Policies": a draft run over a date range of the archive in
Celery), through the worker's own function ``policies.backtests.run_backtest``.

1. A fresh ``bench-backtest-<n>-<run>`` tenant with N generated messages over 30 days (loaded
   with COPY by bench/export.py's loader: the same text generator as the archive benchmarks), and
   a policy of the Financial services pack, saved; the draft is the same document with a lower
   threshold, so the job runs the draft and the saved version side by side, as an officer's
   backtest does.
2. Baseline, in the same run: the same engine over the same texts already in memory (no
   database: what the detectors alone cost).
3. The backtest: ``request_backtest`` then ``run_backtest`` in this process (keyset batches of
   SCAN_BATCH, restricted subjects, contexts, decisions, progress writes): wall time and
   messages/s, median of --runs.

Run (local stack: ``scripts/stack.sh start run`` and ``manage.py migrate`` once)::

    .venv/bin/python bench/backtests.py                     # 50,000 messages, 3 runs

Figures: docs/benchmarks.md ("Detection: backtests").
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compliance_hub.settings")

import django

django.setup()

from archive.models import Message  # noqa: E402
from bench.export import DAYS, START, load, people  # noqa: E402
from compliance_hub.audit.actors import Actor  # noqa: E402
from compliance_hub.tenancy.context import tenant_scope  # noqa: E402
from compliance_hub.tenancy.models import Tenant  # noqa: E402
from compliance_hub.tenancy.services import create_tenant  # noqa: E402
from policies.backtests import request_backtest, run_backtest  # noqa: E402
from policies.engine import Engine, PolicyRun  # noqa: E402
from policies.engine import Message as EngineMessage  # noqa: E402
from policies.models import Policy  # noqa: E402
from policies.packs import pack  # noqa: E402
from policies.scan_inputs import classifiers  # noqa: E402
from policies.scanning import SCAN_BATCH  # noqa: E402
from policies.services import create_policy  # noqa: E402

ACTOR = Actor.command("bench-backtests")


def fresh_tenant(messages: int) -> Tenant:
    run = 0
    while Tenant.objects.filter(slug=f"bench-backtest-{messages}-{run}").exists():
        run += 1
    return create_tenant(
        slug=f"bench-backtest-{messages}-{run}",
        name=f"Benchmark: backtest over {messages} (run {run})",
        actor=ACTOR,
    )


def documents() -> tuple[dict, dict]:
    """A classifier policy of the Financial services pack (the costly detector) and a draft of
    it with every score threshold lowered."""
    saved = next(d for d in pack("financial_services").documents if "classifier" in str(d))
    draft = copy.deepcopy(saved)

    def lower(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("min_score"), float):
                node["min_score"] = round(node["min_score"] - 0.1, 2)
            for value in node.values():
                lower(value)
        elif isinstance(node, list):
            for value in node:
                lower(value)

    lower(draft["detect"])
    return saved, draft


def baseline(tenant: Tenant, saved: dict, draft: dict) -> tuple[float, float]:
    """Messages per wall second and per CPU second of the engine alone over the same texts, in
    memory (compile excluded)."""
    with tenant_scope(tenant):
        texts = list(Message.objects.filter(tenant=tenant).values_list("text", flat=True))
    engine = Engine(
        [PolicyRun(ref="draft", document=draft), PolicyRun(ref="saved", document=saved)],
        classify=classifiers(),
    )
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), SCAN_BATCH):
        engine.scan([EngineMessage(text) for text in texts[start : start + SCAN_BATCH]])
    return (
        len(texts) / (time.perf_counter() - started),
        len(texts) / (time.process_time() - cpu),
    )


def backtest(tenant: Tenant, policy: Policy, draft: dict) -> tuple[float, float, dict]:
    """Wall and CPU seconds (this process: the worker's share; the database's is apart) of one
    backtest over the whole range, and its results."""
    first = START.date()
    last = (START + timedelta(days=DAYS)).date()
    started, cpu = time.perf_counter(), time.process_time()
    with tenant_scope(tenant):
        job = request_backtest(
            tenant=tenant, actor=ACTOR, policy=policy, document=draft, date_from=first,
            date_to=last,
        )  # fmt: skip
    done = run_backtest(tenant=tenant, job_id=job.pk)
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    assert done is not None and done.status == "done", done
    return elapsed, used, done.results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    tenant = fresh_tenant(args.messages)
    print(f"{tenant.slug}: loading {args.messages:,} messages")
    load(tenant, people(tenant, max(1, args.messages // 200)), args.messages)
    saved, draft = documents()
    with tenant_scope(tenant):
        policy, _ = create_policy(tenant=tenant, actor=ACTOR, document=saved)

    engine_rates = [baseline(tenant, saved, draft) for _ in range(args.runs)]
    timings = []
    results: dict = {}
    for _ in range(args.runs):
        elapsed, used, results = backtest(tenant, policy, draft)
        timings.append((elapsed, used))
    wall = statistics.median(t[0] for t in timings)
    cpu = statistics.median(t[1] for t in timings)
    rate = args.messages / wall
    engine_rate = statistics.median(r[0] for r in engine_rates)
    engine_cpu_rate = statistics.median(r[1] for r in engine_rates)
    print(
        f"policy: {saved['name']} (draft: thresholds lowered by 0.1), draft and saved side by side"
    )
    print(
        f"baseline, the engine alone in memory: {engine_rate:,.0f} messages/s wall, "
        f"{engine_cpu_rate:,.0f} per CPU second"
    )
    print(
        f"backtest over {args.messages:,} messages: {wall:.1f} s wall, {rate:,.0f} messages/s "
        f"({rate / engine_rate:.0%} of the baseline); {args.messages / cpu:,.0f} messages per "
        f"CPU second of the worker ({args.messages / cpu / engine_cpu_rate:.0%} of the "
        f"baseline's); median of {args.runs}"
    )
    print(
        f"  would alert on {results['flagged']:,} ({results['share']:.2%}); saved version "
        f"{results['saved_flagged']:,}"
    )


if __name__ == "__main__":
    main()
