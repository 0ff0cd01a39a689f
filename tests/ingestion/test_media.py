"""Media of archived messages: fetched from the Graph API at once (a real HTTP fake on loopback),
verified against Meta's SHA-256, stored by content, retried when Meta or the network fails, and
never fetched for a message the consent gate refused."""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from archive.models import Attachment, Message
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.services import create_tenant
from consent import services as consent
from ingestion import media as media_service
from ingestion.graph import GraphClient, MediaTooLarge
from ingestion.media import attachments_to_fetch, decode_sha256, fetch_attachment
from ingestion.media_tasks import fetch_media_task, requeue_missing_media_task
from ingestion.models import CaptureNotice, Delivery, Refusal
from ingestion.services import save_whatsapp_settings
from ingestion.whatsapp.signature import sign
from tests.ingestion import payloads
from tests.ingestion.delivering import deliver, process
from tests.ingestion.fake_graph import FakeGraph
from tests.polling import wait_until

SECRET = "app-secret-of-firm-a-0123456789"
TOKEN = "EAAGm0PX4ZCpsBAAccessTokenOfFirmA0123456789"
PHONE_ID = "106540352242922"
PHOTO = b"\xff\xd8\xff\xe0" + b"a photo of a signed contract " * 200 + b"\xff\xd9"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake(settings):
    """Meta's Graph API, faked on 127.0.0.1; the archive's media folder is a temporary one."""
    graph = FakeGraph(token=TOKEN).start()
    settings.GRAPH_API_BASE_URL = graph.base_url
    settings.GRAPH_API_TIMEOUT_SECONDS = 0.5
    yield graph
    graph.stop()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def now_seconds() -> int:
    """WhatsApp's whole seconds, after the employee's consent (recorded a moment ago)."""
    return int(time.time()) + 1


def make_employee(tenant, *, phone_id, email, employee_id, phone, consented=True):
    employee = consent.create_employee(
        tenant=tenant,
        data=consent.EmployeeData(
            full_name=email.split("@")[0].title(),
            email=email,
            employee_id=employee_id,
            phone_number=phone,
            whatsapp_phone_number_id=phone_id,
        ),
        actor=Actor.system(),
    )
    if consented:
        consent.record_consent(
            employee=employee,
            actor=Actor.system(),
            evidence_reference="signed form",
            occurred_at=employee.created_at + timedelta(milliseconds=1),
        )
    return employee


@pytest.fixture
def employee_with_media_access(tenant_a, django_capture_on_commit_callbacks):
    """Firm A's WhatsApp app is connected with an access token; Ana, on PHONE_ID, consented."""
    save_whatsapp_settings(
        tenant=tenant_a,
        app_secret=SECRET,
        verify_token="verify-token-123",
        access_token=TOKEN,
        actor=Actor.system(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        return make_employee(
            tenant_a, phone_id=PHONE_ID, email="ana@firm-a.example", employee_id="A-1",
            phone="+55 11 98765-4321",
        )  # fmt: skip


def inbound_image(
    *, phone_number_id: str, wamid: str, media_id: str, sha256: str, timestamp: int,
    url: str | None = None, wa_id: str = "5511912345678",
) -> dict:  # fmt: skip
    image = {"caption": "o contrato", "mime_type": "image/jpeg", "sha256": sha256, "id": media_id}
    if url is not None:
        image["url"] = url
    return payloads.envelope(
        "messages",
        {
            "contacts": [payloads.contact(wa_id, "Cliente Silva")],
            "messages": [
                {"from": wa_id, "id": wamid, "timestamp": str(timestamp), "type": "image",
                 "image": image}
            ],
        },
        phone_number_id=phone_number_id,
    )  # fmt: skip


def send_image(client, tenant, fake, *, wamid="wamid.IMG1", media_id="1001", data=PHOTO,
               sha256=None, url=None, phone_id=PHONE_ID):  # fmt: skip
    meta_sha = fake.add(media_id, data)
    process(
        tenant,
        deliver(
            client,
            tenant,
            inbound_image(
                phone_number_id=phone_id, wamid=wamid, media_id=media_id,
                sha256=meta_sha if sha256 is None else sha256, timestamp=now_seconds(),
                url=url,
            ),
        ),
    )  # fmt: skip


def the_attachment(tenant, wamid="wamid.IMG1") -> Attachment:
    with tenant_scope(tenant):
        return Attachment.objects.select_related("message").get(message__wamid=wamid)


def fetch(tenant, attachment):
    return fetch_attachment(tenant=tenant, attachment_id=attachment.pk)


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- The happy path ------------------------------------------------------------------------------


def test_a_consented_image_is_fetched_verified_and_stored(
    client, tenant_a, employee_with_media_access, fake
):
    send_image(client, tenant_a, fake)
    pending = the_attachment(tenant_a)
    assert (pending.status, pending.media_id, pending.mime_type) == (
        "pending",
        "1001",
        "image/jpeg",
    )

    result = fetch(tenant_a, pending)

    attachment = the_attachment(tenant_a)
    digest = hashlib.sha256(PHOTO).hexdigest()
    assert result.status == attachment.status == "stored"
    assert attachment.sha256 == digest and attachment.size == len(PHOTO)
    assert attachment.mime_type == "image/jpeg" and attachment.stored_at is not None
    assert attachment.file.name == f"attachments/{tenant_a.pk}/{digest[:2]}/{digest}"
    with default_storage.open(attachment.file.name) as stored:
        assert stored.read() == PHOTO
    assert (attachment.attempts, attachment.last_error) == (1, "")
    # Meta's two steps: the media id for a fresh URL, then the bytes, each with the bearer token.
    assert fake.paths() == ["/1001", "/download/1001"]
    assert {seen.authorization for seen in fake.requests} == {f"Bearer {TOKEN}"}


def test_metas_sha256_is_accepted_in_hex_as_in_its_history_example(
    client, tenant_a, employee_with_media_access, fake
):
    send_image(client, tenant_a, fake, sha256=hashlib.sha256(PHOTO).hexdigest())
    assert fetch(tenant_a, the_attachment(tenant_a)).status == "stored"


def test_decode_sha256_reads_hex_and_base64_and_nothing_else():
    digest = hashlib.sha256(b"x").digest()
    assert decode_sha256(digest.hex()) == digest
    assert decode_sha256(digest.hex().upper()) == digest
    assert decode_sha256(base64.b64encode(digest).decode()) == digest
    assert decode_sha256(base64.urlsafe_b64encode(digest).decode().rstrip("=")) == digest
    assert decode_sha256("") is None
    assert decode_sha256("not-a-hash") is None
    assert decode_sha256(base64.b64encode(b"short").decode()) is None


def test_the_url_already_in_the_webhook_is_used_directly(
    client, tenant_a, employee_with_media_access, fake
):
    send_image(client, tenant_a, fake, url=f"{fake.base_url}/download/1001?gen=1")
    assert fetch(tenant_a, the_attachment(tenant_a)).status == "stored"
    assert fake.paths() == ["/download/1001"], "no lookup when the webhook gave the URL"


def test_an_expired_webhook_url_is_replaced_by_a_fresh_one(
    client, tenant_a, employee_with_media_access, fake
):
    send_image(client, tenant_a, fake, url=f"{fake.base_url}/download/1001?gen=1")
    fake.expire_urls()  # Meta's 5 minutes are over
    assert fetch(tenant_a, the_attachment(tenant_a)).status == "stored"
    assert fake.paths() == ["/download/1001", "/1001", "/download/1001"]


def test_a_webhook_url_older_than_five_minutes_is_not_tried(
    client, tenant_a, employee_with_media_access, fake
):
    attachment = deliver_image_received(
        client, tenant_a, fake, wamid="wamid.LATE", media_id="1001", ago=timedelta(minutes=6),
        url=f"{fake.base_url}/download/1001?gen=1",
    )  # fmt: skip
    assert fetch(tenant_a, attachment).status == "stored"
    assert fake.paths() == ["/1001", "/download/1001"]


def test_a_webhook_url_on_a_host_that_is_not_metas_never_gets_the_token(
    client, tenant_a, employee_with_media_access, fake, settings
):
    settings.GRAPH_MEDIA_URL_HOSTS = ["lookaside.fbsbx.com"]
    send_image(client, tenant_a, fake, url=f"{fake.base_url}/download/1001?gen=1")
    assert fetch(tenant_a, the_attachment(tenant_a)).status == "stored"
    assert fake.paths() == ["/1001", "/download/1001"], "the URL of the Graph API's answer"


# --- Bad bytes, Meta down -------------------------------------------------------------------------


def test_a_hash_mismatch_leaves_the_media_missing_and_keeps_no_file(
    client, tenant_a, employee_with_media_access, fake, media_root
):
    send_image(client, tenant_a, fake)
    fake.wrong_sha256 = True  # the bytes are not the ones Meta hashed

    result = fetch(tenant_a, the_attachment(tenant_a))

    attachment = the_attachment(tenant_a)
    assert result.status == attachment.status == "missing"
    assert "SHA-256 mismatch" in attachment.last_error and "not stored" in attachment.last_error
    assert (attachment.file.name, attachment.sha256, attachment.size) == ("", "", None)
    assert stored_files(media_root) == []
    with tenant_scope(tenant_a):
        assert Message.objects.get(wamid="wamid.IMG1").text == "o contrato"


@pytest.mark.parametrize("outage", ["500", "timeout"])
def test_a_graph_api_outage_is_retried_later_and_stored_once_meta_recovers(
    client, tenant_a, employee_with_media_access, fake, outage
):
    send_image(client, tenant_a, fake)
    if outage == "500":
        fake.fail(500)
    else:
        fake.delay = 1.5  # over the 0.5 s timeout

    result = fetch(tenant_a, the_attachment(tenant_a))

    attachment = the_attachment(tenant_a)
    assert result.status == attachment.status == "missing" and attachment.attempts == 1
    expected = "answered 500" if outage == "500" else "timed out"
    assert expected in attachment.last_error
    with tenant_scope(tenant_a):
        assert Message.objects.filter(wamid="wamid.IMG1").exists(), "the message stays archived"
    # The beat leaves it alone for a while, then queues it again.
    now = timezone.now()
    assert (tenant_a.pk, attachment.pk) not in attachments_to_fetch(now)
    assert (tenant_a.pk, attachment.pk) in attachments_to_fetch(now + timedelta(minutes=3))

    fake.recover()
    assert fetch(tenant_a, attachment).status == "stored"
    attachment = the_attachment(tenant_a)
    assert (attachment.status, attachment.attempts, attachment.last_error) == ("stored", 2, "")
    with default_storage.open(attachment.file.name) as stored:
        assert stored.read() == PHOTO


def test_the_fetch_task_retries_with_backoff_until_meta_answers(
    client, tenant_a, employee_with_media_access, fake
):
    send_image(client, tenant_a, fake)
    fake.fail(503, on="lookup", times=2)

    # Eager: the task's retries run at once, in order (their countdowns are 15 s, 30 s ...).
    outcome = fetch_media_task.apply(
        kwargs={"tenant_id": tenant_a.pk, "attachment_id": the_attachment(tenant_a).pk}
    ).get()

    attachment = the_attachment(tenant_a)
    assert outcome == attachment.status == "stored"
    assert attachment.attempts == 3
    assert fake.paths() == ["/1001", "/1001", "/1001", "/download/1001"]
    assert [media_service.quick_retry_delay(n) for n in range(5)] == [15, 30, 60, 120, None]


def test_a_404_for_the_media_id_is_missing_with_the_reason(
    client, tenant_a, employee_with_media_access, fake
):
    send_image(client, tenant_a, fake)
    fake.media.clear()
    assert fetch(tenant_a, the_attachment(tenant_a)).status == "missing"
    error = the_attachment(tenant_a).last_error
    assert "answered 404" in error and "Object does not exist" in error


def test_after_the_last_attempt_the_media_is_failed_for_good(
    client, tenant_a, employee_with_media_access, fake
):
    send_image(client, tenant_a, fake)
    attachment = the_attachment(tenant_a)
    with tenant_scope(tenant_a):
        Attachment.objects.filter(pk=attachment.pk).update(
            status="missing", attempts=media_service.MAX_ATTEMPTS - 1
        )
    fake.fail(500)
    assert fetch(tenant_a, attachment).status == "failed"
    assert (tenant_a.pk, attachment.pk) not in attachments_to_fetch(
        timezone.now() + timedelta(days=6)
    )
    fake.recover()
    assert fetch(tenant_a, attachment).status == "failed", "failed is final"
    assert fake.paths() == ["/1001"]
    # The admin is told at once: the message is archived, its file never will be.
    [notice] = media_lost_notices(tenant_a)
    assert notice.phone_number_id == PHONE_ID
    assert "Media could not be archived for" in notice.message and "500" in notice.message


def media_lost_notices(tenant) -> list[CaptureNotice]:
    with tenant_scope(tenant):
        return list(CaptureNotice.objects.filter(kind=CaptureNotice.Kind.MEDIA_LOST))


def deliver_image_received(client, tenant, fake, *, wamid, media_id, ago, url=None):
    """An image message whose delivery was acknowledged ``ago`` and processed only now."""
    meta_sha = fake.add(media_id, PHOTO)
    delivery = deliver(
        client, tenant,
        inbound_image(phone_number_id=PHONE_ID, wamid=wamid, media_id=media_id,
                      sha256=meta_sha, timestamp=now_seconds(), url=url),
    )  # fmt: skip
    with tenant_scope(tenant):
        Delivery.objects.filter(pk=delivery.pk).update(received_at=timezone.now() - ago)
    process(tenant, delivery)
    return the_attachment(tenant, wamid)


def test_media_whose_id_is_older_than_seven_days_is_failed_without_asking_meta(
    client, tenant_a, employee_with_media_access, fake
):
    attachment = deliver_image_received(
        client, tenant_a, fake, wamid="wamid.OLD", media_id="1001", ago=timedelta(days=8)
    )
    assert attachment.status == "pending"
    assert (tenant_a.pk, attachment.pk) not in attachments_to_fetch()
    assert fetch(tenant_a, attachment).status == "failed"
    assert "expired" in the_attachment(tenant_a, "wamid.OLD").last_error
    assert fake.requests == []


def test_the_beat_requeues_what_is_due_and_gives_up_on_expired_media(
    client, tenant_a, employee_with_media_access, fake, monkeypatch
):
    fresh = deliver_image_received(
        client, tenant_a, fake, wamid="wamid.FRESH", media_id="1001", ago=timedelta(0)
    )
    # Archived ten minutes ago, but its fetch was never queued (the broker was down).
    unqueued = deliver_image_received(
        client, tenant_a, fake, wamid="wamid.UNQUEUED", media_id="1002", ago=timedelta(minutes=10)
    )
    stale = deliver_image_received(
        client, tenant_a, fake, wamid="wamid.STALE", media_id="1003", ago=timedelta(days=7, hours=1)
    )
    with tenant_scope(tenant_a):
        Attachment.objects.filter(pk=stale.pk).update(
            status="missing", attempts=9, last_error="Graph API media lookup answered 500"
        )
    queued = []
    monkeypatch.setattr(fetch_media_task, "delay", lambda **kwargs: queued.append(kwargs))

    assert requeue_missing_media_task() == 1

    assert queued == [{"tenant_id": tenant_a.pk, "attachment_id": unqueued.pk}]
    assert the_attachment(tenant_a, "wamid.FRESH").status == "pending", "its own task is on it"
    stale = the_attachment(tenant_a, "wamid.STALE")
    assert stale.status == "failed"
    assert stale.last_error.startswith("the media id expired")
    assert stale.last_error.endswith("answered 500"), "the last error is kept"
    assert fresh.pk not in {q["attachment_id"] for q in queued}
    [notice] = media_lost_notices(tenant_a)
    assert "expired" in notice.message and notice.phone_number_id == PHONE_ID
    # Once a day per number, however many media of it are given up on.
    deliver_image_received(
        client, tenant_a, fake, wamid="wamid.STALE2", media_id="1004", ago=timedelta(days=8)
    )
    assert media_service.expire_attachments() == 1
    assert the_attachment(tenant_a, "wamid.STALE2").status == "failed"
    assert len(media_lost_notices(tenant_a)) == 1


def test_no_access_token_leaves_the_media_missing_with_a_clear_reason(
    client, tenant_a, employee_with_media_access, fake
):
    send_image(client, tenant_a, fake)
    save_whatsapp_settings(tenant=tenant_a, access_token="", actor=Actor.system())
    assert fetch(tenant_a, the_attachment(tenant_a)).status == "missing"
    assert "no WhatsApp access token" in the_attachment(tenant_a).last_error
    assert fake.requests == []


def test_the_graph_client_refuses_media_over_the_size_cap(fake):
    fake.add("2002", b"x" * 2048)
    with GraphClient(access_token=TOKEN, base_url=fake.base_url, max_bytes=1024) as graph:
        with pytest.raises(MediaTooLarge):
            graph.media_info("2002")  # file_size is over the cap already
        with pytest.raises(MediaTooLarge):
            graph.download(fake.url_for("2002"), into=io.BytesIO())


# --- The token, consent, idempotency ----------------------------------------------------------


def test_the_access_token_is_sent_as_bearer_and_never_logged_or_recorded(
    client, tenant_a, employee_with_media_access, fake, caplog
):
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    send_image(client, tenant_a, fake, wamid="wamid.A", media_id="1001")
    send_image(client, tenant_a, fake, wamid="wamid.B", media_id="1002")
    attachment = the_attachment(tenant_a, "wamid.A")
    errors = []
    for trouble in ("500", "timeout", "mismatch", "wrong token", None):
        fake.recover()
        fake.token = TOKEN
        if trouble == "500":
            fake.fail(500)
        elif trouble == "timeout":
            fake.delay = 1.5
        elif trouble == "mismatch":
            fake.wrong_sha256 = True
        elif trouble == "wrong token":
            fake.token = "another-token-entirely"  # Meta refuses ours (expired)
        fetch(tenant_a, attachment)
        errors.append(the_attachment(tenant_a, "wamid.A").last_error)
    fake.recover()
    fetch(tenant_a, the_attachment(tenant_a, "wamid.B"))

    assert the_attachment(tenant_a, "wamid.A").status == "stored"
    assert "access token was refused" in errors[3]
    assert {seen.authorization for seen in fake.requests} == {f"Bearer {TOKEN}"}
    assert "not fetched" in caplog.text, "failures are logged"
    assert TOKEN not in caplog.text
    assert not any(TOKEN in error for error in errors)


def test_an_unconsented_message_gets_no_attachment_and_nothing_is_fetched(
    client, tenant_a, employee_with_media_access, fake, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_employee(
            tenant_a, phone_id="222000222", email="bruno@firm-a.example", employee_id="A-2",
            phone="+55 11 97777-1234", consented=False,
        )  # fmt: skip
    send_image(client, tenant_a, fake, wamid="wamid.NO", phone_id="222000222")
    with tenant_scope(tenant_a):
        assert Refusal.objects.get().wamid == "wamid.NO"
        assert not Message.objects.exists()
        assert not Attachment.objects.exists()
    assert attachments_to_fetch(timezone.now() + timedelta(hours=1)) == []
    assert fake.requests == []


def test_fetching_twice_or_processing_twice_stores_once(
    client, tenant_a, employee_with_media_access, fake, media_root
):
    payload = inbound_image(
        phone_number_id=PHONE_ID, wamid="wamid.IMG1", media_id="1001",
        sha256=fake.add("1001", PHOTO), timestamp=now_seconds(),
    )  # fmt: skip
    process(tenant_a, deliver(client, tenant_a, payload))
    process(tenant_a, deliver(client, tenant_a, payload))  # Meta retried the delivery
    attachment = the_attachment(tenant_a)  # .get(): one attachment

    assert fetch(tenant_a, attachment).status == "stored"
    assert fetch(tenant_a, attachment).status == "stored"
    assert fake.paths() == ["/1001", "/download/1001"], "the second fetch asks Meta nothing"
    # The same picture forwarded in another message: a second attachment, the same file.
    send_image(client, tenant_a, fake, wamid="wamid.IMG2", media_id="1002")
    assert fetch(tenant_a, the_attachment(tenant_a, "wamid.IMG2")).status == "stored"
    assert the_attachment(tenant_a, "wamid.IMG2").file.name == the_attachment(tenant_a).file.name
    assert len(stored_files(media_root)) == 1


def test_one_fetch_is_queued_per_attachment_after_commit(
    client,
    tenant_a,
    employee_with_media_access,
    fake,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    queued = []
    monkeypatch.setattr(fetch_media_task, "delay", lambda **kwargs: queued.append(kwargs))
    delivery = deliver(client, tenant_a, payloads.envelope(
        "messages",
        {"contacts": [payloads.contact("5511912345678", "Cliente Silva")],
         "messages": [
             {"from": "5511912345678", "id": f"wamid.M{n}", "timestamp": str(now_seconds()),
              "type": "document",
              "document": {"filename": f"r{n}.pdf", "mime_type": "application/pdf",
                           "sha256": "x", "id": f"30{n}"}}
             for n in range(3)
         ] + [{"from": "5511912345678", "id": "wamid.T", "timestamp": str(now_seconds()),
               "type": "text", "text": {"body": "no media here"}}]},
        phone_number_id=PHONE_ID,
    ))  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        process(tenant_a, delivery)
    assert queued == [], "nothing is queued inside the transaction"
    for callback in callbacks:
        callback()
    with tenant_scope(tenant_a):
        attachments = {a.pk: a for a in Attachment.objects.all()}
    assert sorted(q["attachment_id"] for q in queued) == sorted(attachments)
    assert {q["tenant_id"] for q in queued} == {tenant_a.pk}
    assert {a.filename for a in attachments.values()} == {"r0.pdf", "r1.pdf", "r2.pdf"}


# --- Storage settings ----------------------------------------------------------------------------


def _storage_in_subprocess(extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    code = (
        "from django.core.files.storage import storages; s = storages['default']; "
        "print(type(s).__name__, s.bucket_name, s.endpoint_url, s.file_overwrite)"
    )
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT, env={**os.environ, **extra_env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_media_storage_s3_uses_an_s3_compatible_bucket_through_django_storages():
    result = _storage_in_subprocess({
        "MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": "archive-media",
        "MEDIA_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    })  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [
        "S3Storage",
        "archive-media",
        "http://127.0.0.1:9000",
        "False",
    ]
    refused = _storage_in_subprocess({"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": ""})
    assert refused.returncode != 0 and "MEDIA_S3_BUCKET must be set" in refused.stderr


# --- The whole path through a real worker ----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_webhook_to_worker_to_archive_to_stored_media(client, worker, settings):
    """The webhook carries the media `url` (Meta's newer payloads), pointing at the fake: the
    worker process was started with its own settings, so it needs no Graph API base URL."""
    settings.MEDIA_ROOT = str(ROOT / "media")  # the worker's (default) folder
    graph = FakeGraph(token=TOKEN).start()
    firm = create_tenant(slug="firm-media", name="Firm Media", actor=Actor.system())
    save_whatsapp_settings(tenant=firm, app_secret=SECRET, access_token=TOKEN, actor=Actor.system())
    make_employee(
        firm, phone_id="333000333", email="carla@media.example", employee_id="M-1",
        phone="+34 633 11 22 33",
    )  # fmt: skip
    data = b"%PDF-1.7 end-to-end " + os.urandom(4096)
    raw = payloads.body(
        inbound_image(
            phone_number_id="333000333", wamid="wamid.E2E.IMG", media_id="4004",
            sha256=graph.add("4004", data), timestamp=now_seconds(),
            url=graph.url_for("4004"),
        )
    )  # fmt: skip
    name = ""
    try:
        response = client.post(
            f"/webhooks/whatsapp/{firm.slug}/", data=raw, content_type="application/json",
            HTTP_X_HUB_SIGNATURE_256=sign(raw, SECRET),
        )  # fmt: skip
        assert response.status_code == 200

        def stored_attachment():
            with tenant_scope(firm):
                return Attachment.objects.filter(status="stored").first()

        attachment = wait_until(
            stored_attachment, failure="the worker did not store the media in time"
        )
        name = attachment.file.name
        with tenant_scope(firm):
            assert Message.objects.get().wamid == "wamid.E2E.IMG"
        assert attachment.sha256 == hashlib.sha256(data).hexdigest()
        assert attachment.size == len(data)
        with default_storage.open(name) as stored:
            assert stored.read() == data
        assert graph.paths() == ["/download/4004"]
        assert graph.requests[0].authorization == f"Bearer {TOKEN}"
    finally:
        graph.stop()
        if name:
            default_storage.delete(name)


# --- The stored bytes are tamper-evident ------------------------------------------------------


def test_stored_bytes_get_a_proof_in_the_log_and_verify_archive_rereads_them(
    client, tenant_a, employee_with_media_access, fake, settings, tmp_path
):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from archive.ledger.models import PendingLeaf
    from archive.ledger.services import checkpoint_and_anchor
    from archive.models import AttachmentFile

    settings.LEDGER_ANCHORS = ["folder"]
    settings.LEDGER_ANCHOR_DIR = tmp_path / "anchors"
    settings.LEDGER_TSA_URL = ""
    send_image(client, tenant_a, fake)
    fetch(tenant_a, the_attachment(tenant_a))
    fetch(tenant_a, the_attachment(tenant_a))  # a repeated fetch adds no second proof

    attachment = the_attachment(tenant_a)
    with tenant_scope(tenant_a):
        [proof] = AttachmentFile.objects.all()
        assert PendingLeaf.objects.filter(
            record_table="archive.attachmentfile", record_id=proof.pk
        ).exists()
    assert (proof.sha256, proof.size, proof.storage_name) == (
        attachment.sha256, attachment.size, attachment.file.name,
    )  # fmt: skip
    assert proof.message_id == attachment.message_id and proof.media_id == "1001"

    checkpoint_and_anchor(tenant=tenant_a)
    out = StringIO()
    call_command("verify_archive", tenant_a.slug, "--files", stdout=out)
    assert "1 stored attachment file(s) re-read" in out.getvalue()

    # Someone with access to the storage swaps the bytes: the proof (a signed leaf) says so.
    path = Path(settings.MEDIA_ROOT) / attachment.file.name
    path.chmod(0o644)
    path.write_bytes(b"a different photo")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_archive", tenant_a.slug, "--files", stdout=out)
    assert "holds other bytes than were archived" in out.getvalue()
    # Without --files the log itself still verifies: only the file changed.
    call_command("verify_archive", tenant_a.slug, stdout=StringIO())
    path.unlink()
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_archive", tenant_a.slug, "--files", stdout=out)
    assert "is gone" in out.getvalue()
