"""Personas, as in Healthchecks' tests: an admin, an officer and an auditor of firm A, an
outsider who is the admin of firm B, and Ana, an employee of firm A (``ana``)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from compliance_hub.accounts.models import User
from compliance_hub.accounts.services import add_member
from compliance_hub.api.keys import issue_api_key
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Role, Tenant
from compliance_hub.tenancy.services import create_tenant
from consent import services as consent
from consent.models import Employee

PASSWORD = "correct-Horse-battery-9"
# Ana's WhatsApp Business phone number id: the number the ingestion tests' payloads are sent to.
ANA_PHONE_ID = "106540352242922"


@dataclass
class Person:
    user: User
    totp_secret: str | None

    @property
    def email(self) -> str:
        return self.user.email

    def totp_code(self, offset_periods: int = 0) -> str:
        return pyotp.TOTP(self.totp_secret).at(time.time() + 30 * offset_periods)


def make_person(email: str, *, tenant: Tenant | None, role: str | None, mfa: bool = True) -> Person:
    user = User.objects.create_user(email, PASSWORD, full_name=email.split("@")[0].title())
    if tenant is not None and role is not None:
        add_member(tenant=tenant, user=user, role=role, actor=Actor.system())
    secret = None
    if mfa:
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
        RecoveryCodes.activate(user)
    return Person(user=user, totp_secret=secret)


@pytest.fixture
def tenant_a(db, django_capture_on_commit_callbacks) -> Tenant:
    # Created as by a committed transaction: its after-commit work (gate invalidation) has run.
    with django_capture_on_commit_callbacks(execute=True):
        return create_tenant(slug="firm-a", name="Firm A Bank", actor=Actor.system())


@pytest.fixture
def tenant_b(db, django_capture_on_commit_callbacks) -> Tenant:
    with django_capture_on_commit_callbacks(execute=True):
        return create_tenant(slug="firm-b", name="Firm B Brokers", actor=Actor.system())


@pytest.fixture
def alice(tenant_a) -> Person:
    """Admin of firm A."""
    return make_person("alice@firm-a.example", tenant=tenant_a, role=Role.ADMIN)


@pytest.fixture
def oscar(tenant_a) -> Person:
    """Compliance officer of firm A."""
    return make_person("oscar@firm-a.example", tenant=tenant_a, role=Role.OFFICER)


@pytest.fixture
def audrey(tenant_a) -> Person:
    """Auditor of firm A."""
    return make_person("audrey@firm-a.example", tenant=tenant_a, role=Role.AUDITOR)


@pytest.fixture
def bob(tenant_b) -> Person:
    """Admin of firm B: the outsider for every test of firm A."""
    return make_person("bob@firm-b.example", tenant=tenant_b, role=Role.ADMIN)


@pytest.fixture
def ana(tenant_a, django_capture_on_commit_callbacks) -> Employee:
    """Ana Souza, employee A-1 of firm A (no team) on WhatsApp number ANA_PHONE_ID, who has not
    consented yet; added as by a committed request (the gate's invalidation has run). Consented
    and on a firm connected to WhatsApp, she is ``connected_employee`` (tests/connected.py)."""
    with django_capture_on_commit_callbacks(execute=True):
        return consent.create_employee(
            tenant=tenant_a,
            data=consent.EmployeeData(
                full_name="Ana Souza",
                email="ana@firm-a.example",
                employee_id="A-1",
                phone_number="+55 11 98765-4321",
                region="BR",
                whatsapp_phone_number_id=ANA_PHONE_ID,
            ),
            actor=Actor.system(),
        )


@pytest.fixture
def person_factory():
    return make_person


def login(client, person: Person) -> None:
    """A session as after a full login (password and TOTP); the login itself is tested in
    tests/test_login_mfa.py."""
    client.force_login(person.user, backend="django.contrib.auth.backends.ModelBackend")


@pytest.fixture
def login_as(client):
    def _login(person: Person):
        login(client, person)
        return client

    return _login


@pytest.fixture
def api_key_factory():
    def _issue(tenant: Tenant, role: str = Role.ADMIN) -> str:
        return issue_api_key(
            tenant=tenant, role=role, name=f"test {role}", actor=Actor.system()
        ).plaintext

    return _issue


@pytest.fixture
def admin_api(api_client_for, tenant_a):
    """An API client with an admin key of firm A."""
    return api_client_for(tenant_a, Role.ADMIN)


@pytest.fixture
def api_client_for(api_key_factory):
    from rest_framework.test import APIClient

    def _client(tenant: Tenant, role: str = Role.ADMIN) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_factory(tenant, role)}")
        return client

    return _client


def has_totp(user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker process on the test database and the test Redis, consuming the
    default, ingestion and exports queues (and the probe task of tests/celery_probe.py). It lives
    for the module that asks for it, not the session: other modules count on nobody consuming
    what they queue (a drain test that holds some deliveries locked found the rest already
    processed when a worker from an earlier module of the same test process was still running)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.conf import settings
    from django.db import connection

    env = {
        **os.environ,
        "DJANGO_ENV": "test",
        "DATABASE_NAME": connection.settings_dict["NAME"],
        "DB_SET_ROLE": settings.DB_APP_ROLE,
    }
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "compliance_hub", "worker", "-P", "solo",
             "-Q", "default,ingestion,exports", "-I", "tests.celery_probe", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-l", "info"],
            cwd=Path(__file__).resolve().parent.parent, env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    if process.returncode not in (0, -15):
        print(log.read_text())
