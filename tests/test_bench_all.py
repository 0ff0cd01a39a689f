"""`make bench` (bench/all.py): the table it writes into docs/benchmarks.md, from canned
figures (the real benchmarks take 15 minutes and never run in the suite), and the `--help` of
every script it runs (each imports and parses its options, and offers `--json`)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import all as bench_all

REPO = Path(__file__).resolve().parent.parent
MACHINE = bench_all.Machine(cores=2, ram_gib=23.5)
WHEN = datetime(2026, 12, 7, 2, 30, tzinfo=UTC)

CANNED: dict[str, dict[str, object]] = {
    "webhook": {
        "offered_rate": 1000.0,
        "duration_s": 60.0,
        "repeats": 1,
        "achieved_rate": 998.4,
        "p50_ms": 4.2,
        "p99_ms": 61.7,
        "errors": 0,
        "baseline_insert_rate": 1412.0,
        "ratio_to_baseline": 0.707,
        "exactly_once": None,
        "target": "1,000/s for 60 s, p99 < 100 ms",
        "target_met": True,
    },
    "pipeline": {
        "backlog": 1500,
        "repeats": 1,
        "baseline_rate": 713.0,
        "packs_rate": 590.0,
        "exactly_once": True,
        "target": ">= 600/s with scanning",
        "target_met": False,
        "open_loop": {
            "rate": 100.0,
            "duration_s": 30.0,
            "acknowledged": 3000,
            "sent": 3000,
            "high_p50": 0.54,
            "high_p95": 1.02,
            "high_seen": 40,
            "source": "commit",
            "poll_high_p95": 1.31,
            "queue_p95": 1.04,
            "hit_p95": 0.9,
            "scan_p95": 0.8,
        },
    },
    "detection": {
        "messages": 5000,
        "runs": 1,
        "policies": 14,
        "whole_per_cpu_second": 7742.0,
        "parts": {
            "ML classifiers": {"per_cpu_second": 20000.0, "share": 0.37},
            "personal data": {"per_cpu_second": 27000.0, "share": 0.28},
            "ML scores, fast path": {"per_cpu_second": 90000.0, "share": 0.09},
        },
        "target": ">= 10,000 messages per CPU second per core",
        "target_met": False,
    },
    "pii": {
        "messages": 3200,
        "ours_per_second": 9310.0,
        "presidio_per_second": 125.0,
        "ratio_to_presidio": 74.5,
        "shared_types_f1": 0.991,
        "presidio_shared_types_f1": {"0.4": 0.789, "0.5": 0.785},
        "target": "at least as accurate as Presidio on its types, >= 10x faster",
        "target_met": True,
    },
    "search": {
        "rows": [
            {
                "profile": "firm",
                "messages": 250000,
                "search": "keyword + month + employee",
                "hits_p50": 0,
                "p50_ms": 27.0,
                "p95_ms": 48.0,
                "baseline_p95_ms": 10.0,
            },
            {
                "profile": "firm",
                "messages": 250000,
                "search": "proximity + month + employee",
                "p95_ms": 21.0,
            },
        ],
        "reused": {},
        "target": "keyword + 30 days + employee p95 < 300 ms at 10,000,000 messages",
    },
    "export": {
        "messages": 20000,
        "seconds": 11.0,
        "per_second": 1818.0,
        "parts": 2,
        "peak_rss_mb": 320.0,
        "coordinator_peak_rss_mb": 180.0,
        "bag_mb": 23.1,
        "target": "1,000,000 messages in under 10 minutes (1,667/s), peak memory < 500 MB",
        "target_met": None,
        "rate_and_memory_met": True,
    },
    "alerts": {
        "alerts": 1_000_000,
        "reused": True,
        "baseline_p95_ms": 3.1,
        "queue_worst_p95_ms": 250.0,
        "queue_worst_filters": "severity low",
        "dashboard_sum_p95_ms": {"last 30 days by day": 300.0, "last year by week": 800.0},
        "target": "queue first page p95 < 200 ms with any filters, dashboard < 500 ms",
        "target_met": False,
    },
}


def outcome(key: str, status: str = "ok", **changes: object) -> bench_all.Outcome:
    fields: dict[str, object] = {
        "key": key,
        "status": status,
        "figures": CANNED[key] if status == "ok" else None,
        "started": WHEN,
        "seconds": 42.0,
        "load_before": (3.0, 2.5, 2.0),
        "load_after": (4.25, 3.0, 2.0),
    }
    fields.update(changes)
    return bench_all.Outcome(**fields)  # type: ignore[arg-type]


def table_rows(section: str) -> list[list[str]]:
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[1:]]


def test_every_row_states_figure_target_verdict_size_machine_and_date() -> None:
    section = bench_all.render([outcome(key) for key in CANNED], MACHINE)
    rows = {row[0]: row for row in table_rows(section)}
    assert len(rows) == 8  # the pipeline gives two: end to end and processing
    for row in rows.values():
        assert len(row) == 7
        assert row[5] == "2 cores, 24 GiB; load 3.0 / 2.5 / 2.0 -> 4.2 / 3.0 / 2.0"
        assert row[6] == "2026-12-07 02:30"
        assert row[2] and row[4]  # a target and a size on every measured row

    webhook = rows["Webhook acceptance (bench/webhook_acceptance.py)"]
    assert "998 signed deliveries/s" in webhook[1] and "p99 62 ms" in webhook[1]
    assert "INSERT loop = 0.71" in webhook[1] and "exactly-once not checked" in webhook[1]
    assert webhook[3] == "met"
    end_to_end = rows["End to end, webhook -> alert (bench/pipeline.py, open loop)"]
    assert "p95 1.02 s" in end_to_end[1] and end_to_end[3] == "met"
    # The headline is the database's own timestamps; the observer's polls stand beside it.
    assert "from the alert rows' commit times" in end_to_end[1]
    assert "polls saw them at p95 1.31 s" in end_to_end[1]
    assert rows["Processing behind the webhook (bench/pipeline.py, backlog)"][3] == "not met"
    detectors = rows["Detectors, the whole set (bench/detection.py)"]
    # Each detector's share; the ML scoring comparison is not a detector.
    assert "ML classifiers 37%, personal data 28%" in detectors[1]
    assert "fast path" not in detectors[1]
    assert "74.5x" in rows["Personal data against Presidio (bench/pii.py)"][1]
    search = rows["Archive search (bench/archive_search.py)"]
    assert "p95 48 ms" in search[1] and "proximity" not in search[1]
    assert search[3] == "not shown at this size (under 300 ms here)"
    assert search[4].startswith("250,000 messages") and "generated in this run" in search[4]
    export = rows["Export (bench/export.py, every format)"]
    assert "1,818 messages/s" in export[1] and "320 MB" in export[1]
    assert export[3] == "not shown at this size (rate and memory within it here)"
    alerts = rows["Alert queue (bench/alerts_scale.py)"]
    assert "250 ms" in alerts[1] and "severity low" in alerts[1] and "300 ms" in alerts[1]
    assert alerts[3] == "not met" and "reused" in alerts[4]


def test_search_at_ten_million_reused_gives_a_verdict() -> None:
    figures = dict(CANNED["search"])
    figures["rows"] = [dict(figures["rows"][0], messages=10_000_000)]  # type: ignore[index]
    figures["reused"] = {"firm": 10_000_000}
    (row,) = table_rows(bench_all.render([outcome("search", figures=figures)], MACHINE))
    assert row[3] == "met"
    assert row[4].startswith("10,000,000 messages") and "reused" in row[4]


def test_a_failed_overrun_or_unread_benchmark_gives_a_row_saying_so() -> None:
    outcomes = [
        outcome("webhook", "failed", detail="exit 1: RuntimeError: gunicorn did not answer"),
        outcome("pipeline", "overran", seconds=200.0),
        outcome("detection", "skipped", detail="not started: the run's time budget was spent"),
        outcome("pii", figures={"ours_per_second": "garbled", "presidio_shared_types_f1": 3}),
        outcome("search", figures={"rows": []}),
    ]
    rows = table_rows(bench_all.render(outcomes, MACHINE))
    assert [row[3] for row in rows] == [
        "not measured",
        "not measured",
        "not measured",
        "not shown at this size",  # figures of the wrong type read as n/a, not a crash
        "not measured",
    ]
    assert "the run failed (exit 1: RuntimeError: gunicorn did not answer)" in rows[0][1]
    assert "stopped after its budget of 200 s" in rows[1][1]
    assert "time budget was spent" in rows[2][1]
    assert rows[3][1].startswith("n/a messages/s per core") and "Presidio n/a" in rows[3][1]
    assert "gave no search figures" in rows[4][1]
    # Rows without figures still state the target, the size asked for, machine and date.
    assert all(row[2] and row[4] and row[5].startswith("2 cores") and row[6] for row in rows)
    # A pipe in a failure's text cannot break the table.
    piped = outcome("export", "failed", detail="exit 2: a | b")
    (row,) = table_rows(bench_all.render([piped], MACHINE).replace("\\|", "/"))
    assert "a / b" in row[1]


def test_an_overrun_benchmark_shows_the_figures_it_wrote_marked_as_partial() -> None:
    partial = {
        "backlog": 1500,
        "repeats": 1,
        "baseline_rate": 87.0,
        "packs_rate": 67.0,
        "exactly_once": None,
        "partial": True,
        "target_met": False,
    }
    stopped = outcome("pipeline", "overran", seconds=200.0, figures=partial)
    (row,) = table_rows(bench_all.render([stopped], MACHINE))
    assert row[0] == "Processing behind the webhook (bench/pipeline.py, backlog)"
    assert "67 deliveries/s with the demo packs" in row[1] and "not checked" in row[1]
    assert row[3] == "not met (stopped after its budget of 200 s; figures so far)"


def test_the_section_is_replaced_and_the_rest_of_the_file_untouched() -> None:
    document = "# Benchmarks\n\nIntro.\n\n## Consent gate\n\nText.\n"
    first = bench_all.render([outcome("export")], MACHINE)
    written = bench_all.replace_section(document, first)
    # Without markers yet: after the introduction, before the first section.
    assert written.startswith("# Benchmarks\n\nIntro.\n\n" + bench_all.BEGIN)
    assert written.endswith(bench_all.END + "\n\n## Consent gate\n\nText.\n")
    second = bench_all.render([outcome("pii")], MACHINE)
    rewritten = bench_all.replace_section(written, second)
    assert rewritten == written.replace(first, second)
    assert rewritten.count(bench_all.BEGIN) == 1 and "bench/export.py" not in rewritten
    assert bench_all.replace_section(rewritten, second) == rewritten


def test_the_budgets_fit_fifteen_minutes() -> None:
    benches = list(bench_all.BENCHES)
    assert sum(bench_all.budgets(benches, bench_all.TOTAL_BUDGET)) <= 15 * 60 + 1e-6
    assert bench_all.budgets(benches[:1], bench_all.TOTAL_BUDGET) == [benches[0].budget]
    assert {b.key for b in benches} == set(CANNED) == set(bench_all.ASKED)


def test_every_script_answers_help_and_offers_json() -> None:
    scripts = [REPO / "bench" / "all.py"] + [REPO / b.script for b in bench_all.BENCHES]
    # All at once: each imports Django and the application, seconds apiece on a loaded machine.
    running = {
        script: subprocess.Popen(
            [sys.executable, str(script), "--help"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for script in scripts
    }
    for script, process in running.items():
        out, _ = process.communicate(timeout=300)
        assert process.returncode == 0, f"{script.name} --help failed:\n{out}"
        assert "usage:" in out
        if script.name != "all.py":
            assert "--json PATH" in out, f"{script.name} offers no --json"
