"""The model artifact: a versioned folder (model file, manifest, metrics) under MODELS_DIR.

    MODELS_DIR/ACTIVE                      the version in use (one line)
    MODELS_DIR/<version>/model.joblib      the fitted TextModel
    MODELS_DIR/<version>/manifest.json     sha256 of model.joblib, data hash, versions, time
    MODELS_DIR/<version>/metrics.json      the evaluation report

joblib files are pickles, and unpickling runs code. That is acceptable here because the file is
never one a user sent: it is read only from our own MODELS_DIR (the folder name is checked, not
taken from input), written by `manage.py train_models` on our own machines, and its sha256 must
match the manifest beside it before it is unpickled, so a truncated, swapped or half-written
file is refused. Whoever can write MODELS_DIR can already change the code; that folder gets the
same protection as the code.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import joblib
import sklearn

from policies.ml.model import FORMAT, TextModel

MODEL_FILE = "model.joblib"
MANIFEST = "manifest.json"
METRICS = "metrics.json"
ACTIVE = "ACTIVE"
# A trained version ("20261206T171259Z-6351f2f15677") or the built-in model's disk cache
# ("builtin-6351f2f15677", keyed by the corpus's data hash).
_VERSION = re.compile(r"^(\d{8}T\d{6}Z|builtin)-[0-9a-f]{12}$")


class ArtifactError(RuntimeError):
    """The artifact is missing, incomplete, altered or built by another scikit-learn."""


@dataclass(frozen=True, slots=True)
class Loaded:
    model: TextModel
    version: str
    manifest: dict[str, object]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write(
    models_dir: Path,
    model: TextModel,
    *,
    data_hash: str,
    metrics: dict[str, object],
    activate: bool = True,
    now: datetime | None = None,
    version: str | None = None,
) -> Path:
    """Write a new version folder (atomically: built aside, then renamed) and make it active."""
    created = (now or datetime.now(UTC)).astimezone(UTC)
    version = version or f"{created:%Y%m%dT%H%M%SZ}-{data_hash[:12]}"
    if not _VERSION.match(version):
        raise ValueError(f"not a model version: {version!r}")
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=models_dir))
    try:
        joblib.dump(model, staging / MODEL_FILE, compress=3)
        manifest = {
            "version": version,
            "model_sha256": file_sha256(staging / MODEL_FILE),
            "data_sha256": data_hash,
            "sklearn_version": sklearn.__version__,
            "created": created.isoformat(),
            "categories": list(model.categories),
            "thresholds": model.thresholds,
            "params": model.params.as_dict(),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        (staging / METRICS).write_text(
            json.dumps(
                {
                    **metrics,
                    "data_sha256": data_hash,
                    "sklearn_version": sklearn.__version__,
                    "created": created.isoformat(),
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n",
            encoding="utf-8",
        )
        final = models_dir / version
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if activate:
        pointer = models_dir / f".{ACTIVE}.tmp"
        pointer.write_text(version + "\n", encoding="utf-8")
        os.replace(pointer, models_dir / ACTIVE)
    return final


def active_version(models_dir: Path) -> str | None:
    try:
        version = (models_dir / ACTIVE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not _VERSION.match(version):
        raise ArtifactError(f"{models_dir / ACTIVE} does not name a model version: {version!r}")
    return version


def load(models_dir: Path) -> Loaded | None:
    """The active model of `models_dir`, None when there is none; ArtifactError when it is bad."""
    version = active_version(models_dir)
    if version is None:
        return None
    return load_version(models_dir, version)


def builtin_version(data_hash: str) -> str:
    return f"builtin-{data_hash[:12]}"


def load_version(models_dir: Path, version: str) -> Loaded:
    """One version folder of `models_dir`, checked as described at the top; ArtifactError."""
    if not _VERSION.match(version):
        raise ArtifactError(f"not a model version: {version!r}")
    folder = models_dir / version
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"model {version}: no such model in {models_dir}") from None
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"model {version}: manifest unreadable ({exc})") from None
    if manifest.get("sklearn_version") != sklearn.__version__:
        raise ArtifactError(
            f"model {version} was built with scikit-learn {manifest.get('sklearn_version')}, "
            f"this process runs {sklearn.__version__}: retrain with manage.py train_models"
        )
    path = folder / MODEL_FILE
    if not path.is_file() or file_sha256(path) != manifest.get("model_sha256"):
        raise ArtifactError(f"model {version}: {MODEL_FILE} does not match its manifest's sha256")
    model = joblib.load(path)
    if not isinstance(model, TextModel):
        raise ArtifactError(f"model {version}: {MODEL_FILE} holds no TextModel")
    if getattr(model, "format", 1) != FORMAT:
        raise ArtifactError(
            f"model {version} was written by an older version of the code: retrain with "
            "manage.py train_models"
        )
    return Loaded(model=model, version=version, manifest=manifest)
