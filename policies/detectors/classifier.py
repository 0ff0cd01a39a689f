"""The ML classifiers as a detector: `classify(texts)` scores a batch in one vectorizing pass.

A finding per category whose calibrated probability reaches the category's threshold, with the
words that pushed the score most (spans into the original text) in its explanation. The model is
loaded once per process: the active artifact of MODELS_DIR (policies/ml/artifact.py), or, when
there is none, the built-in model trained from the shipped corpus on first use (about ten
seconds, up to a minute on a busy machine, then cached on disk by the corpus's hash; nothing is
ever downloaded).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from policies.detectors.findings import Finding, Span
from policies.ml import artifact, corpus, runtime
from policies.ml.model import TextModel, matrix_row
from policies.ml.training import train_from_corpus

logger = logging.getLogger(__name__)

DETECTOR = "classifier"
BATCH = 1000  # texts vectorized at once: bounds memory on a huge call, costs nothing per text
MAX_QUOTES = 3
MAX_QUOTE_CHARS = 60
# What each category reads as, in an officer's words (the definitions).
READS_AS: dict[str, str] = {
    "off_channel": "moving the conversation to an unmonitored channel or device",
    "secrecy": "hiding something from the records or from compliance",
    "guarantee": "promising guaranteed or risk-free returns",
    "mnpi": "sharing or asking for material non-public information",
    "bribery": "offering gifts, kickbacks or other inducements",
    "off_label": "promoting a medicine for an unapproved use",
    "harassment": "abusive, threatening or discriminatory language",
    "complaint": "a customer complaint or a threat to go to the regulator",
}


@dataclass(frozen=True, slots=True)
class ActiveModel:
    model: TextModel
    version: str  # the artifact's version, or "built-in-<data hash>"


_lock = threading.Lock()
_active: tuple[int, ActiveModel] | None = None


def _load() -> ActiveModel:
    models_dir = runtime.models_dir()
    if models_dir is not None:
        try:
            loaded = artifact.load(models_dir)
        except artifact.ArtifactError as exc:
            # Scanning goes on with the built-in model rather than stopping every worker; the
            # log line says why, and `train_models` repairs it.
            logger.error("ML model not loaded, using the built-in model: %s", exc)
        else:
            if loaded is not None:
                return ActiveModel(loaded.model, loaded.version)
    return _builtin(models_dir)


def _builtin(models_dir: Path | None) -> ActiveModel:
    """The model trained from the shipped corpus, cached on disk by the corpus's data hash so
    that the first batch of each worker does not train it again (ten seconds to a minute)."""
    root = runtime.corpus_dir() or corpus.CORPUS_DIR
    examples = [*corpus.load(root, corpus.TRAIN), *corpus.load(root, corpus.UNSEEN)]
    version = artifact.builtin_version(corpus.data_hash(examples))
    if models_dir is not None:
        try:
            return ActiveModel(artifact.load_version(models_dir, version).model, version)
        except artifact.ArtifactError as exc:
            if "no such model" not in str(exc):
                logger.warning("built-in model cache refused, training again: %s", exc)
    trained = train_from_corpus(root)
    if models_dir is not None:
        try:
            artifact.write(
                models_dir,
                trained.model,
                data_hash=trained.data_hash,
                metrics=trained.metrics,
                activate=False,
                version=version,
            )
        except OSError as exc:
            logger.warning("built-in model not cached in %s: %s", models_dir, exc)
    return ActiveModel(trained.model, version)


def active_model() -> ActiveModel:
    """The process's model, loaded (or trained) once; again after runtime.configure()."""
    global _active
    generation = runtime.generation()
    current = _active
    if current is not None and current[0] == generation:
        return current[1]
    with _lock:
        if _active is None or _active[0] != generation:
            _active = (generation, _load())
        return _active[1]


_PUNCTUATION = set(".,;:!?¿¡\"'()[]{}…-")


def _trim(text: str, phrase: tuple[float, int, int]) -> tuple[float, int, int]:
    """The phrase without the punctuation stuck to its first and last word ("TELEGRAM,")."""
    share, start, end = phrase
    while end - start > 1 and text[end - 1] in _PUNCTUATION:
        end -= 1
    while end - start > 1 and text[start] in _PUNCTUATION:
        start += 1
    return share, start, end


def explain(
    words: list[tuple[int, int, float]],
    text: str,
    category: str,
    score: float,
    meaning: str | None = None,
) -> tuple[tuple[Span, ...], str]:
    """The phrases that pushed `category` up most (from the words' shares of its score), as
    spans and as an officer's sentence; `meaning`, the concept that weighed (model.concept_
    meanings), is named after the quotes."""
    top = max((share for _, _, share in words), default=0.0)
    phrases: list[tuple[float, int, int]] = []
    run: list[tuple[int, int, float]] = []
    sentinel: tuple[int, int, float] = (0, 0, 0.0)  # closes the last run
    for word in [*words, sentinel]:
        if top > 0 and word[2] >= 0.3 * top:
            run.append(word)
            continue
        if len(run) > 1 or (run and run[0][1] - run[0][0] > 2):  # a lone "no", "pe": noise
            phrases.append((sum(w[2] for w in run), run[0][0], run[-1][1]))
        run = []
    chosen = [_trim(text, phrase) for phrase in sorted(phrases, reverse=True)[:MAX_QUOTES]]
    quotes = []
    for _, start, end in chosen:
        quote = text[start:end]
        if len(quote) > MAX_QUOTE_CHARS:
            quote = quote[: MAX_QUOTE_CHARS - 1] + "…"
        quotes.append(f"'{quote}'")
    sentence = f"Reads as {READS_AS.get(category, category)} ({score:.2f})"
    if quotes:
        sentence += ": " + ", ".join(quotes)
    if meaning:
        sentence += f" (meaning: {meaning})"
    spans = tuple(Span(start, end) for start, end in sorted((s, e) for _, s, e in chosen))
    return spans, sentence


def classify(
    texts: Sequence[str],
    *,
    model: ActiveModel | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> list[list[Finding]]:
    """Findings per text, in order. `thresholds` overrides the model's per-category cuts (a
    policy's own); categories the model was not trained on never appear."""
    active = model or active_model()
    categories = active.model.categories
    cuts = np.array([(thresholds or {}).get(c, active.model.thresholds[c]) for c in categories])
    results: list[list[Finding]] = []
    for begin in range(0, len(texts), BATCH):
        batch = texts[begin : begin + BATCH]
        matrix = active.model.features(batch)
        probabilities = active.model.probabilities(matrix)
        fired_rows, fired_columns = np.nonzero(probabilities >= cuts)
        fired: dict[int, list[int]] = {}
        for row, column in zip(fired_rows.tolist(), fired_columns.tolist(), strict=True):
            fired.setdefault(row, []).append(column)
        for row, text in enumerate(batch):
            columns = fired.get(row)
            if not columns:
                results.append([])
                continue
            view = matrix_row(matrix, row)
            names = [categories[c] for c in columns]
            shares = active.model.word_contributions(text, names, view)
            meanings = active.model.concept_meanings(view, names)
            findings = []
            for column in columns:
                category, score = categories[column], float(probabilities[row, column])
                spans, sentence = explain(
                    shares[category], text, category, score, meanings.get(category)
                )
                findings.append(
                    Finding(
                        category=category,
                        detector=DETECTOR,
                        score=min(max(score, 0.0), 1.0),
                        spans=spans,
                        explanation=sentence,
                        attributes={"model": active.version},
                    )
                )
            results.append(findings)
    return results
