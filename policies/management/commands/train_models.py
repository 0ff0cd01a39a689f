"""``manage.py train_models``: train the ML classifiers from the shipped corpus and write a new
versioned artifact under MODELS_DIR (made active unless ``--no-activate``).

    manage.py train_models
    manage.py train_models --corpus path/to/corpus --models-dir /srv/models --no-activate
    manage.py train_models --if-needed    (a deploy's step: nothing when the active model loads
                                           and was trained from this corpus)

Reproducible: the same corpus and the same scikit-learn give the same model and the same
metrics (fixed seeds, a held-out split by hash of whole groups). Prints the summary of
metrics.json: macro F1, each category's F1 on held-out groups and on the unseen set, and the
false-positive rate on hard negatives. Exit status 1 when the corpus breaks its format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from policies.ml import artifact, corpus, runtime
from policies.ml.model import Params
from policies.ml.training import train_from_corpus


def _figure(report: Any, category: str) -> str:
    figures = report.get("categories", {}).get(category)
    if not figures or not figures.get("positives"):
        return "    -"
    return f"{figures['f1']:5.2f}"


def _current_model(models_dir: Path, root: Path) -> str | None:
    """The active model's version when it loads in this process (same scikit-learn, intact
    file) and was trained from the corpus at `root` as it is now; None: train one."""
    try:
        loaded = artifact.load(models_dir)
        data = corpus.data_hash(
            [*corpus.load(root, corpus.TRAIN), *corpus.load(root, corpus.UNSEEN)]
        )
    except (artifact.ArtifactError, corpus.CorpusError, OSError, ValueError):
        return None
    if loaded is None or loaded.manifest.get("data_sha256") != data:
        return None
    return loaded.version


class Command(BaseCommand):
    help = "Train the ML classifiers from the corpus and write a versioned model artifact."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--corpus", type=Path, default=corpus.CORPUS_DIR)
        parser.add_argument("--models-dir", type=Path, default=None)
        parser.add_argument("--seed", type=int, default=Params().seed)
        parser.add_argument(
            "--no-activate", action="store_true", help="write the artifact but keep the current one"
        )

        parser.add_argument(
            "--if-needed",
            action="store_true",
            help="train only when no active model loads here or it was trained on other data",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        models_dir: Path = options["models_dir"] or Path(settings.MODELS_DIR)
        if options["if_needed"]:
            current = _current_model(models_dir, options["corpus"])
            if current:
                self.stdout.write(f"Model {current} is active and up to date: nothing to train")
                return
        try:
            trained = train_from_corpus(options["corpus"], Params(seed=options["seed"]))
        except (corpus.CorpusError, ValueError) as exc:
            raise CommandError(f"the corpus cannot be trained on: {exc}", returncode=1) from None
        folder = artifact.write(
            models_dir,
            trained.model,
            data_hash=trained.data_hash,
            metrics=trained.metrics,
            activate=not options["no_activate"],
        )
        if not options["no_activate"] and runtime.models_dir() == models_dir:
            runtime.configure(models_dir)  # this process's next batch uses the new model
        held, unseen = trained.metrics["held_out"], trained.metrics["unseen"]
        assert isinstance(held, dict) and isinstance(unseen, dict)
        self.stdout.write(f"Model {folder.name} written to {folder}")
        self.stdout.write(f"data sha256 {trained.data_hash}")
        self.stdout.write(f"{'category':<12} {'held-out F1':>11} {'unseen F1':>9} threshold")
        for category in trained.model.categories:
            self.stdout.write(
                f"{category:<12} {_figure(held, category):>11} {_figure(unseen, category):>9} "
                f"{trained.model.thresholds[category]:.2f}"
            )
        hard = held.get("hard_negative_fpr", {}).get("all", {})
        flagged, messages = hard.get("flagged_share", 0), hard.get("messages", 0)
        self.stdout.write(
            f"macro F1 held-out {held.get('macro_f1', 0):.3f}, unseen "
            f"{format(unseen['macro_f1'], '.3f') if unseen.get('examples') else '-'}; "
            f"hard negatives flagged {flagged:.1%} of {messages}"
        )
        missing = trained.metrics["categories_missing"]
        if missing:
            self.stdout.write(f"Not trained (too few positives in the corpus): {missing}")
