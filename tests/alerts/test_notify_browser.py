"""An officer escalates an alert in the browser; a real Celery worker sends the supervisor's
email through Django's file backend, and it lands in the folder (naming the alert and linking
to it, without the message)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from alerts.models import Alert, Status
from compliance_hub.tenancy.context import tenant_scope
from tests.browser import log_in
from tests.polling import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module", autouse=True)
def mail_folder(tmp_path_factory):
    """The worker's email backend, set before the module's worker starts (it reads its
    environment once)."""
    folder = tmp_path_factory.mktemp("sent-mail")
    saved = {k: os.environ.get(k) for k in ("EMAIL_BACKEND", "EMAIL_FILE_PATH")}
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.filebased.EmailBackend"
    os.environ["EMAIL_FILE_PATH"] = str(folder)
    yield folder
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _mail_to(folder: Path, address: str) -> str:
    texts = [p.read_text() for p in folder.glob("*.log")]
    return next((t for t in texts if f"To: {address}" in t), "")


def test_an_escalation_reaches_the_supervisors_mailbox(
    mail_folder, worker, live_server, page, alerts, oscar, alice
):
    alert = max(alerts, key=lambda a: (a.risk, a.pk))
    log_in(page, live_server.url, oscar)
    page.goto(f"{live_server.url}/alerts/{alert.pk}/")
    page.get_by_label("Move to").select_option("escalated")
    page.get_by_label("Rationale").fill("Looks like a promise of returns; senior review.")
    page.get_by_role("button", name="Save status").click()
    expect(page.get_by_text("The alert is now escalated.")).to_be_visible()
    with tenant_scope(alert.tenant_id):
        assert Alert.objects.get(pk=alert.pk).status == Status.ESCALATED

    sent = wait_until(
        lambda: _mail_to(mail_folder, alice.email),
        failure="no email reached the supervisor's mailbox folder",
    )
    assert re.search(rf"Subject: Alert {alert.pk} on a message from .* was escalated", sent)
    assert f"/alerts/{alert.pk}/" in sent
    assert "guarantee" not in sent.lower()
    assert _mail_to(mail_folder, oscar.email) == ""  # who escalated is not told
