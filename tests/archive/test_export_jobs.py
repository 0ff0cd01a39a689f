"""Export jobs (archive/exporting/): an auditor asks for an export of a search through the API or
the pages, bad requests get clear answers and queue nothing, a worker prepares the bag (audited,
e-mailed), downloads need a signed link of the caller's own that expires, every download is
audited with the bag's tag-manifest hash, old files are deleted, and another firm sees nothing."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail, signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from rest_framework.test import APIClient

from archive.exporting.links import SALT
from archive.exporting.models import Export
from archive.exporting.services import expire_exports, prepare_export
from archive.models import Message
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from tests.fixtures import login
from tests.ingestion import payloads
from tests.ingestion.delivering import PHONE_ID, now_seconds, send

URL = "/api/v1/exports/"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def auditor_api(api_client_for, tenant_a) -> APIClient:
    return api_client_for(tenant_a, Role.AUDITOR)


@pytest.fixture
def archived(client, tenant_a, connected_employee):
    """Three messages of Ana's client: two about shares."""
    t = now_seconds()
    texts = ["I want to buy the shares now", "Bom dia", "Sell those shares"]
    for n, text in enumerate(texts):
        send(
            client, tenant_a,
            payloads.inbound_text(phone_number_id=PHONE_ID, wamid=f"wamid.X{n}", text=text,
                                  timestamp=t + n),
        )  # fmt: skip
    with tenant_scope(tenant_a):
        return {m.wamid: m for m in Message.objects.all()}


def trail(tenant, action: str) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action=action).order_by("id"))


def exports(tenant) -> list[Export]:
    with tenant_scope(tenant):
        return list(Export.objects.order_by("id"))


def ready_export(tenant, *, content: bytes = b"PK zip bytes", expires_in=timedelta(days=7)):
    """An export as the worker leaves it (its file stored, its figures set)."""
    with tenant_scope(tenant):
        name = default_storage.save(f"exports/{tenant.pk}/export-test.zip", ContentFile(content))
        now = timezone.now()
        return Export.objects.create(
            tenant=tenant, requester="audrey@firm-a.example", query="shares",
            formats=["csv"], status=Export.Status.READY, file=name, size=len(content),
            tag_manifest_sha256="ab" * 32, checkpoint_id=1, tree_size=3,
            counts={"conversations": 1, "messages": 2, "events": 0, "attachments": 0},
            progress_total=2, progress_done=2, finished_at=now, expires_at=now + expires_in,
        )  # fmt: skip


# --- asking for an export ----------------------------------------------------------------------


def test_an_auditor_asks_for_an_export_of_a_search_and_it_is_queued_and_audited(
    auditor_api, tenant_a, archived, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        answer = auditor_api.post(
            URL,
            {"query": "buy w/3 shares OR sell", "formats": ["csv", "rsmf", "csv"],
             "matter": "SEC inquiry 42", "direction": "inbound",
             "since": "2020-01-01T00:00:00Z"},
            format="json",
        )  # fmt: skip
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["status"] == "queued"
    assert body["formats"] == ["rsmf", "csv"], "known formats, once each, in the bag's order"
    assert body["progress"] == {"done": 0, "total": 2, "percent": 0}
    assert body["status_text"] == "Waiting for a worker… (2 messages to export)"
    assert body["download_url"] is None
    assert body["filters"] == {"direction": "inbound", "since": "2020-01-01T00:00:00+00:00"}
    assert len(queued) == 1, "the worker's task is queued once the request commits"

    [event] = trail(tenant_a, "archive.export_requested")
    assert event.details["query"] == "buy w/3 shares OR sell"
    assert event.details["count"] == 2
    assert event.details["formats"] == ["rsmf", "csv"]
    assert event.details["filters"]["direction"] == "inbound"
    assert event.details["matter"] == "SEC inquiry 42"


@pytest.mark.parametrize(
    ("given", "field", "words"),
    [
        ({"formats": []}, "formats", "Choose at least one format."),
        ({"formats": ["pdf"]}, "formats", "Not an export format: pdf."),
        (
            {"since": "2026-03-01T00:00:00Z", "until": "2026-02-01T00:00:00Z"},
            "until",
            "The end of the date range is before its start.",
        ),
        ({"query": '"unbalanced'}, "query", "quote"),
        ({"query": "buy w/0 shares"}, "query", "w/"),
        ({"query": "nothingmatchesthis"}, "non_field_errors", "Nothing matches this search"),
        ({"since": "2026-03-01T00:00:00"}, "since", "UTC offset"),
    ],
)
def test_bad_requests_get_a_clear_answer_and_queue_nothing(
    auditor_api, tenant_a, archived, given, field, words
):
    answer = auditor_api.post(URL, {"query": "shares", "formats": ["csv"], **given}, format="json")
    assert answer.status_code == 400, answer.content
    assert words in " ".join(answer.json()["error"]["details"][field])
    assert exports(tenant_a) == []
    assert trail(tenant_a, "archive.export_requested") == []


@pytest.mark.parametrize(("role", "code"), [(Role.OFFICER, 403), (Role.ADMIN, 201)])
def test_admins_export_like_auditors_and_officers_may_not(
    api_client_for, tenant_a, archived, role, code
):
    api = api_client_for(tenant_a, role)
    answer = api.post(URL, {"query": "shares", "formats": ["csv"]}, format="json")
    assert answer.status_code == code, answer.content
    assert api.get(URL).status_code == (403 if role == Role.OFFICER else 200)


def test_another_firms_export_is_not_found(api_client_for, tenant_a, tenant_b, archived):
    export = ready_export(tenant_a)
    outsider = api_client_for(tenant_b, Role.AUDITOR)
    assert outsider.get(f"{URL}{export.pk}/").status_code == 404
    assert outsider.get(f"{URL}{export.pk}/download/?token=x").status_code == 404
    assert outsider.get(URL).json()["results"] == []


# --- downloading -------------------------------------------------------------------------------


def test_a_ready_export_gives_a_link_of_ones_own_and_the_download_is_audited(
    auditor_api, api_client_for, tenant_a
):
    export = ready_export(tenant_a, content=b"the bag")
    status = auditor_api.get(f"{URL}{export.pk}/").json()
    assert status["status"] == "ready"
    assert status["progress"] == {"done": 2, "total": 2, "percent": 100}
    assert status["status_text"].startswith("Ready: 2 messages in 1 conversation, ")

    download = auditor_api.get(status["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == b"the bag"
    [event] = trail(tenant_a, "archive.export_downloaded")
    assert event.details["tag_manifest_sha256"] == "ab" * 32
    assert event.details["size"] == len(b"the bag")

    # The same link in another key's hands is refused (and not audited as a download).
    other = api_client_for(tenant_a, Role.AUDITOR)
    refused = other.get(status["download_url"])
    assert refused.status_code == 403
    assert "another export or another person" in refused.json()["error"]["message"]
    assert len(trail(tenant_a, "archive.export_downloaded")) == 1


def test_an_altered_link_is_refused(auditor_api, tenant_a):
    export = ready_export(tenant_a)
    link = auditor_api.get(f"{URL}{export.pk}/").json()["download_url"]
    altered = re.sub(r"token=(.)", lambda m: "token=" + ("A" if m[1] != "A" else "B"), link)
    answer = auditor_api.get(altered)
    assert answer.status_code == 403
    assert answer.json()["error"]["message"].startswith("This download link is not valid.")
    assert auditor_api.get(f"{URL}{export.pk}/download/").status_code == 403, "no token"
    assert trail(tenant_a, "archive.export_downloaded") == []


def test_an_expired_link_is_gone(auditor_api, tenant_a, settings):
    export = ready_export(tenant_a)
    link = auditor_api.get(f"{URL}{export.pk}/").json()["download_url"]
    settings.EXPORT_LINK_MAX_AGE = -1  # as if an hour had passed since the link was signed
    answer = auditor_api.get(link)
    assert answer.status_code == 410
    assert "has expired" in answer.json()["error"]["message"]
    assert trail(tenant_a, "archive.export_downloaded") == []


def test_a_link_signed_for_another_export_does_not_open_this_one(auditor_api, tenant_a):
    first, second = ready_export(tenant_a), ready_export(tenant_a)
    link = auditor_api.get(f"{URL}{first.pk}/").json()["download_url"]
    token = link.split("token=")[1]
    claims = signing.loads(token, salt=SALT)
    assert claims["export"] == first.pk
    answer = auditor_api.get(f"{URL}{second.pk}/download/?token={token}")
    assert answer.status_code == 403


def test_an_export_not_ready_has_no_link_and_no_download(auditor_api, tenant_a):
    with tenant_scope(tenant_a):
        export = Export.objects.create(
            tenant=tenant_a, requester="x", formats=["csv"], progress_total=10
        )
    body = auditor_api.get(f"{URL}{export.pk}/").json()
    assert body["download_url"] is None


# --- expiry ------------------------------------------------------------------------------------


def test_expiry_deletes_the_file_and_the_export_shows_as_expired(auditor_api, tenant_a):
    export = ready_export(tenant_a, expires_in=timedelta(days=7))
    due = ready_export(tenant_a, expires_in=timedelta(seconds=-1))
    link = auditor_api.get(f"{URL}{due.pk}/").json()
    assert link["status"] == "expired", "expired for its users before the beat runs"
    assert link["download_url"] is None

    assert expire_exports(tenant=tenant_a, actor=Actor.system()) == 1
    assert not default_storage.exists(due.file.name)
    assert default_storage.exists(export.file.name), "a file still in its days stays"
    with tenant_scope(tenant_a):
        due.refresh_from_db()
    assert (due.status, due.file.name) == (Export.Status.EXPIRED, "")
    [event] = trail(tenant_a, "archive.export_expired")
    assert event.target_id == str(due.pk)
    assert expire_exports(tenant=tenant_a, actor=Actor.system()) == 0, "once"

    token_url = f"{URL}{due.pk}/download/?token=" + signing.dumps(
        {"tenant": tenant_a.pk, "export": due.pk, "holder": "x"}, salt=SALT
    )
    assert auditor_api.get(token_url).status_code == 403


# --- pages -------------------------------------------------------------------------------------


def test_the_search_page_leads_to_a_prefilled_export_form(client, audrey, tenant_a, archived):
    login(client, audrey)
    assert 'href="/archive/exports/"' in client.get("/archive/").content.decode()
    found = client.get("/archive/search/", {"q": "buy w/3 shares", "direction": "inbound"})
    link = re.search(
        r'href="(/archive/exports/new/\?[^"]+)">Export these results', found.content.decode()
    )
    assert link, "the search page offers the export"
    form = client.get(link[1].replace("&amp;", "&")).content.decode()
    assert 'value="buy w/3 shares"' in form
    assert re.search(r'<option value="inbound" selected', form)


def test_an_officer_sees_no_export_link_and_no_export_pages(client, oscar, tenant_a, archived):
    login(client, oscar)
    found = client.get("/archive/search/", {"q": "shares"}).content.decode()
    assert "Export these results" not in found
    assert 'href="/archive/exports/"' not in client.get("/archive/").content.decode()
    assert client.get("/archive/exports/").status_code == 403
    assert client.get("/archive/exports/new/").status_code == 403


def test_the_form_refuses_nothing_to_export_and_starts_a_good_one(
    client, audrey, tenant_a, archived, django_capture_on_commit_callbacks
):
    login(client, audrey)
    refused = client.post("/archive/exports/new/", {"q": "nothingmatchesthis", "formats": ["csv"]})
    assert refused.status_code == 200
    assert "Nothing matches this search" in refused.content.decode()
    no_format = client.post("/archive/exports/new/", {"q": "shares"})
    assert "Choose at least one format." in no_format.content.decode()
    assert exports(tenant_a) == []

    with django_capture_on_commit_callbacks():
        started = client.post(
            "/archive/exports/new/", {"q": "shares", "formats": ["csv", "html"], "matter": "M-1"}
        )
    [export] = exports(tenant_a)
    assert started.status_code == 302 and started["Location"] == f"/archive/exports/{export.pk}/"
    page = client.get(started["Location"]).content.decode()
    assert "Waiting for a worker… (2 messages to export)" in page
    assert "js/job-progress.js" in page and "<progress" in page
    status = client.get(f"/archive/exports/{export.pk}/status/").json()
    assert status["status"] == "queued" and status["total"] == 2
    listing = client.get("/archive/exports/").content.decode()
    assert "M-1" in listing and audrey.email in listing


def test_the_page_gives_the_download_and_another_firm_gets_404(
    client, audrey, bob, tenant_a, tenant_b
):
    export = ready_export(tenant_a, content=b"bag bytes")
    login(client, audrey)
    page = client.get(f"/archive/exports/{export.pk}/").content.decode()
    href = re.search(r'href="([^"]+)" download>Download the export', page)[1].replace("&amp;", "&")
    got = client.get(href)
    assert got.status_code == 200 and b"".join(got.streaming_content) == b"bag bytes"
    assert len(trail(tenant_a, "archive.export_downloaded")) == 1
    assert client.get(href + "x").status_code == 403

    client.logout()
    login(client, bob)
    for path in ("", "status/", "download/"):
        assert client.get(f"/archive/exports/{export.pk}/{path}").status_code == 404


# --- the worker --------------------------------------------------------------------------------


def test_preparing_writes_the_bag_audits_and_mails_the_requester(
    client, audrey, tenant_a, archived, settings, anchor_dir, django_capture_on_commit_callbacks
):
    login(client, audrey)
    client.post("/archive/exports/new/", {"q": "shares", "formats": ["csv", "jsonl"]})
    [export] = exports(tenant_a)

    with django_capture_on_commit_callbacks(execute=True):
        finished = prepare_export(
            tenant=tenant_a, actor=Actor.task(user=audrey.user), export_id=export.pk
        )
    assert finished is not None and finished.status == Export.Status.READY, finished.error
    with tenant_scope(tenant_a):
        export.refresh_from_db()
    assert export.counts["messages"] == 2
    assert export.expires_at - export.finished_at == timedelta(days=settings.EXPORT_RETENTION_DAYS)
    with default_storage.open(export.file.name) as stored:
        names = zipfile.ZipFile(io.BytesIO(stored.read())).namelist()
    assert any(name.endswith("messages.csv") for name in names)
    assert any(name.endswith("verify.py") for name in names)

    [event] = trail(tenant_a, "archive.export_finished")
    assert event.details["status"] == "ready"
    assert event.details["tag_manifest_sha256"] == export.tag_manifest_sha256
    assert len(export.tag_manifest_sha256) == 64
    [message] = mail.outbox
    assert message.to == [audrey.email]
    assert message.subject == "Your export is ready"
    assert f"{settings.SITE_URL}/archive/exports/{export.pk}/" in message.body
    assert "token=" not in message.body, "the mail holds the page, never a download secret"

    again = prepare_export(tenant=tenant_a, actor=Actor.system(), export_id=export.pk)
    assert again is None, "a finished export is left as it is"


def test_an_export_whose_messages_vanished_fails_in_words(
    client, audrey, tenant_a, archived, anchor_dir, django_capture_on_commit_callbacks
):
    login(client, audrey)
    client.post("/archive/exports/new/", {"q": "shares", "formats": ["csv"]})
    [export] = exports(tenant_a)
    with tenant_scope(tenant_a):
        Export.objects.filter(pk=export.pk).update(query="nothingmatchesthis")

    with django_capture_on_commit_callbacks(execute=True):
        failed = prepare_export(tenant=tenant_a, actor=Actor.system(), export_id=export.pk)
    assert failed is not None and failed.status == Export.Status.FAILED
    assert "Traceback" not in failed.error and "nothing to export" in failed.error
    [event] = trail(tenant_a, "archive.export_finished")
    assert event.details == {"export": export.pk, "status": "failed", "error": failed.error}
    assert mail.outbox[0].subject == "Your export could not be prepared"
    page = client.get(f"/archive/exports/{export.pk}/").content.decode()
    assert "Failed: Nothing matched the search any more" in page


def test_filters_keep_their_instants_in_utc(auditor_api, tenant_a, archived):
    since = datetime(2020, 1, 1, 9, tzinfo=UTC).astimezone()
    answer = auditor_api.post(
        URL, {"query": "shares", "formats": ["csv"], "since": "2020-01-01T12:00:00+03:00"},
        format="json",
    )  # fmt: skip
    assert answer.status_code == 201, answer.content
    assert answer.json()["filters"] == {"since": since.astimezone(UTC).isoformat()}


def test_the_list_costs_the_same_queries_for_one_export_or_five(auditor_api, tenant_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ready_export(tenant_a)
    auditor_api.get(URL)  # a key's first use writes its last-used time (then once a minute)
    with CaptureQueriesContext(connection) as one:
        assert len(auditor_api.get(URL).json()["results"]) == 1
    for _ in range(4):
        ready_export(tenant_a)
    with CaptureQueriesContext(connection) as five:
        assert len(auditor_api.get(URL).json()["results"]) == 5
    assert len(five) == len(one)
