"""The learning pages as each role uses them: admins retrain, promote, roll back and leave
examples out; officers and auditors read; an outsider gets 404. Examples and false-positive
rates come from the alerts officers closed (no training here)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from alerts.learning.selectors import example_counts, false_positive_rates, firm_decisions
from alerts.models import Alert
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from policies.models import FirmModel
from tests.alerts.learning_helpers import (
    FALSE_POSITIVE,
    TRUE_POSITIVE,
    archive_texts,
    close,
    scan,
    switch_on,
)

TERMS = {
    "name": "Promises (terms)",
    "severity": "medium",
    "detect": {"detector": "lexicon", "rule": "promise"},
    "lexicon": {
        "rules": [{"name": "promise", "category": "guarantee", "any": ["guarantee*", "returns"]}]
    },
}
TEXTS = [
    "I guarantee 20% returns",
    "guaranteed returns, zero risk",
    "the printer has a guarantee",
    "returns desk closes at 5",
]


@pytest.fixture
def decided(tenant_a, oscar, django_capture_on_commit_callbacks) -> list[Alert]:
    """Four alerts: two closed as true positives, two as false positives."""
    switch_on(tenant_a, TERMS)
    alerts = scan(tenant_a, archive_texts(tenant_a, TEXTS), django_capture_on_commit_callbacks)
    assert len(alerts) == 4
    for alert, disposition in zip(
        alerts, [TRUE_POSITIVE, TRUE_POSITIVE, FALSE_POSITIVE, FALSE_POSITIVE], strict=True
    ):
        # Scores differ so the threshold suggestion has something to cut.
        with tenant_scope(tenant_a):
            Alert.objects.filter(pk=alert.pk).update(
                score={TRUE_POSITIVE: 0.9, FALSE_POSITIVE: 0.4}[disposition]
            )
        close(alert, oscar.user, disposition)
    return alerts


def _candidate(tenant, *, better: bool) -> FirmModel:
    """A trained model's row as the comparison left it (no bytes: these tests never score)."""
    report = {"macro_f1": 0.8, "categories": {"guarantee": {"precision": 0.8, "recall": 0.8,
              "f1": 0.8, "positives": 5, "flagged": 5}}}  # fmt: skip
    with tenant_scope(tenant):
        return FirmModel.objects.create(
            tenant=tenant, status=FirmModel.Status.CANDIDATE, version="firm-20261206T000000Z-abc",
            baseline_version="built-in", requested_by_label="alice@firm-a.example",
            metrics={"current": report, "candidate": report, "better": better,
                     "reasons": [] if better else ["guarantee drops from 0.800 to 0.500"],
                     "lines": {}, "firm_weight": 3.0},
        )  # fmt: skip


def test_decided_alerts_become_examples_counted_per_category(decided, tenant_a):
    decisions = firm_decisions(tenant_a)
    assert sorted(d.true_positive for d in decisions) == [False, False, True, True]
    assert {d.categories for d in decisions} == {("guarantee",)}
    counts = {
        c.category: (c.positive, c.negative, c.excluded) for c in example_counts(tenant=tenant_a)
    }
    assert counts["guarantee"] == (2, 2, 0) and counts["secrecy"] == (0, 0, 0)


def test_false_positive_rates_suggest_the_min_score_that_would_have_cut_them(decided, tenant_a):
    (rate,) = false_positive_rates(tenant=tenant_a)
    assert (rate.policy, rate.decided, rate.false_positives, rate.cut) == (
        "Promises (terms)",
        4,
        2,
        2,
    )
    assert rate.lowest_true_positive == pytest.approx(0.9) and rate.rate == 0.5


def test_an_admin_leaves_an_example_out_and_puts_it_back(decided, tenant_a, alice, login_as):
    client = login_as(alice)
    first = decided[0]
    response = client.post(reverse("alerts:learning_exclude", args=[first.pk]), follow=True)
    assert f"Alert {first.pk} is left out of retraining." in response.content.decode()
    assert len(firm_decisions(tenant_a)) == 3
    counts = {c.category: (c.positive, c.excluded) for c in example_counts(tenant=tenant_a)}
    assert counts["guarantee"] == (1, 1)
    page = client.get(reverse("alerts:learning_examples")).content.decode()
    assert "Left out" in page and "Count it again" in page
    client.post(reverse("alerts:learning_include", args=[first.pk]))
    assert len(firm_decisions(tenant_a)) == 4
    with tenant_scope(tenant_a):
        actions = list(
            AuditEvent.objects.filter(target_id=str(first.pk), action__startswith="alert.example")
            .order_by("pk")
            .values_list("action", flat=True)
        )
    assert actions == ["alert.example_excluded", "alert.example_included"]


def test_an_open_alert_is_no_example_to_leave_out(tenant_a, alice, login_as, alerts):
    response = login_as(alice).post(
        reverse("alerts:learning_exclude", args=[alerts[0].pk]), follow=True
    )
    assert "is not a training example" in response.content.decode()


def test_officers_and_auditors_read_but_do_not_act(decided, tenant_a, oscar, audrey, login_as):
    row = _candidate(tenant_a, better=True)
    for person in (oscar, audrey):
        client = login_as(person)
        for name, args in (
            ("learning", []),
            ("learning_examples", []),
            ("learning_model", [row.pk]),
        ):
            response = client.get(reverse(f"alerts:{name}", args=args))
            assert response.status_code == 200
            page = response.content.decode()
            assert "Retrain from" not in page and "Put this model in use" not in page
            assert "Leave out</button>" not in page
        for name, args in (
            ("learning_retrain", []), ("learning_rollback", []),
            ("learning_promote", [row.pk]), ("learning_exclude", [decided[0].pk]),
        ):  # fmt: skip
            assert client.post(reverse(f"alerts:{name}", args=args)).status_code == 403
    with tenant_scope(tenant_a):
        assert FirmModel.objects.get(pk=row.pk).status == "candidate"
        assert FirmModel.objects.count() == 1
    assert len(firm_decisions(tenant_a)) == 4


def test_the_comparison_shows_both_models_and_promotion_is_audited(tenant_a, alice, login_as):
    row = _candidate(tenant_a, better=True)
    client = login_as(alice)
    page = client.get(reverse("alerts:learning_model", args=[row.pk])).content.decode()
    assert "Model in use (built-in)" in page and "0.800" in page and " disabled" not in page
    response = client.post(reverse("alerts:learning_promote", args=[row.pk]), follow=True)
    assert "This model now scans the firm" in response.content.decode()
    with tenant_scope(tenant_a):
        assert FirmModel.objects.get(pk=row.pk).status == "promoted"
        event = AuditEvent.objects.get(action="policy.model_promoted")
    assert (event.actor, event.target_id, event.details) == (
        alice.user,
        str(row.pk),
        {"replaced": "built-in"},
    )
    page = client.get(reverse("alerts:learning")).content.decode()
    assert "firm-20261206T000000Z-abc" in page and "Go back to the built-in model" in page


def test_a_model_measured_against_another_baseline_is_refused(tenant_a, alice, login_as):
    first = _candidate(tenant_a, better=True)
    second = _candidate(tenant_a, better=True)  # also measured against the built-in model
    client = login_as(alice)
    client.post(reverse("alerts:learning_promote", args=[first.pk]))
    response = client.post(reverse("alerts:learning_promote", args=[second.pk]), follow=True)
    assert "Another model was put in use after this one was trained" in response.content.decode()
    with tenant_scope(tenant_a):
        assert FirmModel.objects.get(pk=second.pk).status == "candidate"


def test_retraining_without_decisions_says_so(tenant_a, alice, login_as):
    response = login_as(alice).post(reverse("alerts:learning_retrain"), follow=True)
    assert "No decided alerts to learn from yet" in response.content.decode()
    with tenant_scope(tenant_a):
        assert not FirmModel.objects.exists()


def test_an_outsider_gets_404_for_the_firms_model(tenant_a, bob, login_as):
    row = _candidate(tenant_a, better=True)
    client = login_as(bob)
    assert client.get(reverse("alerts:learning_model", args=[row.pk])).status_code == 404
    assert client.post(reverse("alerts:learning_promote", args=[row.pk])).status_code == 404
    page = client.get(reverse("alerts:learning")).content.decode()
    assert "firm-20261206T000000Z-abc" not in page
