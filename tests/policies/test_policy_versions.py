"""Policies keep every version: a save adds one (never changes one), an unchanged save adds
nothing, a bad document keeps nothing, and each change is in the audit trail."""

from __future__ import annotations

import pytest

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from policies.models import Policy, PolicyVersion
from policies.services import PolicyDocumentError, create_policy, save_version, set_active
from tests.database import attempt

OFFICER = Actor.command("test-officer")
SECRECY = {
    "name": "Hiding things from compliance",
    "severity": "high",
    "detect": {"detector": "classifier", "category": "secrecy", "min_score": 0.8},
}


@pytest.fixture
def policy(tenant_a):
    with tenant_scope(tenant_a):
        made, warnings = create_policy(tenant=tenant_a, actor=OFFICER, document=SECRECY)
    assert warnings == []
    return made


def test_a_new_policy_is_version_one_and_off(tenant_a, policy):
    with tenant_scope(tenant_a):
        [version] = PolicyVersion.objects.filter(policy=policy)
        event = AuditEvent.objects.get(action="policy.created")
    assert (policy.active, policy.version, version.number, version.document) == (
        False, 1, 1, SECRECY,
    )  # fmt: skip
    assert event.details["sha256"] == version.document_sha256 and len(version.document_sha256) == 64


def test_a_save_adds_a_version_and_keeps_the_earlier_one(tenant_a, policy):
    changed = {**SECRECY, "name": "Concealment", "severity": "critical"}
    with tenant_scope(tenant_a):
        version, _ = save_version(policy=policy, actor=OFFICER, document=changed, note="stricter")
        versions = list(PolicyVersion.objects.filter(policy=policy).order_by("number"))
        policy.refresh_from_db()
        event = AuditEvent.objects.get(action="policy.version_saved")
    assert [v.document for v in versions] == [SECRECY, changed]
    assert (policy.version, policy.name, version.note) == (2, "Concealment", "stricter")
    assert event.details["previous_sha256"] == versions[0].document_sha256


def test_an_unchanged_save_adds_nothing(tenant_a, policy):
    with tenant_scope(tenant_a):
        version, _ = save_version(policy=policy, actor=OFFICER, document=dict(SECRECY))
        assert version.number == 1
        assert PolicyVersion.objects.count() == 1
        assert not AuditEvent.objects.filter(action="policy.version_saved").exists()


def test_a_bad_document_keeps_nothing_and_says_where(tenant_a, policy):
    bad = {**SECRECY, "detect": {"detector": "classifier", "category": "secrecy", "min_score": 2}}
    with tenant_scope(tenant_a):
        with pytest.raises(PolicyDocumentError) as refused:
            save_version(policy=policy, actor=OFFICER, document=bad)
        assert PolicyVersion.objects.count() == 1
    assert "detect > min_score" in str(refused.value)


def test_two_policies_cannot_share_a_name(tenant_a, policy):
    with tenant_scope(tenant_a), pytest.raises(PolicyDocumentError, match="already has a policy"):
        create_policy(tenant=tenant_a, actor=OFFICER, document=SECRECY)


def test_another_firm_may_use_the_same_name(tenant_a, tenant_b, policy):
    with tenant_scope(tenant_b):
        create_policy(tenant=tenant_b, actor=OFFICER, document=SECRECY)
        assert Policy.objects.count() == 1


def test_switching_on_and_off_is_audited_once_per_change(tenant_a, policy):
    with tenant_scope(tenant_a):
        set_active(policy=policy, actor=OFFICER, active=True)
        set_active(policy=policy, actor=OFFICER, active=True)
        set_active(policy=policy, actor=OFFICER, active=False)
        actions = list(
            AuditEvent.objects.filter(action__startswith="policy.").values_list("action", flat=True)
        )
    assert sorted(actions) == ["policy.created", "policy.disabled", "policy.enabled"]


def test_the_database_refuses_to_change_a_version(tenant_a, policy):
    with tenant_scope(tenant_a):
        version = PolicyVersion.objects.get()
        changed = attempt(
            "UPDATE policies_policyversion SET note = 'x' WHERE id = %s", [version.pk]
        )
        removed = attempt("DELETE FROM policies_policyversion WHERE id = %s", [version.pk])
    assert changed != "allowed" and removed != "allowed"
