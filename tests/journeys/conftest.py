"""Fixtures of the end-to-end journeys: a real Celery worker that mails through Django's file
backend into a folder and keeps media and exports in another (both shared with the live server),
the fake Graph API, pages with patient timeouts, and the firm as each journey finds it."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from consent import services as consent
from consent.models import Employee
from ingestion.services import save_whatsapp_settings
from policies.services import enable_pack
from tests.alerts.learning_helpers import write_tiny_corpus
from tests.ingestion.fake_graph import FakeGraph
from tests.journeys.recorder import Journey
from tests.journeys.webhooks import ACCESS_TOKEN, APP_SECRET, PHONE_ID
from tests.polling import wait_until

# A loaded CI machine (two cores, a worker, Chromium and PostgreSQL at once) answers a first page
# in seconds, not milliseconds: every wait of these tests is generous.
PAGE_TIMEOUT_MS = 45_000
EXPECT_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def worker_folders(live_server, tmp_path_factory):
    """The worker's mail folder and media folder, and the live server's address for the links
    in its emails: set in the environment before the module's worker starts (it reads it once),
    so a module asks for it first (``usefixtures``, which comes before its tests' arguments)."""
    mail = tmp_path_factory.mktemp("journeys-mail")
    media = tmp_path_factory.mktemp("journeys-media")
    # A fresh worker trains the built-in classifiers on its first scan (no artifact in its own
    # MODELS_DIR): 8 s on the shipped corpus on a quiet machine, minutes on a loaded one, all of
    # it inside "the officer sees the alert within seconds". The journeys' alerts come from the
    # PII and link detectors, so the worker trains on the learning tests' tiny corpus instead.
    corpus = write_tiny_corpus(tmp_path_factory.mktemp("journeys-corpus"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
        patch.setenv("EMAIL_FILE_PATH", str(mail))
        patch.setenv("MEDIA_ROOT", str(media))
        patch.setenv("SITE_URL", live_server.url)
        patch.setenv("ML_CORPUS_DIR", str(corpus))
        yield {"mail": mail, "media": media}


@pytest.fixture
def same_media_as_the_worker(settings, worker_folders):
    """The live server serves what the worker stored (previews, exports)."""
    settings.MEDIA_ROOT = str(worker_folders["media"])


@pytest.fixture
def journey(request):
    """The test's steps; on a failure outside a step, the shots are saved at teardown."""
    recorded = Journey(request.node.name)
    yield recorded
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed and recorded.saved is None:
        print(f"Journey screenshots: {recorded.save()}")


def _page(browser, **options):
    from playwright.sync_api import expect

    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    return context, page


@pytest.fixture
def desk(browser, journey):
    """A desktop browser window (the admin's, officer's or auditor's)."""
    from playwright.sync_api import expect

    context, page = _page(browser, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.on("dialog", lambda dialog: dialog.accept())  # "Email 2 invitations?": yes
    journey.watch("desk", page)
    yield page
    context.close()
    expect.set_options(timeout=None)  # Playwright's default again for the other modules


@pytest.fixture
def phone(browser, journey):
    """The employee's phone."""
    context, page = _page(
        browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    journey.watch("phone", page)
    yield page
    context.close()


@pytest.fixture
def graph():
    """Meta's Graph API, faked on loopback: the worker downloads the voice note from it."""
    fake = FakeGraph(token=ACCESS_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def firm(tenant_a, alice, oscar, audrey) -> Tenant:
    """Firm A with its admin, officer and auditor, its WhatsApp app connected (with the access
    token media downloads need), and the Financial services and Data protection packs on."""
    save_whatsapp_settings(
        tenant=tenant_a, app_secret=APP_SECRET, access_token=ACCESS_TOKEN, actor=Actor.system()
    )
    with tenant_scope(tenant_a):
        for slug in ("financial_services", "data_protection"):
            enable_pack(tenant=tenant_a, actor=Actor.command("journeys"), slug=slug)
    return tenant_a


@pytest.fixture
def consented(firm, live_server, mailoutbox) -> tuple[Employee, str]:
    """Where journey 1 ends: Ana is on the journeys' WhatsApp number and accepted her invitation
    (through the services the pages call). Returns her and the withdrawal link of her
    confirmation email."""
    employee = consent.create_employee(
        tenant=firm,
        data=consent.EmployeeData(
            full_name="Ana Souza", email="ana.souza@firm-a.example", employee_id="A-1",
            phone_number="+55 11 98765-4301", region="BR", whatsapp_phone_number_id=PHONE_ID,
        ),
        actor=Actor.system(),
    )  # fmt: skip
    invitation, _link = consent.invite_employee(
        employee=employee, actor=Actor.system(), base_url=live_server.url
    )
    consent.accept_consent(
        invitation=invitation,
        signature_name="Ana Souza",
        actor=Actor.system(),
        base_url=live_server.url,
    )
    [confirmation] = [m for m in mailoutbox if "/consent/w/" in m.body]
    link = next(word for word in confirmation.body.split() if "/consent/w/" in word)
    return employee, link


def mail_to(folder: Path, address: str) -> str:
    """The text of the email the worker sent to ``address`` (the file backend's folder), or ""."""
    for path in sorted(folder.glob("*.log")):
        for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            message = email.message_from_bytes(raw.strip(), policy=policy.default)
            if address in str(message.get("To", "")):
                body = message.get_body(preferencelist=("plain",))
                return body.get_content() if body is not None else ""
    return ""


def wait_for_mail(folder: Path, address: str) -> str:
    return wait_until(
        lambda: mail_to(folder, address),
        failure=f"the worker sent no email to {address} (folder {folder})",
        interval=0.25,
    )
