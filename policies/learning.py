"""The learning loop's Django side: retrain a firm's model from its officers' decisions, keep it
beside the model in use with both measured on the same held-out lines, promote it only when it
is not worse, roll back to the built-in model; and, for scanning, the firm's model in use.

Decisions come through policies.decisions (alerts registers its closed alerts there; policies
never imports alerts). The training and the comparison are the pure policies/ml/learning.py.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC
from hashlib import sha256
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from compliance_hub.accounts.models import User
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .decisions import labelled_decisions
from .models import FirmModel

if TYPE_CHECKING:  # scikit-learn loads only where a model is trained or scores
    from .detectors.classifier import ActiveModel

logger = logging.getLogger(__name__)

SIGNING_SALT = "policies.firm_model"
BUILT_IN = "built-in"
CACHED_MODELS = 8  # firm models held per worker process (a few MB each)


class LearningError(Exception):
    """A refused request; ``str(error)`` is the sentence the page shows."""


class NothingToLearn(LearningError):
    pass


class TrainingUnderway(LearningError):
    pass


class PromotionRefused(LearningError):
    pass


def _sign(digest: str) -> str:
    return salted_hmac(SIGNING_SALT, digest, algorithm="sha256").hexdigest()


def request_retrain(*, tenant: Tenant, actor: Actor) -> FirmModel:
    """Queue a retraining of the firm's model (one at a time per firm); audited."""
    from .tasks import retrain_firm_model_task

    if not labelled_decisions(tenant):
        raise NothingToLearn(
            "No decided alerts to learn from yet: close alerts as true or false positives first."
        )
    try:
        with transaction.atomic(), tenant_scope(tenant):
            row = FirmModel.objects.create(
                tenant=tenant,
                requested_by=actor.user,
                requested_by_label=actor.label,
            )
            record_event("policy.model_retrain_requested", tenant=tenant, actor=actor, target=row)
            transaction.on_commit(
                lambda: retrain_firm_model_task.delay(tenant_id=tenant.pk, model_id=row.pk)
            )
    except IntegrityError:
        raise TrainingUnderway(
            "A retraining is already running for this firm: wait for it to finish."
        ) from None
    return row


@dataclass(frozen=True, slots=True)
class InUse:
    """The model that scores the firm's messages: a firm model (`row` set) or the built-in one."""

    version: str
    row: FirmModel | None


def _corpus_root() -> Path:
    from .ml import corpus, runtime

    return runtime.corpus_dir() or corpus.CORPUS_DIR


def run_retrain(*, tenant: Tenant, model_id: int) -> FirmModel | None:
    """The task's body: train, measure both models on the same held-out lines, keep the bytes
    signed. Long (seconds to a minute): no transaction is held while it trains."""
    import sklearn

    from .ml import corpus, evaluate, learning

    with tenant_scope(tenant):
        row = FirmModel.objects.filter(tenant=tenant, pk=model_id).defer("artifact").first()
    if row is None or row.status != FirmModel.Status.TRAINING:
        return row
    try:
        decisions = labelled_decisions(tenant)
        firm_lines = learning.examples_from(decisions)
        corpus_lines = corpus.load(_corpus_root(), corpus.TRAIN)
        retrained = learning.retrain(
            corpus_lines, firm_lines, firm_weight=float(settings.LEARNING_FIRM_WEIGHT)
        )
        current = model_in_use(tenant)
        current_model = (_load(current.row) if current.row is not None else _builtin()).model
        current_report = evaluate.report(current_model, retrained.held_out)
        candidate_report = evaluate.report(retrained.model, retrained.held_out)
        verdict = learning.compare(
            current_report, candidate_report, margin=float(settings.LEARNING_CATEGORY_MARGIN)
        )
        data = learning.to_bytes(retrained.model)
    except (corpus.CorpusError, learning.ModelBytesError, ValueError) as exc:
        return _failed(tenant, row, f"The model could not be trained: {exc}")
    except Exception as exc:  # a worker must record the failure, not leave "training" forever
        logger.exception("learning: retraining failed for tenant %s", tenant.pk)
        return _failed(tenant, row, f"The training stopped with an error ({type(exc).__name__}).")
    digest = sha256(data).hexdigest()
    finished = timezone.now()
    with transaction.atomic(), tenant_scope(tenant):
        row.artifact = data
        row.artifact_sha256 = digest
        row.signature = _sign(digest)
        row.sklearn_version = sklearn.__version__
        row.version = f"firm-{finished.astimezone(UTC):%Y%m%dT%H%M%SZ}-{digest[:12]}"
        row.baseline_version = current.version
        row.metrics = {
            "current": current_report,
            "candidate": candidate_report,
            "better": verdict.better,
            "reasons": list(verdict.reasons),
            "margin": float(settings.LEARNING_CATEGORY_MARGIN),
            "firm_weight": float(settings.LEARNING_FIRM_WEIGHT),
            "lines": retrained.counts,
            "firm_examples": len(firm_lines),
            "firm_categories": learning.category_counts(firm_lines),
        }
        row.status = FirmModel.Status.CANDIDATE
        row.finished_at = finished
        row.save()
        record_event(
            "policy.model_trained",
            tenant=tenant,
            actor=Actor.task(user=_requester(row)),
            target=row,
            details={"better": verdict.better, "examples": len(firm_lines)},
        )
    return row


def _requester(row: FirmModel) -> User | None:
    return User.objects.filter(pk=row.requested_by_id).first() if row.requested_by_id else None


def _failed(tenant: Tenant, row: FirmModel, error: str) -> FirmModel:
    with transaction.atomic(), tenant_scope(tenant):
        row.status = FirmModel.Status.FAILED
        row.error = error[:2000]
        row.finished_at = timezone.now()
        row.save(update_fields=["status", "error", "finished_at"])
    return row


def promote_model(*, tenant: Tenant, actor: Actor, model_id: int) -> FirmModel:
    """Put a trained candidate in use for the firm's scans, only if its comparison allows it;
    the model in use before is retired. Audited."""
    with transaction.atomic(), tenant_scope(tenant):
        row = (
            FirmModel.objects.select_for_update()
            .defer("artifact")
            .filter(tenant=tenant, pk=model_id)
            .first()
        )
        if row is None:
            raise PromotionRefused("No such model.")
        if row.status != FirmModel.Status.CANDIDATE:
            raise PromotionRefused(
                f"This model cannot be put in use: it is {row.get_status_display().lower()}."
            )
        refusal = promotion_refusal(row)
        if refusal:
            raise PromotionRefused(refusal)
        previous = list(
            FirmModel.objects.select_for_update()
            .defer("artifact")
            .filter(tenant=tenant, status=FirmModel.Status.PROMOTED)
        )
        # The candidate was measured against the model in use when it was trained; once another
        # was promoted (or rolled back) since, that comparison no longer says it is better.
        in_use = previous[0].version if previous else BUILT_IN
        if in_use != row.baseline_version:
            raise PromotionRefused(
                "Another model was put in use after this one was trained: retrain to compare "
                "with it."
            )
        FirmModel.objects.filter(pk__in=[p.pk for p in previous]).update(
            status=FirmModel.Status.RETIRED
        )
        row.status = FirmModel.Status.PROMOTED
        row.promoted_at = timezone.now()
        row.promoted_by_label = actor.label
        row.save(update_fields=["status", "promoted_at", "promoted_by_label"])
        record_event(
            "policy.model_promoted",
            tenant=tenant,
            actor=actor,
            target=row,
            details={"replaced": in_use},
        )
    return row


def promotion_refusal(row: FirmModel) -> str:
    """Why this candidate may not be promoted ("" when it may), in an admin's words."""
    reasons = row.metrics.get("reasons") or []
    if not row.metrics.get("better", False):
        return "Not better than the model in use: " + "; ".join(reasons) + "."
    return ""


def rollback_model(*, tenant: Tenant, actor: Actor) -> FirmModel | None:
    """Go back to the built-in model for the firm's scans; returns the firm model taken out of
    use (None when none was in use). Audited."""
    with transaction.atomic(), tenant_scope(tenant):
        row = (
            FirmModel.objects.select_for_update()
            .defer("artifact")
            .filter(tenant=tenant, status=FirmModel.Status.PROMOTED)
            .first()
        )
        if row is None:
            return None
        row.status = FirmModel.Status.RETIRED
        row.save(update_fields=["status"])
        record_event("policy.model_rolled_back", tenant=tenant, actor=actor, target=row)
    return row


def model_in_use(tenant: Tenant) -> InUse:
    """The firm's promoted model (bytes not loaded), or the built-in one."""
    with tenant_scope(tenant):
        row = (
            FirmModel.objects.filter(tenant=tenant, status=FirmModel.Status.PROMOTED)
            .defer("artifact")
            .first()
        )
    if row is not None:
        return InUse(version=row.version, row=row)
    return InUse(version=BUILT_IN, row=None)


def _builtin() -> ActiveModel:
    from .detectors.classifier import active_model

    return active_model()


def scoring_model(tenant: Tenant) -> tuple[str, ActiveModel | None]:
    """What scans the firm's messages: (the firm model's sha256, the model) when one is in use;
    ("", None) for the process's built-in model. A firm model that fails its checks is logged
    and the built-in model scans instead (scanning never stops on a bad row)."""
    current = model_in_use(tenant)
    if current.row is None:
        return "", None
    try:
        model = _load(current.row)
    except Exception as exc:
        logger.error(
            "firm model %s refused, scanning with the built-in model: %s", current.version, exc
        )
        return "", None
    return current.row.artifact_sha256, model


def cached_model(sha256_hex: str) -> ActiveModel | None:
    """A firm model this process already loaded and checked, by its sha256."""
    with _cache_lock:
        return _cache.get(sha256_hex)


# Per worker process: firm models by the sha256 of their bytes (a promotion changes the hash,
# so a stale entry is never used; the oldest entries go first).
_cache: OrderedDict[str, ActiveModel] = OrderedDict()
_cache_lock = threading.Lock()


def _load(row: FirmModel) -> ActiveModel:
    """The row's model, checked (sha256, signature, scikit-learn version) before unpickling,
    then cached by its hash."""
    from .detectors.classifier import ActiveModel
    from .ml import learning

    with _cache_lock:
        if row.artifact_sha256 in _cache:
            _cache.move_to_end(row.artifact_sha256)
            return _cache[row.artifact_sha256]
    import sklearn

    if row.sklearn_version != sklearn.__version__:
        raise learning.ModelBytesError(
            f"built with scikit-learn {row.sklearn_version}, this process runs "
            f"{sklearn.__version__}: retrain"
        )
    with tenant_scope(row.tenant_id):
        data = FirmModel.objects.filter(pk=row.pk).values_list("artifact", flat=True).first()
    data = bytes(data or b"")
    digest = sha256(data).hexdigest()
    if digest != row.artifact_sha256 or not hmac.compare_digest(row.signature, _sign(digest)):
        raise learning.ModelBytesError("the stored model does not match its hash and signature")
    model = ActiveModel(learning.from_bytes(data), row.version)
    with _cache_lock:
        _cache[row.artifact_sha256] = model
        while len(_cache) > CACHED_MODELS:
            _cache.popitem(last=False)
    return model


def firm_models(*, tenant: Tenant, limit: int = 20) -> list[FirmModel]:
    """The firm's latest trainings, newest first (bytes not loaded)."""
    with tenant_scope(tenant):
        return list(FirmModel.objects.filter(tenant=tenant).defer("artifact")[:limit])


def firm_model(*, tenant: Tenant, pk: int) -> FirmModel | None:
    with tenant_scope(tenant):
        return FirmModel.objects.filter(tenant=tenant, pk=pk).defer("artifact").first()
