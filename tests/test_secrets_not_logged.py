"""No secret reaches a log: every path that handles one is driven with every logger at DEBUG
(the root, django.* and ours, SQL included) and each record is searched for the secrets: its
message, its arguments, its exception and traceback, and whatever else it carries (a request).

The paths: a signed webhook and one signed with the wrong secret, the webhook's verification
handshake, the media fetch with the Graph API access token (and a refused one), API key auth
(good, tampered), password login with TOTP (and a wrong password and code), an invitation link
joined, and a password reset."""

from __future__ import annotations

import logging
import re
import time
import traceback

import pytest
from django.db import connection
from rest_framework.test import APIClient

from archive.models import Attachment
from compliance_hub.accounts.services import invite_user
from compliance_hub.api.keys import issue_api_key
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from consent import services as consent
from ingestion.media import fetch_attachment
from ingestion.services import save_whatsapp_settings
from ingestion.whatsapp.signature import sign
from tests.fixtures import ANA_PHONE_ID, PASSWORD
from tests.ingestion import payloads
from tests.ingestion.delivering import deliver, process
from tests.ingestion.fake_graph import FakeGraph

APP_SECRET = "app-secret-Zq81vNw3KfR0pLx7"
VERIFY_TOKEN = "verify-token-Hs62mVb0QaT4"
ACCESS_TOKEN = "EAAGraphToken0b9c7d1e2f3a4b5c6d7e8f9"
NEW_PASSWORD = "brand-New-passw0rd-Tq7z"
JOIN_PASSWORD = "joining-Passw0rd-Xk3m"


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def every_log():
    """Every logger at DEBUG, each record kept (also of loggers that do not propagate)."""
    handler = _Everything()
    loggers = [logging.getLogger()] + [
        logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        if logger is logging.getLogger() or not logger.propagate:
            logger.addHandler(handler)
    connection.force_debug_cursor = True  # SQL and its parameters at DEBUG, as with DEBUG=True
    try:
        yield handler
    finally:
        connection.force_debug_cursor = False
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled
            logger.removeHandler(handler)


def _record_text(record: logging.LogRecord) -> str:
    parts = [str(record.msg), repr(record.args)]
    try:
        parts.append(record.getMessage())
    except Exception:  # a record whose arguments do not fit its message still gets searched
        parts.append("<unformattable>")
    if record.exc_info and record.exc_info[1] is not None:
        parts.append("".join(traceback.format_exception(*record.exc_info)))
    if record.exc_text:
        parts.append(record.exc_text)
    parts += [repr(value) for key, value in vars(record).items() if key not in ("msg", "args")]
    return "\n".join(parts)


def _image(media_id: str, sha256: str, wamid: str) -> dict:
    at = str(int(time.time()) + 1)  # after Ana's consent, so the content is kept
    return payloads.envelope(
        "messages",
        {
            "contacts": [payloads.contact("5511912345678", "Cliente")],
            "messages": [{"from": "5511912345678", "id": wamid, "timestamp": at,
                          "type": "image", "image": {"mime_type": "image/jpeg", "sha256": sha256,
                                                     "id": media_id}}],
        },
        phone_number_id=ANA_PHONE_ID,
    )  # fmt: skip


def test_no_secret_reaches_any_log_record(
    client, tenant_a, ana, alice, mailoutbox, settings, every_log,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    secrets: dict[str, str] = {
        "app secret": APP_SECRET,
        "verify token": VERIFY_TOKEN,
        "access token": ACCESS_TOKEN,
        "password": PASSWORD,
        "new password": NEW_PASSWORD,
        "joining password": JOIN_PASSWORD,
        "TOTP secret": alice.totp_secret,
    }
    # --- the webhook, signed with the app secret; the handshake with the verify token --------
    save_whatsapp_settings(
        tenant=tenant_a, app_secret=APP_SECRET, verify_token=VERIFY_TOKEN,
        access_token=ACCESS_TOKEN, actor=Actor.system(),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        consent.record_consent(employee=ana, actor=Actor.system(), evidence_reference="form")
    graph = FakeGraph(token=ACCESS_TOKEN).start()
    settings.GRAPH_API_BASE_URL = graph.base_url
    try:
        sha = graph.add("7001", b"\xff\xd8 jpeg bytes")
        delivery = deliver(
            client, tenant_a, _image("7001", sha, "wamid.SECRET1"), secret=APP_SECRET
        )
        process(tenant_a, delivery)
        forged = payloads.body(_image("7002", sha, "wamid.SECRET2"))
        refused = client.post(
            f"/webhooks/whatsapp/{tenant_a.slug}/", data=forged, content_type="application/json",
            HTTP_X_HUB_SIGNATURE_256=sign(forged, "not-the-app-secret"),
        )  # fmt: skip
        assert refused.status_code in (401, 403)
        hub = {"hub.mode": "subscribe", "hub.challenge": "4242"}
        shake = client.get(f"/webhooks/whatsapp/{tenant_a.slug}/",
                           {**hub, "hub.verify_token": VERIFY_TOKEN})  # fmt: skip
        assert shake.status_code == 200
        client.get(f"/webhooks/whatsapp/{tenant_a.slug}/", {**hub, "hub.verify_token": "wrong"})

        # --- the Graph API with the access token: a fetch, and one the Graph API refuses -----
        with tenant_scope(tenant_a):
            attachment = Attachment.objects.get(message__wamid="wamid.SECRET1")
        assert fetch_attachment(tenant=tenant_a, attachment_id=attachment.pk).status == "stored"
        assert any(seen.authorization == f"Bearer {ACCESS_TOKEN}" for seen in graph.requests)
        graph.fail(401)
        with tenant_scope(tenant_a):
            Attachment.objects.filter(pk=attachment.pk).update(status="pending", file="")
        fetch_attachment(tenant=tenant_a, attachment_id=attachment.pk)
    finally:
        graph.stop()

    # --- API keys: a good one, a tampered one ---------------------------------------------------
    key = issue_api_key(tenant=tenant_a, role=Role.ADMIN, name="k", actor=Actor.system()).plaintext
    secrets["API key"] = key
    secrets["API key's secret part"] = key.split("_", 2)[2]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert api.get("/api/v1/me/").status_code == 200
    tampered = key[:-3] + ("xyz" if not key.endswith("xyz") else "abc")
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {tampered}")
    assert api.get("/api/v1/me/").status_code == 401

    # --- password and TOTP: wrong ones first, then the right ones -------------------------------
    browser = client.__class__()
    browser.post("/accounts/login/", {"login": alice.email, "password": PASSWORD + "x"})
    step = browser.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    assert step.status_code == 302, "password accepted, the code is asked for"
    browser.post(step["Location"], {"code": "000000" if alice.totp_code() != "000000" else "1"})
    code = alice.totp_code()
    done = browser.post(step["Location"], {"code": code})
    assert done.status_code == 302 and "/2fa/" not in done["Location"]

    # --- an invitation joined -----------------------------------------------------------------
    _, link = invite_user(tenant=tenant_a, email="nina@firm-a.example", role=Role.AUDITOR,
                          actor=Actor.for_user(alice.user))  # fmt: skip
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    secrets["invitation token"] = path.rstrip("/").rsplit("/", 1)[1]
    joiner = client.__class__()
    assert joiner.get(path).status_code == 200
    joined = joiner.post(path, {"full_name": "Nina", "password1": JOIN_PASSWORD,
                                "password2": JOIN_PASSWORD})  # fmt: skip
    assert joined.status_code == 302

    # --- a password reset ---------------------------------------------------------------------
    mailoutbox.clear()
    resetter = client.__class__()
    resetter.post("/accounts/password/reset/", {"email": alice.email})
    [mail] = mailoutbox
    reset_path = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mail.body)[1]
    secrets["password reset key"] = reset_path.rstrip("/").rsplit("/", 1)[1].split("-", 1)[1]
    form = resetter.get(reset_path)
    set_path = form["Location"] if form.status_code == 302 else reset_path
    reset = resetter.post(set_path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert reset.status_code == 302, "the new password was taken"

    records = every_log.records
    assert len(records) > 50, "the paths above were logged at DEBUG"
    leaks = []
    for record in records:
        text = _record_text(record)
        leaks += [f"{name} in {record.name} {record.levelname}: {record.getMessage()[:200]!r}"
                  for name, value in secrets.items() if value and value in text]  # fmt: skip
        if re.search(rf"\b{code}\b", text):
            leaks.append(f"TOTP code in {record.name}: {record.getMessage()[:200]!r}")
    assert not leaks, "\n".join(dict.fromkeys(leaks))
