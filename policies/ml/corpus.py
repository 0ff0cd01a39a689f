"""The training corpus: JSON Lines files under `policies/ml/corpus/`, loaded and checked.

One object per line: `{"text", "lang", "labels", "group", "kind"}` (the format the corpus authors
share: policies/ml/corpus/README.md). Files
under `train/` train and evaluate the models; files under `unseen/` only evaluate (phrasings the
training authors did not write). A `group` is one phrasing with its variants: evaluation holds out
whole groups, so a group lives in one file only.

Run `python -m policies.ml.corpus` to check every file and print the counts per category,
language and kind (what the corpus authors use while writing).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from policies.detectors.findings import ML_CATEGORIES

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
LANGUAGES: tuple[str, ...] = ("en", "pt", "es", "hinglish")
KINDS: tuple[str, ...] = ("positive", "hard_negative", "ordinary")
KEYS = frozenset({"text", "lang", "labels", "group", "kind"})
TRAIN = "train"
UNSEEN = "unseen"
# What each author owes per category they own and per language (the corpus brief).
MIN_POSITIVES = 80
MIN_HARD_NEGATIVES = 50


class CorpusError(ValueError):
    """The corpus breaks a rule of its format; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    lang: str
    labels: tuple[str, ...]
    group: str
    kind: str
    source: str  # "train/secrecy.jsonl:12": where a reader finds it


def parse_line(line: str, *, where: str) -> Example:
    """One line of a corpus file, or CorpusError saying what is wrong with it."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{where}: not JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: a line holds one JSON object")
    if set(raw) != KEYS:
        missing, extra = sorted(KEYS - set(raw)), sorted(set(raw) - KEYS)
        raise CorpusError(
            f"{where}: keys must be {sorted(KEYS)} (missing {missing}, extra {extra})"
        )
    text, lang, labels, group, kind = (raw[k] for k in ("text", "lang", "labels", "group", "kind"))
    if not isinstance(text, str) or not text.strip():
        raise CorpusError(f"{where}: text must be a non-empty string")
    if lang not in LANGUAGES:
        raise CorpusError(f"{where}: lang {lang!r} is not one of {list(LANGUAGES)}")
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise CorpusError(f"{where}: labels must be a list of category slugs")
    unknown = [label for label in labels if label not in ML_CATEGORIES]
    if unknown:
        raise CorpusError(f"{where}: unknown labels {unknown} (slugs: {list(ML_CATEGORIES)})")
    if len(set(labels)) != len(labels):
        raise CorpusError(f"{where}: a label is repeated")
    if not isinstance(group, str) or not group.strip():
        raise CorpusError(f"{where}: group must be a non-empty string")
    if kind not in KINDS:
        raise CorpusError(f"{where}: kind {kind!r} is not one of {list(KINDS)}")
    if (kind == "positive") != bool(labels):
        raise CorpusError(f"{where}: a positive has labels; a {kind} has none")
    return Example(text, lang, tuple(sorted(labels)), group, kind, where)


def read_file(path: Path, *, name: str) -> list[Example]:
    """Every line of one file (`name` is how messages call it, e.g. `train/secrecy.jsonl`)."""
    examples = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                examples.append(parse_line(line, where=f"{name}:{number}"))
    return examples


def corpus_files(root: Path = CORPUS_DIR, part: str = TRAIN) -> list[Path]:
    return sorted((root / part).glob("*.jsonl"))


def load(root: Path = CORPUS_DIR, part: str = TRAIN) -> list[Example]:
    """Every example of one part (`train` or `unseen`), in file order; checked (CorpusError)."""
    examples: list[Example] = []
    for path in corpus_files(root, part):
        examples.extend(read_file(path, name=f"{part}/{path.name}"))
    problems = check_groups(examples)
    if problems:
        raise CorpusError("; ".join(problems[:10]))
    return examples


def fold_for_duplicates(text: str) -> str:
    return " ".join(text.casefold().split())


def check_groups(examples: Sequence[Example]) -> list[str]:
    """Rules across lines: a group stays in one file; one text is in one group only.

    The same text in two groups would sit on both sides of the held-out split (the score would
    measure memory, not reading), and with two label sets it contradicts itself.
    """
    problems = []
    file_of_group: dict[str, str] = {}
    group_of_text: dict[str, tuple[str, str]] = {}
    for example in examples:
        file = example.source.rsplit(":", 1)[0]
        owner = file_of_group.setdefault(example.group, file)
        if owner != file:
            problems.append(f"{example.source}: group {example.group!r} is also used in {owner}")
        key = fold_for_duplicates(example.text)
        seen = group_of_text.setdefault(key, (example.group, example.source))
        if seen[0] != example.group:
            problems.append(f"{example.source}: same text as {seen[1]} in another group")
    return problems


def check_unseen(train: Sequence[Example], unseen: Sequence[Example]) -> list[str]:
    """An unseen example may not repeat a training text (it would not be unseen)."""
    known = {fold_for_duplicates(example.text) for example in train}
    return [
        f"{example.source}: the same text is in the training files"
        for example in unseen
        if fold_for_duplicates(example.text) in known
    ]


def data_hash(examples: Iterable[Example]) -> str:
    """sha256 over the sorted corpus lines (canonical JSON), so file order does not matter."""
    lines = sorted(
        json.dumps(
            {"text": e.text, "lang": e.lang, "labels": list(e.labels), "group": e.group},
            ensure_ascii=False,
            sort_keys=True,
        )
        + "\t"
        + e.kind
        for e in examples
    )
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def counts(examples: Iterable[Example]) -> Counter[tuple[str, str, str]]:
    """(category, lang, kind) -> lines; lines without labels count under category '-'."""
    tally: Counter[tuple[str, str, str]] = Counter()
    for example in examples:
        for category in example.labels or ("-",):
            tally[category, example.lang, example.kind] += 1
    return tally


def shortfalls(examples: Iterable[Example]) -> list[str]:
    """Categories with some positives in a language but fewer than the minimum there."""
    tally = counts(examples)
    out = []
    for category in ML_CATEGORIES:
        for lang in LANGUAGES:
            have = tally[category, lang, "positive"]
            if 0 < have < MIN_POSITIVES:
                out.append(f"{category}/{lang}: {have} positives (minimum {MIN_POSITIVES})")
    return out


def report(root: Path = CORPUS_DIR) -> str:
    """The counts table and every problem found, as text for a terminal."""
    lines = []
    parts: dict[str, list[Example]] = {}
    for part in (TRAIN, UNSEEN):
        try:
            parts[part] = load(root, part)
        except CorpusError as exc:
            lines.append(f"PROBLEM in {part}: {exc}")
            parts[part] = []
    lines.extend(f"PROBLEM: {p}" for p in check_unseen(parts[TRAIN], parts[UNSEEN]))
    for part, examples in parts.items():
        tally = counts(examples)
        lines.append(f"\n{part}: {len(examples)} lines")
        lines.append(f"{'category':<12} " + " ".join(f"{lang:>22}" for lang in LANGUAGES))
        for category in (*ML_CATEGORIES, "-"):
            cells = []
            for lang in LANGUAGES:
                pos, hard, ordinary = (tally[category, lang, kind] for kind in KINDS)
                cells.append(f"{pos:>6}p {hard:>5}h {ordinary:>5}o")
            lines.append(f"{category:<12} " + " ".join(cells))
        if part == TRAIN:
            lines.extend(f"SHORT: {s}" for s in shortfalls(examples))
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS_DIR))
