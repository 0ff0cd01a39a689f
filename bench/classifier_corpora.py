"""Two corpora compared in one run: does a round of new corpus lines move the classifiers?

Each corpus given with --corpus (the first is the baseline, e.g. main's corpus from `git archive`)
is trained with the shipped `Params`. Two modes:

- validation (default): the training split (held-out groups removed) is cut again by each --salt
  into a fit part and a validation part, as bench/classifier_errors.py cuts it; the held-out groups
  are never scored. Printed per corpus and salt: macro F1 on the validation groups that exist in
  the baseline corpus (a fixed set: the fair comparison) and on the corpus's whole validation cut.
- --held-out: trained on the training split; scored once on the held-out groups that exist in the
  baseline corpus, on the corpus's whole held-out split and on its unseen set.

Run: .venv/bin/python bench/classifier_corpora.py --corpus MAIN/policies/ml/corpus
     --corpus policies/ml/corpus [--salt validation --salt v2] [--held-out] [--json]
(no database; one training per corpus and salt, a minute or more each on this machine).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

from policies.detectors.findings import ML_CATEGORIES  # noqa: E402
from policies.ml import corpus, evaluate  # noqa: E402
from policies.ml.corpus import Example  # noqa: E402
from policies.ml.model import Params, TextModel, train  # noqa: E402


def summary(model: TextModel, examples: Sequence[Example]) -> dict[str, object]:
    """The report's figures a reader compares: macro F1, each category's F1 and F1 per language,
    and the false-positive shares on hard negatives and ordinary chat."""
    report = evaluate.report(model, examples)
    if not report.get("examples"):
        return {"examples": 0}
    categories = report["categories"]
    hard = report["hard_negative_fpr"]
    ordinary = report["ordinary_fpr"]
    assert isinstance(categories, dict) and isinstance(hard, dict) and isinstance(ordinary, dict)
    return {
        "examples": report["examples"],
        "macro_f1": report["macro_f1"],
        "f1": {c: f["f1"] for c, f in categories.items()},
        "f1_by_language": {
            c: {lang: v["f1"] for lang, v in f["by_language"].items()}
            for c, f in categories.items()
        },
        "hard_negatives_flagged": {k: v["flagged_share"] for k, v in hard.items()},
        "hard_negatives": hard["all"]["messages"],
        "ordinary_flagged": ordinary["flagged_share"],
        "ordinary": ordinary["messages"],
    }


def line(name: str, figures: dict[str, object]) -> str:
    if not figures.get("examples"):
        return f"  {name}: no lines"
    f1 = figures["f1"]
    hard = figures["hard_negatives_flagged"]
    assert isinstance(f1, dict) and isinstance(hard, dict)
    cells = " ".join(f"{c} {f1[c]:.2f}" for c in f1)
    return (
        f"  {name}: {figures['examples']} lines, macro F1 {figures['macro_f1']:.3f} | {cells} | "
        f"hard neg. flagged {hard['all']:.1%} of {figures['hard_negatives']}, ordinary "
        f"{figures['ordinary_flagged']:.1%} of {figures['ordinary']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, action="append", required=True)
    parser.add_argument("--salt", action="append", help="validation cuts (default: validation)")
    parser.add_argument("--held-out", action="store_true", help="score the held-out groups once")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    baseline_groups = {e.group for e in corpus.load(args.corpus[0], corpus.TRAIN)}
    results: dict[str, object] = {}
    for root in args.corpus:
        examples = corpus.load(root, corpus.TRAIN)
        training_split, held_out = evaluate.split(examples)
        cuts = ["held-out"] if args.held_out else (args.salt or ["validation"])
        for cut in cuts:
            started = time.perf_counter()
            if args.held_out:
                fit, scored = training_split, held_out
            else:
                fit, scored = evaluate.split(training_split, salt=cut)
            model, _ = train(fit, ML_CATEGORIES, Params())
            fixed = [e for e in scored if e.group in baseline_groups]
            figures = {
                "fit_lines": len(fit),
                "baseline_groups": summary(model, fixed),
                "all": summary(model, scored),
            }
            if args.held_out:
                figures["unseen"] = summary(model, corpus.load(root, corpus.UNSEEN))
            results[f"{root}|{cut}"] = figures
            print(f"{root} [{cut}] fit {len(fit)} lines, {time.perf_counter() - started:.0f} s")
            for name in ("baseline_groups", "all", "unseen"):
                if name in figures:
                    print(line(name, figures[name]))  # type: ignore[arg-type]
            sys.stdout.flush()
    if args.json:
        print(json.dumps(results, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
