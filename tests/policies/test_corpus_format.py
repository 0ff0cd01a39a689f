"""Every file of the shipped training corpus keeps the shared format (policies/ml/corpus.py).

The corpus authors run this module (or `python -m policies.ml.corpus`) while they write.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies.detectors.findings import ML_CATEGORIES
from policies.ml import corpus
from policies.ml.corpus import CorpusError

TRAIN_FILES = corpus.corpus_files(corpus.CORPUS_DIR, corpus.TRAIN)
UNSEEN_FILES = corpus.corpus_files(corpus.CORPUS_DIR, corpus.UNSEEN)


def test_the_corpus_ships_training_files() -> None:
    assert TRAIN_FILES, "no file under policies/ml/corpus/train/"


@pytest.mark.parametrize(
    "path", TRAIN_FILES + UNSEEN_FILES, ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_every_line_of_every_file_keeps_the_format(path: Path) -> None:
    examples = corpus.read_file(path, name=f"{path.parent.name}/{path.name}")
    assert examples, f"{path.name} is empty"
    assert corpus.check_groups(examples) == []


@pytest.mark.parametrize("part", [corpus.TRAIN, corpus.UNSEEN])
def test_groups_stay_in_one_file_and_a_text_in_one_group(part: str) -> None:
    corpus.load(corpus.CORPUS_DIR, part)  # raises CorpusError naming the lines


def test_the_unseen_set_repeats_no_training_text() -> None:
    train = corpus.load(corpus.CORPUS_DIR, corpus.TRAIN)
    unseen = corpus.load(corpus.CORPUS_DIR, corpus.UNSEEN)
    assert corpus.check_unseen(train, unseen) == []


@pytest.mark.parametrize("category", ML_CATEGORIES)
def test_a_category_written_in_a_language_has_the_minimum_of_positives_there(
    category: str,
) -> None:
    train = corpus.load(corpus.CORPUS_DIR, corpus.TRAIN)
    short = [line for line in corpus.shortfalls(train) if line.startswith(f"{category}/")]
    assert short == []


def _line(**changes: object) -> str:
    base: dict[str, object] = {
        "text": "me chama no telegram",
        "lang": "pt",
        "labels": ["off_channel"],
        "group": "t-pt-1",
        "kind": "positive",
    }
    base.update(changes)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


def test_a_good_line_parses() -> None:
    example = corpus.parse_line(_line(), where="t.jsonl:1")
    assert (example.text, example.lang, example.labels) == (
        "me chama no telegram",
        "pt",
        ("off_channel",),
    )


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("{not json", "not JSON"),
        ("[1]", "one JSON object"),
        (_line(extra=1), "extra"),
        (_line(group=...), "missing"),
        (_line(text="  "), "text"),
        (_line(lang="fr"), "lang"),
        (_line(labels=["spam"]), "unknown labels"),
        (_line(labels="secrecy"), "labels"),
        (_line(labels=["secrecy", "secrecy"]), "repeated"),
        (_line(kind="neutral"), "kind"),
        (_line(kind="hard_negative"), "has none"),
        (_line(labels=[]), "positive has labels"),
    ],
)
def test_a_bad_line_is_refused_with_its_place(line: str, says: str) -> None:
    with pytest.raises(CorpusError, match=says) as caught:
        corpus.parse_line(line, where="t.jsonl:7")
    assert "t.jsonl:7" in str(caught.value)


def test_a_group_in_two_files_and_a_text_in_two_groups_are_reported(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "a.jsonl").write_text(_line(group="g1") + "\n", encoding="utf-8")
    (tmp_path / "train" / "b.jsonl").write_text(
        _line(group="g1", text="other") + "\n" + _line(group="g2", text="Me  chama no Telegram"),
        encoding="utf-8",
    )
    with pytest.raises(CorpusError) as caught:
        corpus.load(tmp_path, corpus.TRAIN)
    assert "also used in train/a.jsonl" in str(caught.value)
    assert "train/b.jsonl:2: same text as train/a.jsonl:1" in str(caught.value)


def test_the_data_hash_ignores_file_order_and_sees_a_changed_label() -> None:
    a = corpus.parse_line(_line(), where="x:1")
    b = corpus.parse_line(_line(text="apaga isso", group="g9", labels=["secrecy"]), where="x:2")
    c = corpus.parse_line(_line(text="apaga isso", group="g9", labels=["off_channel"]), where="x:2")
    assert corpus.data_hash([a, b]) == corpus.data_hash([b, a])
    assert corpus.data_hash([a, b]) != corpus.data_hash([a, c])
