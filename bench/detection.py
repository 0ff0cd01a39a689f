"""Benchmark: the whole detector set as the scan pipeline runs it (issue 11 targets).

Every policy of the five built-in packs through `policies.engine.Engine` (lexicon rules of each
policy, personal data, links, the ML classifiers; text normalized once per batch), in batches of
500 short chat messages, on one core:

1. messages per CPU second of the whole set (median of --runs), and each detector's share
   (each detector timed alone over the same batches);
2. alert volume: the share of messages on which at least one built-in policy fires, on a
   realistic mix of ordinary business chat the classifiers never trained on (the personal-data
   evaluation set's messages without personal data: hard negatives full of numbers, and everyday
   chat, in en/pt/es/Hinglish), and, for comparison, on the corpus's own ordinary lines (which
   the classifiers trained on, so that figure flatters them).

CPU time, not wall time: the machine is shared. Run: ``.venv/bin/python bench/detection.py
[--messages 20000] [--runs 3]`` (no database). Figures: docs/benchmarks.md ("Detection: the
whole set").
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policies.detectors import links, pii  # noqa: E402
from policies.detectors.classifier import active_model, classify  # noqa: E402
from policies.detectors.lexicon import match  # noqa: E402
from policies.detectors.normalize import normalize_batch  # noqa: E402
from policies.engine import Engine, Message, PolicyRun  # noqa: E402
from policies.ml import corpus  # noqa: E402
from policies.packs import packs  # noqa: E402

BATCH = 500


def realistic_mix() -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "tests/policies/data/pii_eval.jsonl").open()]
    return [row["text"] for row in rows if not row["pii"]]


def corpus_ordinary() -> list[str]:
    return [e.text for e in corpus.load() if e.kind == "ordinary"]


def engine() -> Engine:
    runs = [
        PolicyRun(ref=f"{p.slug}:{d['name']}", document=d) for p in packs() for d in p.documents
    ]
    return Engine(runs, classify=classify)


def batches(texts: list[str]) -> list[list[str]]:
    return [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]


def cpu(work) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def alert_rate(scanner: Engine, texts: list[str]) -> tuple[float, Counter[str]]:
    fired: Counter[str] = Counter()
    flagged = 0
    for chunk in batches(texts):
        for outcome in scanner.scan([Message(t) for t in chunk]):
            names = [ref for ref, v in outcome.verdicts.items() if v.fired]
            flagged += bool(names)
            fired.update(names)
    return flagged / len(texts), fired


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    mix = realistic_mix()
    texts = (mix * (args.messages // len(mix) + 1))[: args.messages]
    scanner = engine()
    model = active_model().model  # load (or train and cache) the model before timing
    scanner.scan([Message(t) for t in texts[:BATCH]])  # warm caches, compile lexicons

    whole = statistics.median(
        cpu(lambda: [scanner.scan([Message(t) for t in chunk]) for chunk in batches(texts)])
        for _ in range(args.runs)
    )
    lexicons = [scanner._lexicon] if scanner._lexicon is not None else []
    parts = {
        "normalize": lambda c: normalize_batch(c),
        "lexicon rules (one automaton)": lambda c: [
            match(lx, c, normalized=normalize_batch(c)) for lx in lexicons
        ],
        "personal data": lambda c: pii.detect(c),
        "links": lambda c: links.detect(c),
        "ML classifiers": lambda c: classify(c),
        # Scores only (no findings, no explanations), by the vectorizing path in use and by
        # scikit-learn's own transform that it replaced: the speed-up measured under the same load.
        "ML scores, fast path": lambda c: model.predict_proba(c),
        "ML scores, scikit-learn transform": lambda c: model.probabilities(
            model.reference_features(c)
        ),
    }
    shares = {
        name: statistics.median(
            cpu(lambda f=f: [f(chunk) for chunk in batches(texts)]) for _ in range(args.runs)
        )
        for name, f in parts.items()
    }
    print(f"messages: {len(texts):,} (the realistic mix repeated), batches of {BATCH}, one core")
    print(f"policies: {len(scanner.policies)} (five built-in packs)")
    print(f"whole set: {len(texts) / whole:,.0f} messages per CPU second")
    for name, seconds in shares.items():
        print(
            f"  {name:32s} {len(texts) / seconds:>10,.0f} msg/CPU-s alone, "
            f"{100 * seconds / whole:5.1f}% of the whole"
        )
    for label, sample in (
        ("realistic mix, never trained on", mix),
        ("corpus ordinary lines (trained on)", corpus_ordinary()),
    ):
        rate, fired = alert_rate(scanner, sample)
        top = ", ".join(f"{name.split(':', 1)[1]} {count}" for name, count in fired.most_common(4))
        print(f"alert volume, {label}: {100 * rate:.2f}% of {len(sample):,} messages ({top})")


if __name__ == "__main__":
    main()
