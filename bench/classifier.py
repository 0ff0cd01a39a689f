"""Benchmark: the ML classifiers (issue 11, detector 4; policies/ml, policies/detectors/classifier).

Throughput, on one core (this process, one thread): the shipped corpus's texts (train and unseen,
every language, positives, hard negatives and ordinary chat) cycled into 20,000 messages and
scored in batches of 500 by ``classify`` (vectorize, score every category, explain what fired);
messages/s per batch, median over the batches. In the same run, the same batches through:
the fold alone (the baseline: touching each message once in Python), scikit-learn's own
vectorizers (the reference path), the fast path that replaced them (the same matrix; its share
of ``classify``), and ``predict_proba`` (scores without explanations).

Quality: the metrics of the model trained here (train_from_corpus: held-out whole groups,
thresholds per category; the unseen set reported on its own).

Run: .venv/bin/python bench/classifier.py [--messages 20000] [--batch 500] [--json]
     [--concept-scale 0]   (0: without the concept block, i.e. main's model before format 5)
Nothing here needs the database; the model is trained from policies/ml/corpus/ in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# One core: BLAS and friends must not borrow the other one behind our back.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

from policies.detectors import classifier  # noqa: E402
from policies.ml import corpus  # noqa: E402
from policies.ml.model import Params  # noqa: E402
from policies.ml.text import fold  # noqa: E402
from policies.ml.training import train_from_corpus  # noqa: E402


def median_rate(batches: Sequence[Sequence[str]], work: Callable[[Sequence[str]], Any]) -> float:
    rates = []
    for batch in batches:
        # CPU time of this process, not the wall clock: the machine is shared, and per core is
        # what the target counts.
        started = time.process_time()
        work(batch)
        rates.append(len(batch) / max(time.process_time() - started, 1e-9))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--json", action="store_true", help="print the quality metrics in full")
    parser.add_argument("--corpus", type=Path, default=corpus.CORPUS_DIR)
    parser.add_argument(
        "--concept-scale",
        type=float,
        default=Params().concept_scale,
        help="the concept block's weight (0: the model without it, as before format 5)",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    params = replace(Params(), concept_scale=args.concept_scale)
    trained = train_from_corpus(args.corpus, params)
    print(
        f"trained in {time.perf_counter() - started:.1f} s (wall clock); "
        f"data sha256 {trained.data_hash[:12]}; categories {', '.join(trained.model.categories)}"
    )
    active = classifier.ActiveModel(trained.model, "bench")

    texts = [
        e.text for part in (corpus.TRAIN, corpus.UNSEEN) for e in corpus.load(args.corpus, part)
    ]
    messages = [texts[i % len(texts)] for i in range(args.messages)]
    batches = [messages[i : i + args.batch] for i in range(0, len(messages), args.batch)]
    mean_chars = statistics.mean(len(t) for t in messages)
    classifier.classify(batches[0], model=active)  # warm-up: first-call allocations

    baseline = median_rate(batches, lambda batch: [fold(t) for t in batch])
    reference = median_rate(batches, trained.model.reference_features)
    vectorize = median_rate(batches, trained.model.features)
    proba = median_rate(batches, trained.model.predict_proba)
    full = median_rate(batches, lambda batch: classifier.classify(batch, model=active))
    verdicts = classifier.classify(texts, model=active)
    flagged = sum(bool(f) for f in verdicts)
    # Real traffic is mostly quiet (the budget: under 1 % alerted), and explanations are
    # built only for what fired: the same measure over the corpus texts nothing flags.
    quiet = [t for t, f in zip(texts, verdicts, strict=True) if not f]
    quiet_messages = [quiet[i % len(quiet)] for i in range(args.messages)]
    quiet_batches = [
        quiet_messages[i : i + args.batch] for i in range(0, len(quiet_messages), args.batch)
    ]
    quiet_full = median_rate(quiet_batches, lambda b: classifier.classify(b, model=active))

    print(
        f"\n{args.messages:,} messages (mean {mean_chars:.0f} chars), batches of {args.batch}, "
        f"median messages per CPU second (one core):"
    )
    print("| step | msg/s | share of classify |")
    print("|---|---|---|")
    print(f"| baseline: fold only | {baseline:,.0f} | {full / baseline:.0%} |")
    params = trained.model.params
    blocks = f"char_wb {params.ngram_min}..{params.ngram_max} + words 1..{params.word_max}"
    if params.concept_scale:
        blocks += f" + concepts x{params.concept_scale}"
    print(
        f"| vectorize, scikit-learn's transform (TF-IDF: {blocks}) | {reference:,.0f} | "
        f"{full / reference:.0%} |"
    )
    print(f"| vectorize, fast path (the same matrix) | {vectorize:,.0f} | {full / vectorize:.0%} |")
    print(
        f"| predict_proba (vectorize + {len(trained.model.categories)} heads + sigmoid) | "
        f"{proba:,.0f} | {full / proba:.0%} |"
    )
    print(f"| classify (+ explanations of what fired) | {full:,.0f} | 100% |")
    print(f"| classify, quiet traffic (texts nothing flags) | {quiet_full:,.0f} | |")
    print(
        f"corpus texts flagged by some category: {flagged / len(texts):.0%} "
        f"(explanations are computed only for those)"
    )

    metrics = trained.metrics
    held, unseen = metrics["held_out"], metrics["unseen"]
    assert isinstance(held, dict) and isinstance(unseen, dict)
    print(
        f"\nQuality, held-out groups ({held['examples']} lines) and unseen set "
        f"({unseen.get('examples', 0)} lines); thresholds chosen per category:"
    )
    print("| category | threshold | held-out P | R | F1 | en | pt | es | hinglish | unseen F1 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for category in trained.model.categories:
        figures = held["categories"][category]
        langs = [figures["by_language"].get(lang, {}).get("f1") for lang in corpus.LANGUAGES]
        unseen_f1 = unseen.get("categories", {}).get(category, {})
        unseen_cell = f"{unseen_f1['f1']:.2f}" if unseen_f1.get("positives") else "-"
        lang_cells = " | ".join("-" if f is None else f"{f:.2f}" for f in langs)
        print(
            f"| {category} | {trained.model.thresholds[category]:.2f} | "
            f"{figures['precision']:.2f} | {figures['recall']:.2f} | {figures['f1']:.2f} | "
            f"{lang_cells} | {unseen_cell} |"
        )
    hard = held["hard_negative_fpr"]
    print(
        f"macro F1 held-out {held['macro_f1']:.3f}"
        + (f", unseen {unseen['macro_f1']:.3f}" if unseen.get("examples") else "")
    )
    print(
        "hard negatives flagged by any category (held-out): "
        + ", ".join(f"{k} {v['flagged_share']:.0%} of {v['messages']}" for k, v in hard.items())
    )
    ordinary = held["ordinary_fpr"]
    print(
        f"ordinary chat flagged (held-out): {ordinary['flagged_share']:.0%} "
        f"of {ordinary['messages']}"
    )
    if unseen.get("examples"):
        uh = unseen["hard_negative_fpr"]["all"]
        print(f"unseen hard negatives flagged: {uh['flagged_share']:.0%} of {uh['messages']}")
    missing = metrics["categories_missing"]
    if missing:
        print(f"not trained (too few positives in the corpus): {', '.join(missing)}")
    if args.json:
        print(json.dumps(metrics, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
