"""The learning loop on a tiny corpus, as an admin runs it: officers close alerts, the admin
retrains (a real Celery worker trains), compares the new model with the one in use on the same
held-out messages, puts it in use, and the next scan of the firm's messages uses it; a worse
model cannot be put in use; one firm's decisions never train another's model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.urls import reverse

from alerts.models import Alert
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from policies.decisions import labelled_decisions
from policies.learning import (
    PromotionRefused,
    promote_model,
    request_retrain,
    run_retrain,
)
from policies.ml import runtime
from policies.models import FirmModel, PolicyHit
from tests.alerts.learning_helpers import (
    ADMIN,
    FALSE_POSITIVE,
    TRUE_POSITIVE,
    archive_texts,
    close,
    corpus_promises,
    scan,
    switch_on,
    write_tiny_corpus,
)
from tests.polling import wait_until

MODEL_POLICY = {
    "name": "Promises of returns (model)",
    "severity": "high",
    "detect": {"detector": "classifier", "category": "guarantee"},
}
PROMISES = [
    "guaranteed 12 percent returns, no risk at all",
    "I guarantee this fund returns 30% a year",
    "zero risk, returns guaranteed, trust me",
    "you cannot lose with this one, guaranteed profit",
    "risk free returns of 15% I promise you",
    "double your money guaranteed in 6 weeks",
]
ORDINARY = [
    "the meeting is at 4 pm tomorrow",
    "please send me the slides",
    "the warranty is guaranteed for two years on the printer",
    "see you at lunch",
]


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    """The tiny corpus for this module's worker (it reads ML_CORPUS_DIR when it starts) and for
    this process (runtime.configure, below)."""
    root = write_tiny_corpus(tmp_path_factory.mktemp("tiny-corpus"))
    before = os.environ.get("ML_CORPUS_DIR")
    os.environ["ML_CORPUS_DIR"] = str(root)
    yield root
    if before is None:
        os.environ.pop("ML_CORPUS_DIR", None)
    else:
        os.environ["ML_CORPUS_DIR"] = before


@pytest.fixture
def tiny(tiny_corpus, settings):
    runtime.configure(Path(settings.MODELS_DIR), tiny_corpus)
    yield tiny_corpus
    runtime.configure(Path(settings.MODELS_DIR), None)


@pytest.fixture(scope="module")
def learning_worker(tiny_corpus, worker):
    """The worker, started after ML_CORPUS_DIR is set."""
    return worker


def _decide_by_text(alerts: list[Alert], user, promises: list[str]) -> None:
    for alert in alerts:
        with tenant_scope(alert.tenant_id):
            text = alert.message.text
        close(alert, user, TRUE_POSITIVE if text in promises else FALSE_POSITIVE)


def _model_of_hit(tenant, message) -> set[str]:
    with tenant_scope(tenant):
        hit = PolicyHit.objects.get(message=message)
    return {f["model"] for f in hit.findings if f["detector"] == "classifier"}


@pytest.mark.django_db(transaction=True)
def test_decisions_retrain_compare_promote_and_the_next_scan_uses_the_firms_model(
    tiny, learning_worker, tenant_a, alice, oscar, login_as
):
    switch_on(tenant_a, MODEL_POLICY)
    alerts = scan(tenant_a, archive_texts(tenant_a, PROMISES + ORDINARY), None)
    assert len(alerts) >= 3, "the tiny built-in model should flag most promises"
    _decide_by_text(alerts, oscar.user, PROMISES)

    client = login_as(alice)
    page = client.get(reverse("alerts:learning")).content.decode()
    assert "The built-in model" in page and "Retrain from the firm" in page
    response = client.post(reverse("alerts:learning_retrain"))
    with tenant_scope(tenant_a):
        row = FirmModel.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "alerts:learning_model", args=[row.pk]
    )

    def trained():
        with tenant_scope(tenant_a):
            found = FirmModel.objects.defer("artifact").get(pk=row.pk)
        return found if found.status != FirmModel.Status.TRAINING else None

    row = wait_until(trained, timeout=180, failure="the worker did not train the model in time")
    assert row.status == FirmModel.Status.CANDIDATE, row.error
    assert row.metrics["firm_examples"] == len(alerts)
    assert row.baseline_version == "built-in"
    assert row.metrics["better"], row.metrics["reasons"]

    page = client.get(reverse("alerts:learning_model", args=[row.pk])).content.decode()
    assert "Model in use (built-in)" in page and "This model" in page
    assert "Guarantee" in page and "Put this model in use" in page and "disabled" not in page

    response = client.post(reverse("alerts:learning_promote", args=[row.pk]))
    assert response.status_code == 302
    with tenant_scope(tenant_a):
        assert FirmModel.objects.defer("artifact").get(pk=row.pk).status == "promoted"
        assert AuditEvent.objects.filter(
            action="policy.model_promoted", target_id=str(row.pk), actor=alice.user
        ).exists()

    # The next scan of the firm's messages scores with the promoted model.
    (later,) = archive_texts(tenant_a, ["returns guaranteed at 20%, no risk"], first=100)
    scan(tenant_a, [later], None)
    assert _model_of_hit(tenant_a, later) == {row.version}

    # Rollback: the built-in model again.
    client.post(reverse("alerts:learning_rollback"))
    (again,) = archive_texts(tenant_a, ["I guarantee 25% returns, zero risk"], first=101)
    scan(tenant_a, [again], None)
    (version,) = _model_of_hit(tenant_a, again)
    assert version.startswith("builtin-")
    with tenant_scope(tenant_a):
        assert AuditEvent.objects.filter(action="policy.model_rolled_back").count() == 1


@pytest.mark.django_db
def test_a_worse_model_cannot_be_put_in_use(
    tiny, tenant_a, alice, oscar, login_as, django_capture_on_commit_callbacks
):
    # Officers who got it backwards: promises of returns (the corpus's own, word for word)
    # dismissed as false positives.
    switch_on(
        tenant_a,
        {
            "name": "Promises (terms)",
            "severity": "low",
            "detect": {"detector": "lexicon", "rule": "promise"},
            "lexicon": {
                "rules": [
                    {"name": "promise", "category": "guarantee",
                     "any": ["guarantee*", "risk*", "returns", "profit", "money"]}
                ]
            },
        },
    )  # fmt: skip
    texts = corpus_promises()
    alerts = scan(tenant_a, archive_texts(tenant_a, texts), django_capture_on_commit_callbacks)
    assert len(alerts) == len(texts)
    for alert in alerts:
        close(alert, oscar.user, FALSE_POSITIVE)

    with django_capture_on_commit_callbacks(execute=False):  # trained below, in this process
        row = request_retrain(tenant=tenant_a, actor=ADMIN)
    row = run_retrain(tenant=tenant_a, model_id=row.pk)
    assert row is not None and row.status == FirmModel.Status.CANDIDATE, row and row.error
    assert not row.metrics["better"], row.metrics["reasons"]
    assert any("guarantee drops from" in reason for reason in row.metrics["reasons"])

    client = login_as(alice)
    page = client.get(reverse("alerts:learning_model", args=[row.pk])).content.decode()
    assert "Put this model in use</button>" in page and " disabled " in page
    assert "Cannot be put in use. Not better than the model in use" in page

    response = client.post(reverse("alerts:learning_promote", args=[row.pk]), follow=True)
    assert "Not better than the model in use" in response.content.decode()
    with pytest.raises(PromotionRefused):
        promote_model(tenant=tenant_a, actor=ADMIN, model_id=row.pk)
    with tenant_scope(tenant_a):
        assert FirmModel.objects.defer("artifact").get(pk=row.pk).status == "candidate"
        assert not AuditEvent.objects.filter(action="policy.model_promoted").exists()


@pytest.mark.django_db
def test_one_firms_decisions_never_train_another_firms_model(
    tiny, tenant_a, tenant_b, oscar, bob, alice, login_as, django_capture_on_commit_callbacks
):
    from tests.fixtures import make_person

    switch_on(tenant_a, MODEL_POLICY)
    switch_on(tenant_b, MODEL_POLICY)
    mine = scan(tenant_a, archive_texts(tenant_a, PROMISES[:3]), django_capture_on_commit_callbacks)
    theirs_texts = ["firm b only: guaranteed 40% returns, no risk at all"] * 1 + [
        "firm b only: risk free returns of 50% guaranteed"
    ]
    theirs = scan(
        tenant_b, archive_texts(tenant_b, theirs_texts), django_capture_on_commit_callbacks
    )
    assert mine and theirs
    officer_b = make_person("officer@firm-b.example", tenant=tenant_b, role="officer")
    for alert in mine:
        close(alert, oscar.user, TRUE_POSITIVE)
    for alert in theirs:
        close(alert, officer_b.user, TRUE_POSITIVE)

    decisions = labelled_decisions(tenant_a)
    assert len(decisions) == len(mine)
    assert not any("firm b" in d.text for d in decisions)
    with django_capture_on_commit_callbacks(execute=False):
        row = request_retrain(tenant=tenant_a, actor=ADMIN)
    row = run_retrain(tenant=tenant_a, model_id=row.pk)
    assert row is not None and row.metrics["firm_examples"] == len(mine)

    # Firm B's admin cannot see or promote firm A's model: the same 404 as a missing one.
    client = login_as(bob)
    assert client.get(reverse("alerts:learning_model", args=[row.pk])).status_code == 404
    assert client.post(reverse("alerts:learning_promote", args=[row.pk])).status_code == 404
    with tenant_scope(tenant_b):
        assert not FirmModel.objects.exists()
