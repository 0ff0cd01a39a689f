"""Where this process keeps its models (set once by the Django app; light: no scikit-learn).

`policies.apps.PoliciesConfig.ready()` calls `configure(settings.MODELS_DIR)`; scripts and tests
without Django may call it themselves. Unconfigured, scoring uses the built-in model only.
"""

from __future__ import annotations

from pathlib import Path

_models_dir: Path | None = None
_corpus_dir: Path | None = None
_generation = 0


def configure(models_dir: Path | None, corpus_dir: Path | None = None) -> None:
    """Point scoring at a models folder (and the built-in model at a corpus other than the
    shipped one: tests use a tiny one); the next batch reloads the active model."""
    global _models_dir, _corpus_dir, _generation
    _models_dir = models_dir
    _corpus_dir = corpus_dir
    _generation += 1


def models_dir() -> Path | None:
    return _models_dir


def corpus_dir() -> Path | None:
    """The corpus the built-in model and firms' retraining read; None: the shipped one."""
    return _corpus_dir


def generation() -> int:
    """Bumped by each configure(), so a held model knows it must be reloaded."""
    return _generation
