"""The ML classifiers (issue 11, detector 4): training, calibration, batch scoring, explanations,
the artifact, and `manage.py train_models`. Trained on a copy of part of the shipped corpus so
the tests stay quick and do not move when corpus files are added."""

from __future__ import annotations

import copy
import json
import logging
import shutil
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from policies.detectors import classifier
from policies.detectors.findings import Finding
from policies.ml import artifact, corpus, evaluate, runtime
from policies.ml.model import Params, train
from policies.ml.training import Trained, train_from_corpus

FILES = [
    "off_channel_en.jsonl",
    "off_channel_pt_es.jsonl",
    "off_channel_hinglish.jsonl",
    "secrecy_en.jsonl",
    "secrecy_pt_es.jsonl",
    "secrecy_hinglish.jsonl",
]


def _copy_corpus(root: Path) -> Path:
    (root / "train").mkdir(parents=True)
    for name in FILES:
        shutil.copy(corpus.CORPUS_DIR / "train" / name, root / "train" / name)
    return root


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def trained(corpus_dir: Path) -> Trained:
    return train_from_corpus(corpus_dir)


@pytest.fixture(scope="module")
def active(trained: Trained) -> classifier.ActiveModel:
    return classifier.ActiveModel(trained.model, "test-model")


def _categories(findings: list[Finding]) -> set[str]:
    return {finding.category for finding in findings}


def test_training_twice_on_the_same_data_gives_the_same_model_and_metrics(
    corpus_dir: Path, trained: Trained
) -> None:
    again = train_from_corpus(corpus_dir)
    assert again.metrics == trained.metrics
    assert again.data_hash == trained.data_hash
    assert np.array_equal(again.model.weights, trained.model.weights)
    assert again.model.thresholds == trained.model.thresholds


def test_the_held_out_split_takes_whole_groups(corpus_dir: Path) -> None:
    examples = corpus.load(corpus_dir)
    train, test = evaluate.split(examples)
    assert test, "nothing held out"
    assert {e.group for e in train}.isdisjoint({e.group for e in test})
    # Translations share a group, so a held-out phrasing is held out in every language.
    pt_es = [e for e in test if e.group.startswith("off_channel_pt_es-")]
    assert {e.lang for e in pt_es} == {"pt", "es"}


def test_metrics_report_each_category_language_and_the_hard_negatives(trained: Trained) -> None:
    held = trained.metrics["held_out"]
    assert isinstance(held, dict)
    assert set(held["categories"]) == {"off_channel", "secrecy"}
    for figures in held["categories"].values():
        assert 0.0 <= figures["f1"] <= 1.0 and figures["positives"] > 0
        assert set(figures["by_language"]) <= set(corpus.LANGUAGES)
        assert figures["by_language"], "no per-language figures"
    assert held["hard_negative_fpr"]["all"]["messages"] > 0
    assert 0.0 < held["macro_f1"] <= 1.0
    assert set(trained.model.thresholds) == {"off_channel", "secrecy"}
    assert all(0.5 <= cut <= 0.95 for cut in trained.model.thresholds.values())
    assert trained.metrics["categories_missing"] == [
        "guarantee",
        "mnpi",
        "bribery",
        "off_label",
        "harassment",
        "complaint",
    ]


def test_probabilities_are_calibrated_scores_in_zero_to_one(trained: Trained) -> None:
    probabilities = trained.model.predict_proba(["text me on signal", "see you at 11"])
    assert probabilities.shape == (2, 2)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    off_channel = trained.model.categories.index("off_channel")
    assert probabilities[0, off_channel] > 0.5 > probabilities[1, off_channel]


@pytest.mark.parametrize(
    ("text", "category", "quoted"),
    [
        ("Me chama no TELEGRAM, aqui não dá 🙏", "off_channel", "TELEGRAM"),
        ("Please text my private cell, this line is recorded", "off_channel", "private cell"),
        ("bhai apne personal number pe call kar, ye wala office ka hai", "off_channel", "personal"),
        ("after reading, delete this chat and don't tell compliance", "secrecy", "delete"),
        ("apaga tudo depois, ninguém pode saber", "secrecy", "ninguém"),
    ],
)
def test_a_risky_message_gets_a_finding_that_quotes_the_words_that_weighed(
    active: classifier.ActiveModel, text: str, category: str, quoted: str
) -> None:
    [findings] = classifier.classify([text], model=active)
    [finding] = [f for f in findings if f.category == category]
    assert finding.detector == "classifier"
    assert finding.score >= active.model.thresholds[category]
    assert finding.explanation.startswith("Reads as ")
    assert f"({finding.score:.2f})" in finding.explanation
    quotes = [text[span.start : span.end] for span in finding.spans]
    assert any(quoted in quote for quote in quotes), quotes
    assert all(f"'{quote}'" in finding.explanation for quote in quotes)
    assert finding.attributes == {"model": "test-model"}


@pytest.mark.parametrize("text", ["wipe the thread pls", "borra el historial"])
def test_a_finding_the_concepts_pushed_names_its_meaning(
    active: classifier.ActiveModel, text: str
) -> None:
    # Short lines whose words the secrecy lines use only a few times: the concept block
    # (erase + record) gives more than a fifth of the push, so the explanation names it.
    [findings] = classifier.classify([text], model=active)
    [finding] = [f for f in findings if f.category == "secrecy"]
    assert "(meaning: deleting or erasing + the record or its trail)" in finding.explanation


@pytest.mark.parametrize(
    "text",
    [
        "weak signal in the lift, will call back in 5",
        "o processamento de sinais atrasou o projeto",
        "borra la caché del navegador y vuelve a entrar al portal",
        "deck bhejne se pehle duplicate slide delete kar dena",
        "thanks, see you tomorrow at the branch",
    ],
)
def test_hard_negatives_and_ordinary_chat_stay_quiet(
    active: classifier.ActiveModel, text: str
) -> None:
    assert classifier.classify([text], model=active) == [[]]


def test_a_batch_keeps_its_order_and_odd_input_neither_crashes_nor_fires(
    active: classifier.ActiveModel,
) -> None:
    odd = ["", "   ", "🙂🙂🙂", "\x00\x01\x02 \ufffd" * 10, "x" * 100_000, "Привет 你好 नमस्ते"]
    texts = ["text me on signal pls", *odd, "delete this msg after you read it"]
    results = classifier.classify(texts, model=active)
    assert len(results) == len(texts)
    assert _categories(results[0]) == {"off_channel"}
    assert all(findings == [] for findings in results[1:-1])
    assert _categories(results[-1]) == {"secrecy"}
    assert classifier.classify([], model=active) == []


def test_a_policy_threshold_overrides_the_model_s_own(active: classifier.ActiveModel) -> None:
    text = "Please text my private cell, this line is recorded"
    assert classifier.classify([text], model=active, thresholds={"off_channel": 0.999}) == [[]]


def test_the_artifact_round_trips_and_a_changed_model_file_is_refused(
    tmp_path: Path, trained: Trained
) -> None:
    assert artifact.load(tmp_path) is None
    folder = artifact.write(tmp_path, trained.model, data_hash=trained.data_hash, metrics={})
    loaded = artifact.load(tmp_path)
    assert loaded is not None and loaded.version == folder.name
    texts = ["me liga no meu pessoal", "ok"]
    assert np.array_equal(loaded.model.predict_proba(texts), trained.model.predict_proba(texts))
    with (folder / artifact.MODEL_FILE).open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(artifact.ArtifactError, match="sha256"):
        artifact.load(tmp_path)


def test_the_active_pointer_names_a_version_not_a_path(tmp_path: Path) -> None:
    (tmp_path / artifact.ACTIVE).write_text("../../etc\n", encoding="utf-8")
    with pytest.raises(artifact.ArtifactError, match="does not name"):
        artifact.load(tmp_path)


def test_a_model_built_by_another_scikit_learn_is_refused(tmp_path: Path, trained: Trained) -> None:
    folder = artifact.write(tmp_path, trained.model, data_hash=trained.data_hash, metrics={})
    manifest = json.loads((folder / artifact.MANIFEST).read_text(encoding="utf-8"))
    manifest["sklearn_version"] = "0.0.1"
    (folder / artifact.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(artifact.ArtifactError, match="retrain"):
        artifact.load(tmp_path)


@pytest.fixture
def models_dir(tmp_path: Path) -> Iterator[Path]:
    before = runtime.models_dir()
    runtime.configure(tmp_path)
    yield tmp_path
    runtime.configure(before)


def test_train_models_writes_a_versioned_artifact_that_scoring_then_uses(
    models_dir: Path, corpus_dir: Path, trained: Trained
) -> None:
    call_command("train_models", corpus=corpus_dir, models_dir=models_dir)
    version = (models_dir / artifact.ACTIVE).read_text(encoding="utf-8").strip()
    folder = models_dir / version
    manifest = json.loads((folder / artifact.MANIFEST).read_text(encoding="utf-8"))
    metrics = json.loads((folder / artifact.METRICS).read_text(encoding="utf-8"))
    assert manifest["model_sha256"] == artifact.file_sha256(folder / artifact.MODEL_FILE)
    assert manifest["data_sha256"] == metrics["data_sha256"] == trained.data_hash
    assert version.endswith(trained.data_hash[:12])
    assert metrics["sklearn_version"] and metrics["created"]
    assert metrics["held_out"] == trained.metrics["held_out"]  # same data, same figures
    assert metrics["thresholds"] == trained.model.thresholds
    assert metrics["unseen"] == {"examples": 0}
    assert classifier.active_model().version == version
    [findings] = classifier.classify(["te mando no signal, aqui não"])
    assert _categories(findings) == {"off_channel"}
    assert findings[0].attributes == {"model": version}


def test_if_needed_trains_only_when_no_current_model_matches_the_corpus(
    models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = _copy_corpus(tmp_path_factory.mktemp("corpus-if-needed"))
    out = StringIO()
    call_command("train_models", "--if-needed", corpus=root, models_dir=models_dir, stdout=out)
    first = artifact.active_version(models_dir)
    assert first and "written" in out.getvalue()

    out = StringIO()
    call_command("train_models", "--if-needed", corpus=root, models_dir=models_dir, stdout=out)
    assert artifact.active_version(models_dir) == first
    assert "nothing to train" in out.getvalue()
    assert [p.name for p in models_dir.iterdir() if p.is_dir()] == [first]

    some_file = sorted((root / "train").iterdir())[0]
    example = json.loads(some_file.read_text(encoding="utf-8").splitlines()[0])
    example["text"] = "so, " + example["text"]  # the corpus changed: the model is out of date
    with some_file.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(example) + "\n")
    out = StringIO()
    call_command("train_models", "--if-needed", corpus=root, models_dir=models_dir, stdout=out)
    assert artifact.active_version(models_dir) not in (None, first)
    assert "written" in out.getvalue()


def test_the_unseen_set_is_evaluated_on_its_own_and_may_not_repeat_training_text(
    tmp_path: Path,
) -> None:
    root = _copy_corpus(tmp_path / "corpus")
    (root / "unseen").mkdir()
    lines = [
        {
            "text": "bora continuar no signal, aqui grava",
            "lang": "pt",
            "labels": ["off_channel"],
            "group": "u-1",
            "kind": "positive",
        },
        {
            "text": "the signal on the chart was a false breakout",
            "lang": "en",
            "labels": [],
            "group": "u-2",
            "kind": "hard_negative",
        },
    ]
    unseen = root / "unseen" / "probe.jsonl"
    unseen.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    result = train_from_corpus(root)
    assert result.metrics["unseen"]["examples"] == 2  # type: ignore[index]
    assert result.metrics["unseen"]["categories"]["off_channel"]["positives"] == 1  # type: ignore[index]
    repeated = {**lines[0], "text": "text me on signal, not here", "group": "u-3"}
    unseen.write_text(json.dumps(repeated), encoding="utf-8")
    with pytest.raises(corpus.CorpusError, match="training files"):
        train_from_corpus(root)


def test_a_broken_artifact_leaves_scoring_on_the_built_in_model(
    models_dir: Path, trained: Trained, caplog: pytest.LogCaptureFixture
) -> None:
    folder = artifact.write(models_dir, trained.model, data_hash=trained.data_hash, metrics={})
    (folder / artifact.MODEL_FILE).write_bytes(b"not the model")
    with caplog.at_level(logging.ERROR, logger="policies.detectors.classifier"):
        active = classifier.active_model()
    shipped = [*corpus.load(part=corpus.TRAIN), *corpus.load(part=corpus.UNSEEN)]
    assert active.version == f"builtin-{corpus.data_hash(shipped)[:12]}"
    assert "does not match" in caplog.text
    # The built-in model is cached on disk by the corpus's hash, not activated: the next process
    # (here: the next configure) loads it instead of training again.
    assert (models_dir / active.version / artifact.MODEL_FILE).is_file()
    assert (models_dir / artifact.ACTIVE).read_text(encoding="utf-8").strip() == folder.name
    (models_dir / artifact.ACTIVE).unlink()
    runtime.configure(models_dir)
    again = classifier.active_model()
    assert again.version == active.version and again is not active
    assert np.array_equal(again.model.weights, active.model.weights)


@pytest.mark.parametrize(
    "text",
    ["Me chama no TELEGRAM, aqui não dá 🙏 don't tell", "signal processing, signal me", "", "ok"],
)
def test_the_words_shares_add_up_to_the_score_the_model_gave(trained: Trained, text: str) -> None:
    model = trained.model
    scores = model.scores(model.features([text]))[0]
    shares = model.word_contributions(text, list(model.categories))
    for column, category in enumerate(model.categories):
        total = sum(share for _, _, share in shares[category])
        assert total == pytest.approx(scores[column] - model.bias[column], abs=1e-4)


def test_train_models_refuses_a_broken_corpus_with_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "corpus" / "train").mkdir(parents=True)
    (tmp_path / "corpus" / "train" / "bad.jsonl").write_text('{"text": "hi"}\n', encoding="utf-8")
    with pytest.raises(CommandError, match=r"cannot be trained on: train/bad.jsonl:1: keys"):
        call_command("train_models", corpus=tmp_path / "corpus", models_dir=tmp_path / "models")
    assert not (tmp_path / "models").exists()


FAST_PATH_TEXTS = [
    "Me chama no TELEGRAM, aqui não dá 🙏 don't tell",
    "signal processing, signal me  signal   me",
    "apaga apaga apaga tudo depois",
    "",
    "   ",
    "🙂🙂🙂",
    "Привет 你好 नमस्ते",
    "x" * 5_000,
    "\x00\x01 \ufffd tab\there\nnew line",
    "ok",
]


def test_the_fast_features_give_the_reference_probabilities(trained: Trained) -> None:
    model = trained.model
    texts = [*FAST_PATH_TEXTS, *(e.text for e in corpus.load(part=corpus.TRAIN)[::7])]
    # The concept block is part of what must match (format 5): these texts light it.
    assert model.concepts is not None
    concept_columns = model.reference_features(texts).indices >= (  # type: ignore[attr-defined]
        len(model.vectorizer.vocabulary_) + len(model.words.vocabulary_)
    )
    assert concept_columns.sum() > len(texts)
    reference = model.probabilities(model.reference_features(texts))
    for _ in range(2):  # the second time every word comes from the cache
        fast = model.features(texts)
        assert fast.shape == model.reference_features(texts).shape  # type: ignore[attr-defined]
        assert np.abs(model.probabilities(fast) - reference).max() < 1e-6


def test_a_model_from_an_older_format_is_refused_and_asks_for_a_retrain(
    tmp_path: Path, trained: Trained
) -> None:
    old = copy.copy(trained.model)
    old.format = 1
    artifact.write(tmp_path, old, data_hash=trained.data_hash, metrics={})
    with pytest.raises(artifact.ArtifactError, match="older version of the code: retrain"):
        artifact.load(tmp_path)


def test_negation_marks_the_word_block_and_the_shares_still_add_up_with_concepts(
    corpus_dir: Path,
) -> None:
    examples = corpus.load(corpus_dir)
    params = Params(negation=True, word_scale=1.5, hard_negative_weight=2.0, concept_scale=0.5)
    model, _ = train(examples, ["off_channel", "secrecy"], params)
    assert "neg_tell" in model.words.vocabulary_  # "don't tell anyone" in the secrecy lines
    reference = model.probabilities(model.reference_features(FAST_PATH_TEXTS))
    assert np.abs(model.predict_proba(FAST_PATH_TEXTS) - reference).max() < 1e-6
    for text in ["don't tell compliance, text me on signal", "nunca apagues nada. ok", ""]:
        scores = model.scores(model.features([text]))[0]
        shares = model.word_contributions(text, list(model.categories))
        for column, category in enumerate(model.categories):
            total = sum(share for _, _, share in shares[category])
            assert total == pytest.approx(scores[column] - model.bias[column], abs=1e-4)


def test_c_per_category_is_chosen_from_the_grid_on_the_training_folds(corpus_dir: Path) -> None:
    examples = corpus.load(corpus_dir)
    model, _ = train(examples, ["off_channel", "secrecy"], Params(c_grid=(0.1, 1.0)))
    assert set(model.c_chosen) == {"off_channel", "secrecy"}
    assert set(model.c_chosen.values()) <= {0.1, 1.0}
