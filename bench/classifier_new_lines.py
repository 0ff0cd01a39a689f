"""What new corpus files are worth: the classifiers trained with and without them (issue 11).

A corpus round adds files under policies/ml/corpus/train/. This trains the shipped model
(`Params()`) twice in one run, on the corpus without the files matching --new (main's corpus)
and with them, and scores both on the same lines:

- validation (default): the training split (held-out groups removed) cut again by each --salt;
  both models are fit on the same cut's fit part (the second without the new files) and scored
  on (a) the validation lines of the old files (the same set for both) and (b) all validation
  lines. The held-out groups are never scored here.
- --held-out: once, at the end of a round: the held-out groups (the empty salt) of (a) the old
  files and (b) all files, and the unseen set, as `bench/classifier.py` reports them.

Run: .venv/bin/python bench/classifier_new_lines.py --new '*_q5a*' [--salt validation v2 v3]
     .venv/bin/python bench/classifier_new_lines.py --new '*_q5a*' --held-out
No database; two trainings per salt (about a minute each on a quiet machine).
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

from policies.detectors.findings import ML_CATEGORIES  # noqa: E402
from policies.ml import corpus, evaluate  # noqa: E402
from policies.ml.corpus import Example  # noqa: E402
from policies.ml.model import Params, TextModel, train  # noqa: E402


def is_new(example: Example, pattern: str) -> bool:
    # `source` is "train/<file>:<line>"
    return fnmatch.fnmatch(example.source.rsplit(":", 1)[0].split("/")[-1], pattern)


def summary(label: str, model: TextModel, lines: Sequence[Example]) -> str:
    report = evaluate.report(model, lines)
    categories = report["categories"]
    assert isinstance(categories, dict)
    cells = " | ".join(f"{categories[c]['f1']:.3f}" for c in model.categories)
    hard, ordinary = report["hard_negative_fpr"], report["ordinary_fpr"]
    assert isinstance(hard, dict) and isinstance(ordinary, dict)
    return (
        f"| {label} | {report['examples']} | {report['macro_f1']:.3f} | {cells} | "
        f"{hard['all']['flagged_share']:.1%} of {hard['all']['messages']} | "
        f"{ordinary['flagged_share']:.1%} of {ordinary['messages']} |"
    )


def by_language(label: str, model: TextModel, lines: Sequence[Example]) -> None:
    report = evaluate.report(model, lines)
    categories, hard = report["categories"], report["hard_negative_fpr"]
    assert isinstance(categories, dict) and isinstance(hard, dict)
    print(f"{label}, F1 by language (en / pt / es / hinglish):")
    for category in model.categories:
        langs = categories[category]["by_language"]
        cells = " / ".join(
            f"{langs[lang]['f1']:.2f}" if lang in langs else "-" for lang in corpus.LANGUAGES
        )
        print(f"  {category:<12} {cells}")
    cells = " / ".join(f"{hard[lang]['flagged_share']:.0%}" for lang in corpus.LANGUAGES)
    print(f"  hard negatives flagged: {cells}")


def header(categories: Sequence[str]) -> str:
    names = " | ".join(categories)
    rule = "|---" * (len(categories) + 5) + "|"
    return f"| model on lines | lines | macro F1 | {names} | hard neg. flagged | ordinary |\n{rule}"


def compare(
    old_fit: list[Example],
    all_fit: list[Example],
    scored: dict[str, list[Example]],
    languages: bool = False,
) -> None:
    print(f"fit: without the new files {len(old_fit)} lines, with them {len(all_fit)}")
    before, _ = train(old_fit, ML_CATEGORIES, Params())
    after, _ = train(all_fit, ML_CATEGORIES, Params())
    print(header(before.categories))
    for name, lines in scored.items():
        print(summary(f"main corpus on {name}", before, lines))
        print(summary(f"with new files on {name}", after, lines))
    if languages:
        for name, lines in scored.items():
            by_language(f"main corpus on {name}", before, lines)
            by_language(f"with new files on {name}", after, lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--new", required=True, help="file name pattern of the new files")
    parser.add_argument("--salt", nargs="+", default=["validation"])
    parser.add_argument("--held-out", action="store_true", help="score the held-out groups")
    parser.add_argument("--corpus", type=Path, default=corpus.CORPUS_DIR)
    args = parser.parse_args()

    examples = corpus.load(args.corpus, corpus.TRAIN)
    new = [e for e in examples if is_new(e, args.new)]
    print(f"{len(new)} lines in files matching {args.new!r}, {len(examples)} in all")
    training_split, held_out = evaluate.split(examples)
    if args.held_out:
        unseen = corpus.load(args.corpus, corpus.UNSEEN)
        compare(
            [e for e in training_split if not is_new(e, args.new)],
            training_split,
            {
                "held-out, old files": [e for e in held_out if not is_new(e, args.new)],
                "held-out, all": held_out,
                "unseen": unseen,
            },
            languages=True,
        )
        return
    for salt in args.salt:
        fit, validation = evaluate.split(training_split, salt=salt)
        print(f"\nvalidation cut {salt!r}")
        compare(
            [e for e in fit if not is_new(e, args.new)],
            fit,
            {
                "validation, old files": [e for e in validation if not is_new(e, args.new)],
                "validation, all": validation,
            },
        )


if __name__ == "__main__":
    main()
