"""Every benchmark of the product in one run (issue 13, "Benchmarks in one place"), at sizes
that fit this machine in under 15 minutes, and the table of their figures written into
docs/benchmarks.md between two markers (the rest of the file is left as it is).

Each benchmark runs as a subprocess of its own with a time budget and writes its figures with
``--json`` (bench/_results.py); this script never reads their printed text. A benchmark that
fails or overruns its budget gives a row saying so; the others still run. Every row states the
machine (cores, RAM, load average before and after that benchmark), the size measured, the date,
and the target next to the figure.

The sizes: the issue's searches at 10 million messages and the queue at 1 million alerts need
data sets that take 30 to 45 minutes to generate here. An earlier run's data set is measured
again when the local database holds one (the scripts' reuse options); otherwise the benchmark
generates the largest size that fits its budget and its row says so.

Run: ``make bench`` (starts the local stack, migrates, then this), or
``.venv/bin/python bench/all.py [--only webhook,search] [--no-write]``.
The full output of each benchmark stays in the folder printed at the end.

No Django here: the table writing is pure (tests/test_bench_all.py runs it on canned figures).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench._stack import process_tree  # noqa: E402

DOC = REPO / "docs" / "benchmarks.md"
BEGIN = "<!-- bench/all.py: begin (written by `make bench`; replaced on each run) -->"
END = "<!-- bench/all.py: end -->"
TOTAL_BUDGET = 15 * 60.0  # seconds for every benchmark together (the 15 minutes)
MIN_BUDGET = 30.0  # below this, a benchmark is not started at all: it could not say anything
INTERRUPT_GRACE = 30.0  # after SIGINT, time for a benchmark's own clean-up (its servers, broker)

Figures = dict[str, object]


@dataclass(frozen=True)
class Machine:
    cores: int
    ram_gib: float

    @classmethod
    def here(cls) -> Machine:
        kib = 0
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
        return cls(cores=os.cpu_count() or 1, ram_gib=kib / 1024 / 1024)


@dataclass(frozen=True)
class Outcome:
    """What one benchmark's run gave: its figures, or why there are none."""

    key: str
    status: str  # "ok", "failed", "overran", "skipped"
    figures: Figures | None
    started: datetime
    seconds: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    detail: str = ""  # for a failure: the last line of its output


@dataclass(frozen=True)
class Row:
    benchmark: str
    figure: str
    target: str
    verdict: str  # met / not met / not shown at this size / failed / overran
    size: str


@dataclass(frozen=True)
class Bench:
    key: str
    title: str
    script: str
    argv: tuple[str, ...]
    budget: float  # seconds
    rows: Callable[[Figures], list[Row]] = field(repr=False)


# --- numbers as people read them ----------------------------------------------------------------


def _num(value: object, digits: int = 0) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return "n/a"
    return f"{value:,.{digits}f}"


def _ms(value: object) -> str:
    small = isinstance(value, int | float) and abs(value) < 10
    return f"{_num(value, 1 if small else 0)} ms"


def _s(value: object) -> str:
    return f"{_num(value, 2)} s"


def _verdict(met: object) -> str:
    return "met" if met is True else "not met" if met is False else "not shown at this size"


# --- each benchmark's rows from its figures -----------------------------------------------------


def webhook_rows(f: Figures) -> list[Row]:
    once = {True: "every acknowledged delivery archived once", False: "NOT exactly once"}.get(
        f.get("exactly_once"),  # type: ignore[arg-type]
        "exactly-once not checked in this run",
    )
    return [
        Row(
            benchmark="Webhook acceptance (bench/webhook_acceptance.py)",
            figure=(
                f"{_num(f.get('achieved_rate'))} signed deliveries/s acknowledged of "
                f"{_num(f.get('offered_rate'))}/s offered, p99 {_ms(f.get('p99_ms'))} "
                f"(p50 {_ms(f.get('p50_ms'))}), {_num(f.get('errors'))} errors; raw PostgreSQL "
                f"single-row INSERT loop in the same run {_num(f.get('baseline_insert_rate'))} "
                f"rows/s: webhook / INSERT loop = {_num(f.get('ratio_to_baseline'), 2)}; {once}"
            ),
            target=str(f.get("target", "1,000/s for 60 s, p99 < 100 ms")),
            verdict=_verdict(f.get("target_met")),
            size=f"open loop, {_num(f.get('duration_s'))} s x {_num(f.get('repeats'))}",
        )
    ]


# Where bench/pipeline.py's end-to-end figure comes from (the product's own timestamps).
_SOURCES = {
    "commit": "the alert rows' commit times",
    "created_at": "the alerts' created_at",
}


def pipeline_rows(f: Figures) -> list[Row]:
    rows = []
    loop = f.get("open_loop")
    if isinstance(loop, dict):
        high = loop.get("high_p95")
        met = None if not isinstance(high, int | float) or not math.isfinite(high) else high < 2
        rows.append(
            Row(
                benchmark="End to end, webhook -> alert (bench/pipeline.py, open loop)",
                figure=(
                    f"POST -> high-severity alert in the officers' queue p95 {_s(high)} "
                    f"(p50 {_s(loop.get('high_p50'))}, {_num(loop.get('high_seen'))} alerts; "
                    f"from {_SOURCES.get(str(loop.get('source')), 'the database')}, the "
                    f"observer's polls saw them at p95 {_s(loop.get('poll_high_p95'))}); "
                    f"any alert p95 {_s(loop.get('queue_p95'))}; POST -> finding p95 "
                    f"{_s(loop.get('hit_p95'))}; POST -> scanned p95 {_s(loop.get('scan_p95'))}; "
                    f"{_num(loop.get('acknowledged'))}/{_num(loop.get('sent'))} acknowledged"
                ),
                target="high-severity alert in the queue within 2 s p95 of the webhook",
                verdict=_verdict(met),
                size=(
                    f"{_num(loop.get('rate'))} deliveries/s for {_num(loop.get('duration_s'))} s, "
                    "demo packs on, 3% of lines tripping"
                ),
            )
        )
    rows.append(
        Row(
            benchmark="Processing behind the webhook (bench/pipeline.py, backlog)",
            figure=(
                f"{_num(f.get('packs_rate'))} deliveries/s with the demo packs, "
                f"{_num(f.get('baseline_rate'))}/s with no policy (same run); "
                + {True: "archived and scanned exactly once", False: "NOT exactly once"}.get(
                    f.get("exactly_once"),  # type: ignore[arg-type]
                    "exactly-once not checked (the run did not reach its end)",
                )
            ),
            target=str(f.get("target", ">= 600/s with scanning")),
            verdict=_verdict(f.get("target_met")),
            size=f"backlog of {_num(f.get('backlog'))} x {_num(f.get('repeats'))} round(s)",
        )
    )
    return rows


DETECTORS = ("normalize", "lexicon rules", "personal data", "links", "ML classifiers")


def detection_rows(f: Figures) -> list[Row]:
    parts = f.get("parts") if isinstance(f.get("parts"), dict) else {}
    assert isinstance(parts, dict)
    shares = [
        f"{name} {_num(100 * share, 0)}%"
        for name, part in parts.items()
        if name.startswith(DETECTORS)
        and isinstance(part, dict)
        and isinstance(share := part.get("share"), int | float)
    ]
    return [
        Row(
            benchmark="Detectors, the whole set (bench/detection.py)",
            figure=(
                f"{_num(f.get('whole_per_cpu_second'))} messages per CPU second on one core; "
                f"each detector alone, as a share of the whole: {', '.join(shares) or 'n/a'}"
            ),
            target=str(f.get("target", ">= 10,000 messages per CPU second per core")),
            verdict=_verdict(f.get("target_met")),
            size=(
                f"{_num(f.get('messages'))} short chat messages, {_num(f.get('policies'))} "
                f"policies, median of {_num(f.get('runs'))} run(s)"
            ),
        )
    ]


def pii_rows(f: Figures) -> list[Row]:
    peer = f.get("presidio_shared_types_f1")
    peers = (
        ", ".join(f"{_num(v, 3)} at >= {t}" for t, v in peer.items())
        if isinstance(peer, dict)
        else "n/a"
    )
    return [
        Row(
            benchmark="Personal data against Presidio (bench/pii.py)",
            figure=(
                f"{_num(f.get('ours_per_second'))} messages/s per core, Presidio "
                f"{_num(f.get('presidio_per_second'))}/s: ours / Presidio = "
                f"{_num(f.get('ratio_to_presidio'), 1)}x; F1 on the shared types "
                f"{_num(f.get('shared_types_f1'), 3)} (Presidio {peers})"
            ),
            target=str(f.get("target", ">= 10x Presidio, at least as accurate")),
            verdict=_verdict(f.get("target_met")),
            size=f"{_num(f.get('messages'))} labelled messages",
        )
    ]


SEARCH_TARGET_SIZE = 10_000_000
SEARCH_TARGET_MS = 300.0


def search_rows(f: Figures) -> list[Row]:
    rows = [r for r in f.get("rows") or [] if isinstance(r, dict)]  # type: ignore[attr-defined]
    main = [r for r in rows if str(r.get("search", "")).startswith("keyword + month + employee")]
    if not main:
        return [failure_row(BENCHES_BY_KEY["search"], "gave no search figures")]
    out = []
    reused = f.get("reused") if isinstance(f.get("reused"), dict) else {}
    assert isinstance(reused, dict)
    for r in main:
        messages = r.get("messages")
        count = messages if isinstance(messages, int) else 0
        p95 = r.get("p95_ms")
        under = isinstance(p95, int | float) and p95 < SEARCH_TARGET_MS
        if count >= SEARCH_TARGET_SIZE:
            verdict = "met" if under else "not met"
        else:
            verdict = f"not shown at this size ({'under' if under else 'over'} 300 ms here)"
        how = (
            "an earlier run's data set, reused"
            if r.get("profile") in reused
            else "generated in this run: 10,000,000 takes about 40 minutes to generate here, "
            "more than the 15 minutes"
        )
        out.append(
            Row(
                benchmark="Archive search (bench/archive_search.py)",
                figure=(
                    f"keyword + 30 days + one employee: p95 {_ms(p95)} (p50 "
                    f"{_ms(r.get('p50_ms'))}, hits p50 {_num(r.get('hits_p50'))}); the same filter "
                    f"without text, same run: p95 {_ms(r.get('baseline_p95_ms'))}"
                ),
                target=str(f.get("target", "p95 < 300 ms at 10,000,000 messages")),
                verdict=verdict,
                size=f"{_num(messages)} messages ({r.get('profile')} profile; {how})",
            )
        )
    return out


def export_rows(f: Figures) -> list[Row]:
    met = f.get("target_met")
    verdict = _verdict(met)
    if met is None:
        on_track = f.get("rate_and_memory_met")
        verdict += (
            " (rate and memory within it here)" if on_track else " (rate or memory over it here)"
        )
    return [
        Row(
            benchmark="Export (bench/export.py, every format)",
            figure=(
                f"{_num(f.get('per_second'))} messages/s ({_num(f.get('seconds'), 1)} s); peak "
                f"memory of all the export's processes at once {_num(f.get('peak_rss_mb'))} MB "
                f"(coordinator alone {_num(f.get('coordinator_peak_rss_mb'))} MB); bag "
                f"{_num(f.get('bag_mb'), 1)} MB"
            ),
            target=str(f.get("target", "1,000,000 in < 10 minutes, peak < 500 MB")),
            verdict=verdict,
            size=f"{_num(f.get('messages'))} messages, {_num(f.get('parts'))} parts",
        )
    ]


def alerts_rows(f: Figures) -> list[Row]:
    alerts = f.get("alerts")
    count = alerts if isinstance(alerts, int) else 0
    worst = f.get("queue_worst_p95_ms")
    dashboards = f.get("dashboard_sum_p95_ms")
    dashboard = dashboards.get("last 30 days by day") if isinstance(dashboards, dict) else None
    met = f.get("target_met")
    verdict = _verdict(met)
    if met is None:
        within = (
            isinstance(worst, int | float)
            and worst < 200
            and isinstance(dashboard, int | float)
            and dashboard < 500
        )
        verdict += " (within it here)" if within else " (over it here)"
    how = (
        "an earlier run's data set, reused"
        if f.get("reused")
        else "loaded in this run: 1,000,000 takes about 45 minutes to load here, more than the "
        "15 minutes"
    )
    return [
        Row(
            benchmark="Alert queue (bench/alerts_scale.py)",
            figure=(
                f"queue's first page, worst p95 of every filter combination {_ms(worst)} "
                f"({f.get('queue_worst_filters')}); dashboard, five series of the last 30 days, "
                f"p95 summed {_ms(dashboard)}; one alert by id, same run: p95 "
                f"{_ms(f.get('baseline_p95_ms'))}"
            ),
            target=str(f.get("target", "queue p95 < 200 ms, dashboard < 500 ms at 1,000,000")),
            verdict=verdict,
            size=f"{_num(alerts)} alerts ({how})" if count else "n/a",
        )
    ]


# The sizes: what fits the 15 minutes on this 2-core machine (the budgets add up to them).
BENCHES = (
    Bench(
        "webhook",
        "Webhook acceptance",
        "bench/webhook_acceptance.py",
        # The 1,000/s for 60 s; processing the 63,000 deliveries afterwards (the
        # exactly-once check) would take minutes more: the fault drills and tests check it.
        ("--duration", "60", "--repeats", "1", "--wrk-seconds", "0", "--baseline-rounds", "2",
         "--baseline-seconds", "2", "--no-archive"),
        190,
        webhook_rows,
    ),
    Bench(
        "pipeline",
        "End to end",
        "bench/pipeline.py",
        ("--backlog", "1500", "--repeats", "1", "--no-in-process", "--rate", "100", "--duration",
         "30", "--settle", "30", "--timeout", "120"),
        230,
        pipeline_rows,
    ),
    Bench("detection", "Detectors", "bench/detection.py",
          ("--messages", "5000", "--runs", "1", "--detectors-only"), 70, detection_rows),
    Bench("pii", "Personal data", "bench/pii.py", ("--quick",), 60,
          pii_rows),
    Bench(
        "search",
        "Archive search",
        "bench/archive_search.py",
        ("--sizes", "100000", "--profiles", "firm", "--reuse", "--rounds", "20",
         "--wide-rounds", "0", "--no-jit", "--no-design"),
        140,
        search_rows,
    ),
    Bench("export", "Export", "bench/export.py", ("--messages", "5000", "--reuse"), 90,
          export_rows),
    Bench(
        "alerts",
        "Alert queue",
        "bench/alerts_scale.py",
        ("--alerts", "15000", "--reuse-largest", "--runs", "10"),
        120,
        alerts_rows,
    ),
)  # fmt: skip
BENCHES_BY_KEY = {b.key: b for b in BENCHES}
# (target, size asked for) of each: what a row without figures still states.
ASKED = {
    "webhook": ("1,000/s for 60 s, p99 < 100 ms", "1,000 deliveries/s offered for 60 s"),
    "pipeline": (
        "high-severity alert in the queue within 2 s p95; >= 600/s with scanning",
        "backlog of 1,500; open loop 100 deliveries/s for 30 s",
    ),
    "detection": (">= 10,000 messages per CPU second per core", "5,000 short chat messages"),
    "pii": ("at least as accurate as Presidio on its types, >= 10x faster", "3,200 messages"),
    "search": (
        "p95 < 300 ms at 10,000,000 messages",
        "100,000 messages asked (or an earlier, bigger data set)",
    ),
    "export": ("1,000,000 in < 10 minutes, peak < 500 MB", "5,000 messages"),
    "alerts": (
        "queue p95 < 200 ms, dashboard < 500 ms at 1,000,000 alerts",
        "15,000 alerts asked (or an earlier, bigger data set)",
    ),
}


def failure_row(bench: Bench, why: str) -> Row:
    target, size = ASKED.get(bench.key, ("", ""))
    return Row(
        benchmark=f"{bench.title} ({bench.script})",
        figure=f"no figure: {why}",
        target=target,
        verdict="not measured",
        size=size,
    )


def outcome_rows(outcome: Outcome) -> list[Row]:
    bench = BENCHES_BY_KEY[outcome.key]
    if outcome.status == "overran" and outcome.figures is None:
        return [failure_row(bench, f"stopped after its budget of {outcome.seconds:,.0f} s")]
    if outcome.status == "skipped":
        return [failure_row(bench, outcome.detail or "not run")]
    if outcome.status not in ("ok", "overran") or outcome.figures is None:
        return [failure_row(bench, f"the run failed ({outcome.detail or 'no figures'})")]
    try:
        rows = bench.rows(outcome.figures)
    except (TypeError, ValueError, KeyError, AttributeError, AssertionError) as error:
        return [failure_row(bench, f"its figures could not be read ({error})")]
    if outcome.status == "overran":
        # What it wrote before its budget ran out (pipeline.py writes its backlog figures
        # before the open loop): shown, and marked as such.
        stopped = f"stopped after its budget of {outcome.seconds:,.0f} s; figures so far"
        rows = [replace(row, verdict=f"{row.verdict} ({stopped})") for row in rows]
    return rows


# --- the table ----------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _load(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.1f}" for v in values)


def render(outcomes: list[Outcome], machine: Machine) -> str:
    """The generated section (markers included) for these outcomes."""
    lines = [
        BEGIN,
        "",
        "## All benchmarks in one run (`make bench`)",
        "",
        "Written by `bench/all.py` (`make bench`): every benchmark at a size that fits this "
        "machine in under 15 minutes, each in a process of its own with a time budget. Load "
        "average is 1 / 5 / 15 minutes, before -> after that benchmark; the machine is "
        "shared, so read each figure next to its load and its same-run baseline. Targets at "
        "a size this run did not reach say so instead of met or not met.",
        "",
        "| benchmark | figure | target | verdict | size | machine | date (UTC) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for outcome in outcomes:
        where = (
            f"{machine.cores} cores, {machine.ram_gib:.0f} GiB; load "
            f"{_load(outcome.load_before)} -> {_load(outcome.load_after)}"
        )
        when = outcome.started.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        for row in outcome_rows(outcome):
            cells = (row.benchmark, row.figure, row.target, row.verdict, row.size, where, when)
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    total = sum(o.seconds for o in outcomes)
    lines += ["", f"The run took {total / 60:.1f} minutes.", "", END]
    return "\n".join(lines) + "\n"


def replace_section(document: str, section: str) -> str:
    """``document`` with its generated section replaced by ``section``; without one yet, the
    section goes before the first ``## `` heading (after the file's introduction)."""
    begin, end = document.find(BEGIN), document.find(END)
    if begin != -1 and end > begin:
        after = end + len(END)
        if document[after : after + 1] == "\n":
            after += 1
        return document[:begin] + section + document[after:]
    if begin != -1 or end != -1:
        raise ValueError("docs/benchmarks.md has only one of the generated section's markers")
    heading = document.find("\n## ")
    if heading == -1:
        return document.rstrip("\n") + "\n\n" + section
    return document[: heading + 1] + section + "\n" + document[heading + 1 :]


# --- running one benchmark ----------------------------------------------------------------------


def _start_time(pid: int) -> str | None:
    """A process's start time (field 22 of /proc/PID/stat), None when it is gone: with its pid,
    it names the process, so a pid the system gave to someone else since is never signalled."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()[19]


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT first, so the benchmark's own clean-up runs (it stops the gunicorn and Celery it
    started, in sessions of their own, and empties its broker database); then SIGTERM and
    SIGKILL to whatever of its process tree is left, each by its pid."""
    tree = {pid: _start_time(pid) for pid in process_tree(process.pid)}
    process.send_signal(signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=INTERRUPT_GRACE)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = [pid for pid, born in tree.items() if born and _start_time(pid) == born]
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        if alive:
            time.sleep(5)
    if process.poll() is None:
        process.wait(timeout=10)


def run_one(bench: Bench, *, budget: float, folder: Path) -> Outcome:
    started, before = datetime.now(UTC), os.getloadavg()
    clock = time.monotonic()
    figures_path = folder / f"{bench.key}.json"
    log_path = folder / f"{bench.key}.log"
    argv = [sys.executable, str(REPO / bench.script), *bench.argv, "--json", str(figures_path)]
    print(f"== {bench.title}: {' '.join(argv[1:])} (budget {budget:,.0f} s)", flush=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own scripts, our own arguments
            argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        try:
            code = process.wait(timeout=budget)
            status = "ok" if code == 0 else "failed"
        except subprocess.TimeoutExpired:
            _stop(process)
            code, status = None, "overran"
    seconds = time.monotonic() - clock
    figures = None
    detail = ""
    if status == "overran" and figures_path.exists():
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(figures_path.read_text())
            figures = loaded if isinstance(loaded, dict) else None
    if status == "ok":
        try:
            loaded = json.loads(figures_path.read_text())
            figures = loaded if isinstance(loaded, dict) else None
        except (OSError, ValueError) as error:
            status, detail = "failed", f"no figures written: {error}"
    elif status == "failed":
        tail = [line for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
        detail = f"exit {code}: {tail[-1].strip()[:200] if tail else 'no output'}"
    outcome = Outcome(
        key=bench.key,
        status=status,
        figures=figures,
        started=started,
        seconds=budget if status == "overran" else seconds,
        load_before=before,
        load_after=os.getloadavg(),
        detail=detail,
    )
    print(f"   {status} in {seconds:,.0f} s; output: {log_path}", flush=True)
    return outcome


def budgets(benches: list[Bench], total: float) -> list[float]:
    """Each benchmark's own budget, scaled down together when they add up to more than
    ``total`` (a run of a few of them keeps their full budgets)."""
    wanted = sum(b.budget for b in benches)
    scale = min(1.0, total / wanted) if wanted else 1.0
    return [b.budget * scale for b in benches]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", help="comma-separated: " + ", ".join(BENCHES_BY_KEY) + " (default: all)"
    )
    parser.add_argument(
        "--total-budget", type=float, default=TOTAL_BUDGET, help="seconds for all of them"
    )
    parser.add_argument("--doc", type=Path, default=DOC, help="the file the table goes into")
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="print the table only (the default with --only: a few rows would replace them all)",
    )
    parser.add_argument("--write", action="store_true", help="with --only: write it anyway")
    args = parser.parse_args()
    chosen = list(BENCHES)
    if args.only:
        unknown = set(args.only.split(",")) - set(BENCHES_BY_KEY)
        if unknown:
            parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
        chosen = [b for b in BENCHES if b.key in args.only.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="bench-all-"))
    machine = Machine.here()
    deadline = time.monotonic() + args.total_budget
    outcomes = []
    for bench, budget in zip(chosen, budgets(chosen, args.total_budget), strict=True):
        budget = min(budget, deadline - time.monotonic())
        if budget < MIN_BUDGET:
            load = os.getloadavg()
            outcomes.append(
                Outcome(bench.key, "skipped", None, datetime.now(UTC), 0.0, load, load,
                        detail="not started: the run's time budget was spent")
            )  # fmt: skip
            continue
        outcomes.append(run_one(bench, budget=budget, folder=folder))
    section = render(outcomes, machine)
    print()
    print(section)
    if not args.no_write and (args.write or not args.only):
        args.doc.write_text(replace_section(args.doc.read_text(), section))
        print(f"written to {args.doc}")
    print(f"each benchmark's output and figures: {folder}")


if __name__ == "__main__":
    main()
