"""A checkpoint on request: ``manage.py checkpoint_log SLUG`` and ``POST
/api/v1/ledger/checkpoints/`` sign (and anchor) the tenant's log now, so a fresh tenant verifies
at once instead of after the beat's next minute; both are audited, refuse what they must with
clear words, and two at once never fork the log."""

from __future__ import annotations

import itertools
import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from archive.ledger.models import LogCheckpoint, LogHead
from archive.ledger.services import checkpoint_and_anchor, consistency_proof, cut_checkpoint
from archive.ledger.verification import verify_log
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role, Tenant
from consent.models import Employee
from tests.archive.ledger_helpers import archive_sample, employee_of, tamper

pytestmark = pytest.mark.usefixtures("anchor_dir")

URL = "/api/v1/ledger/checkpoints/"


def run(*args: str) -> str:
    out = StringIO()
    call_command("checkpoint_log", *args, stdout=out)
    return out.getvalue()


def run_fails(*args: str) -> tuple[CommandError, str]:
    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("checkpoint_log", *args, stdout=out)
    return failure.value, out.getvalue()


def verify(slug: str = "firm-a") -> str:
    out = StringIO()
    call_command("verify_archive", slug, stdout=out)
    return out.getvalue()


def checkpoints(tenant: Tenant) -> list[LogCheckpoint]:
    with tenant_scope(tenant):
        return list(LogCheckpoint.objects.order_by("id"))


def requests_audited(tenant: Tenant) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action="ledger.checkpoint_requested").order_by("id"))


@pytest.fixture
def fresh(tenant_a):
    """Firm A with three messages (and their reactions) archived and never checkpointed."""
    archive_sample(tenant_a, employee_of(tenant_a), count=3)
    return tenant_a


# --- the command -----------------------------------------------------------------------------


def test_a_fresh_tenant_verifies_right_after_checkpoint_log(fresh):
    out = StringIO()
    with pytest.raises(CommandError) as before:
        call_command("verify_archive", "firm-a", stdout=out)
    assert before.value.returncode == 1
    assert "never been signed" in out.getvalue()

    output = run("firm-a")

    [checkpoint] = checkpoints(fresh)
    assert checkpoint.size >= 6  # three messages and three reactions, at least
    assert f"Signed checkpoint {checkpoint.pk} of firm-a: tree size {checkpoint.size}" in output
    assert f"root {bytes(checkpoint.root_hash).hex()}" in output
    assert f"signed at {checkpoint.signed_at:%Y-%m-%dT%H:%M:%S}" in output
    assert "Anchored outside the database (no timestamping authority configured)." in output
    assert "OK:" in verify()


def test_checkpoint_log_is_audited_with_what_it_signed(fresh):
    run("firm-a")

    [event] = requests_audited(fresh)
    [checkpoint] = checkpoints(fresh)
    assert event.actor_label == "checkpoint_log"
    assert event.target_type == "logcheckpoint"
    assert event.target_id == str(checkpoint.pk)
    assert event.details["size"] == checkpoint.size
    assert event.details["root"] == bytes(checkpoint.root_hash).hex()
    assert event.details["created"] is True
    assert event.details["anchored"] is True


def test_nothing_new_answers_the_checkpoint_that_covers_it_and_signs_nothing(fresh):
    checkpoint_and_anchor(tenant=fresh)
    [latest] = checkpoints(fresh)

    output = run("firm-a")

    assert checkpoints(fresh) == [latest]
    assert f"Nothing new since checkpoint {latest.pk} of firm-a" in output
    assert "already covers every record" in output
    assert requests_audited(fresh)[-1].details["created"] is False


def test_force_signs_a_new_checkpoint_of_an_unchanged_log(fresh):
    checkpoint_and_anchor(tenant=fresh)
    [latest] = checkpoints(fresh)

    output = run("firm-a", "--force")

    newest = checkpoints(fresh)[-1]
    assert newest.pk != latest.pk
    assert newest.size == latest.size
    assert bytes(newest.root_hash) == bytes(latest.root_hash)
    assert f"Signed checkpoint {newest.pk}" in output


def test_an_unknown_tenant_exits_2_and_signs_nothing(fresh):
    error, _ = run_fails("no-such-firm")
    assert error.returncode == 2
    assert "no tenant 'no-such-firm'" in str(error)
    assert checkpoints(fresh) == []


def test_a_suspended_tenant_exits_2_and_signs_nothing(fresh):
    Tenant.objects.filter(pk=fresh.pk).update(status=Tenant.Status.SUSPENDED)

    error, _ = run_fails("firm-a")

    assert error.returncode == 2
    assert "firm-a is suspended" in str(error)
    assert checkpoints(fresh) == []
    assert requests_audited(fresh) == []


def test_a_log_changed_behind_its_back_is_not_signed_and_exits_1(fresh):
    run("firm-a")
    with tenant_scope(fresh):
        ana = Employee.objects.get()
    archive_sample(fresh, ana, start=3, count=1)
    tamper(fresh, LogHead._meta.db_table, f"UPDATE {LogHead._meta.db_table} SET size = size + 1")
    before = checkpoints(fresh)

    error, _ = run_fails("firm-a")

    assert error.returncode == 1
    assert "the log of firm-a was not signed" in str(error)
    assert "verify_archive firm-a" in str(error)
    assert checkpoints(fresh) == before


def test_a_checkpoint_that_cannot_be_anchored_is_signed_and_exits_1(fresh, settings, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the anchor folder should be")
    settings.LEDGER_ANCHOR_DIR = blocked

    error, output = run_fails("firm-a")

    [checkpoint] = checkpoints(fresh)
    assert f"Signed checkpoint {checkpoint.pk}" in output
    assert error.returncode == 1
    assert "signed but not anchored outside the database yet" in str(error)
    assert "the next beat retries" in str(error)
    [event] = requests_audited(fresh)
    assert event.details["anchored"] is False
    assert event.details["anchor_error"]


# --- the API ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
def test_auditors_and_admins_sign_a_checkpoint_through_the_api(fresh, api_client_for, role):
    response = api_client_for(fresh, role).post(URL, {}, format="json")

    assert response.status_code == 201, response.content
    [checkpoint] = checkpoints(fresh)
    body = response.json()
    assert body["id"] == checkpoint.pk
    assert body["size"] == checkpoint.size
    assert body["root"] == bytes(checkpoint.root_hash).hex()
    assert body["created"] is True
    assert body["anchored"] is True
    assert body["timestamped"] is False
    assert body["anchor_error"] == ""
    assert "OK:" in verify()


def test_nothing_new_through_the_api_is_a_200_with_the_covering_checkpoint(fresh, api_client_for):
    auditor = api_client_for(fresh, Role.AUDITOR)  # issuing its key is audited: a new leaf
    checkpoint_and_anchor(tenant=fresh)
    [latest] = checkpoints(fresh)

    response = auditor.post(URL, {}, format="json")

    assert response.status_code == 200
    assert response.json()["id"] == latest.pk
    assert response.json()["created"] is False
    forced = auditor.post(URL, {"force": True}, format="json")
    assert forced.status_code == 201
    assert len(checkpoints(fresh)) == 2


def test_officers_may_not_sign_checkpoints(fresh, api_client_for):
    response = api_client_for(fresh, Role.OFFICER).post(URL, {}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert checkpoints(fresh) == []


def test_the_api_audits_the_person_who_asked(fresh, client, audrey):
    client.force_login(audrey.user)

    response = client.post(URL, {}, content_type="application/json")

    assert response.status_code == 201
    [event] = requests_audited(fresh)
    assert event.actor_id == audrey.user.pk
    assert event.actor_label == audrey.email
    assert event.details["checkpoint_id"] == response.json()["id"]


def test_another_tenants_checkpoint_signs_only_its_own_log(fresh, tenant_b, api_client_for):
    response = api_client_for(tenant_b, Role.ADMIN).post(URL, {}, format="json")

    assert response.status_code == 201
    assert checkpoints(fresh) == []
    assert [c.tenant_id for c in checkpoints(tenant_b)] == [tenant_b.pk]
    assert requests_audited(fresh) == []


def test_a_log_changed_behind_its_back_is_a_409_through_the_api(fresh, api_client_for):
    checkpoint_and_anchor(tenant=fresh)
    tamper(fresh, LogHead._meta.db_table, f"UPDATE {LogHead._meta.db_table} SET size = size + 1")

    response = api_client_for(fresh, Role.ADMIN).post(URL, {}, format="json")

    assert response.status_code == 409
    assert "verify_archive" in response.json()["error"]["message"]
    assert len(checkpoints(fresh)) == 1


def test_a_bad_force_is_a_400_and_signs_nothing(fresh, api_client_for):
    response = api_client_for(fresh, Role.ADMIN).post(URL, {"force": "perhaps"}, format="json")

    assert response.status_code == 400
    assert checkpoints(fresh) == []


# --- two at once -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_do_not_fork_the_log(tenant_a):
    archive_sample(tenant_a, employee_of(tenant_a), count=5)
    start = threading.Barrier(2)
    outcomes, errors = [], []

    def ask() -> None:
        try:
            start.wait(timeout=10)
            outcomes.append(cut_checkpoint(tenant=tenant_a, actor=Actor.system()))
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert len(outcomes) == 2
    signed = checkpoints(tenant_a)
    # The one that waited for the head lock found the other's leaves sequenced: either nothing
    # new (it answers the same checkpoint) or only what was queued meanwhile. Never two trees of
    # one size with different roots, and every later tree extends the earlier one.
    assert 1 <= len(signed) <= 2
    assert {outcome.checkpoint.pk for outcome in outcomes} <= {c.pk for c in signed}
    assert signed[0].size >= 10
    for earlier, later in itertools.pairwise(signed):
        assert later.size >= earlier.size
        assert consistency_proof(tenant=tenant_a, first=earlier, second=later).verify()
    assert verify_log(tenant=tenant_a).ok
