"""Exports by legal hold and interrupted exports (archive/exporting/): an export of a hold holds
exactly the messages the hold covers when it is prepared (also those captured after it was placed,
also after its release), its bag and audit rows name the hold; a hold with a search, an unknown
hold or another firm's is refused in words; the form, the hold's page and the API offer it. A
running export whose progress stopped moving (a dead worker) is failed by the beat, audited; a
moving one is left alone."""

from __future__ import annotations

import io
import re
import time
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.utils import timezone

from archive.exporting.models import Export
from archive.exporting.services import (
    STALLED_MESSAGE,
    ExportRefused,
    _heartbeat_key,
    _Reporter,
    prepare_export,
    request_export,
)
from archive.exporting.tasks import expire_exports_task
from archive.holds.models import LegalHold
from archive.holds.services import place_hold, release_hold
from archive.models import Message
from archive.search.selectors import SearchFilters
from archive.services import ConversationKey, MessageRecord, archive_messages
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from consent.models import Employee
from tests.fixtures import login

URL = "/api/v1/exports/"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTOR = Actor.command("test")
CLIENT = ("5511987001111", "José Álvarez")


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def employee(tenant, n: int, name: str) -> Employee:
    with tenant_scope(tenant):
        return Employee.objects.create(
            tenant=tenant, full_name=name, email=f"h{n}@{tenant.slug}.example",
            employee_id=f"H{n}", phone_number=f"+551190000010{n}",
            whatsapp_phone_number_id=f"{tenant.pk}1{n}",
        )  # fmt: skip


def capture(tenant, who: Employee, wamid: str, text: str, *, at: datetime) -> Message:
    """Archive one message as ingestion does."""
    with tenant_scope(tenant):
        archive_messages(
            tenant=tenant,
            records=[
                MessageRecord(
                    conversation=ConversationKey(who.pk, who.whatsapp_phone_number_id, CLIENT[0]),
                    counterparty={"wa_id": CLIENT[0], "name": CLIENT[1]},
                    business_display_number="", wamid=wamid, direction="inbound", type="text",
                    whatsapp_timestamp=at, received_at=at, text=text, structured={}, context={},
                    is_history=False, flags=[], raw={}, delivery_id=None,
                )
            ],
        )  # fmt: skip
        return Message.objects.get(tenant=tenant, wamid=wamid)


def place(tenant, who: Employee, matter: str = "SEC inquiry 2026-14") -> LegalHold:
    with tenant_scope(tenant):
        return place_hold(
            tenant=tenant, actor=ACTOR, matter=matter, reason="Subpoena", employee_ids=[who.pk]
        )


@pytest.fixture
def held_a(tenant_a):
    """Ana's messages are under a hold of firm A; Bruno's are not."""
    ana, bruno = employee(tenant_a, 1, "Ana Souza"), employee(tenant_a, 2, "Bruno Díaz")
    capture(tenant_a, ana, "wamid.ANA-1", "buy the shares now", at=START)
    capture(tenant_a, bruno, "wamid.BRUNO-1", "sell the shares", at=START + timedelta(hours=1))
    hold = place(tenant_a, ana)
    return {"ana": ana, "bruno": bruno, "hold": hold}


def exports(tenant) -> list[Export]:
    with tenant_scope(tenant):
        return list(Export.objects.order_by("id"))


def trail(tenant, action: str) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action=action).order_by("id"))


def bag_text(export: Export, suffix: str) -> str:
    with default_storage.open(export.file.name) as stored:
        bag = zipfile.ZipFile(io.BytesIO(stored.read()))
    [name] = [n for n in bag.namelist() if n.endswith(suffix)]
    return bag.read(name).decode()


# --- an export of a hold -----------------------------------------------------------------------


def test_an_export_of_a_hold_holds_exactly_its_messages_even_later_ones_and_after_release(
    tenant_a, held_a, anchor_dir, django_capture_on_commit_callbacks
):
    hold = held_a["hold"]
    # Captured after the hold was placed: the hold's scope names it, so the export holds it.
    capture(tenant_a, held_a["ana"], "wamid.ANA-2", "Bom dia", at=START + timedelta(days=1))
    with tenant_scope(tenant_a):
        release_hold(tenant=tenant_a, actor=ACTOR, hold=hold, reason="Inquiry closed")
        with django_capture_on_commit_callbacks() as queued:
            export = request_export(
                tenant=tenant_a, actor=ACTOR, query="", filters=SearchFilters(),
                formats=["jsonl"], legal_hold=hold.pk,
            )  # fmt: skip
    assert len(queued) == 1
    assert export.legal_hold_id == hold.pk
    assert export.matter == "SEC inquiry 2026-14", "the hold's matter, none being typed"
    assert export.progress_total == 2
    [asked] = trail(tenant_a, "archive.export_requested")
    assert asked.details["legal_hold"] == hold.pk
    assert asked.details["legal_hold_matter"] == "SEC inquiry 2026-14"
    assert asked.details["count"] == 2

    with django_capture_on_commit_callbacks(execute=True):
        done = prepare_export(tenant=tenant_a, actor=ACTOR, export_id=export.pk)
    assert done is not None and done.status == Export.Status.READY, done.error
    assert done.counts["messages"] == 2
    records = bag_text(done, "messages.jsonl")
    assert "wamid.ANA-1" in records and "wamid.ANA-2" in records
    assert "wamid.BRUNO-1" not in records
    info = bag_text(done, "bag-info.txt")
    assert "Matter: SEC inquiry 2026-14" in info
    assert re.search(rf"Legal-Hold: SEC inquiry 2026-14 \(hold {hold.pk}, released\)", info)
    assert "Search-Query: (the messages the legal hold covers)" in info


def test_a_typed_matter_wins_over_the_holds(tenant_a, held_a):
    with tenant_scope(tenant_a):
        export = request_export(
            tenant=tenant_a, actor=ACTOR, query="", filters=SearchFilters(), formats=["csv"],
            matter="FINRA 7", legal_hold=held_a["hold"].pk,
        )  # fmt: skip
    assert export.matter == "FINRA 7"


@pytest.mark.parametrize(
    ("query", "filters", "words"),
    [
        ("shares", SearchFilters(), "not both"),
        ("", SearchFilters(direction="inbound"), "not both"),
    ],
)
def test_a_hold_with_a_search_is_refused(tenant_a, held_a, query, filters, words):
    with tenant_scope(tenant_a), pytest.raises(ExportRefused) as refused:
        request_export(
            tenant=tenant_a, actor=ACTOR, query=query, filters=filters, formats=["csv"],
            legal_hold=held_a["hold"].pk,
        )  # fmt: skip
    assert words in refused.value.message and refused.value.field == "legal_hold"
    assert exports(tenant_a) == []


# --- the API -----------------------------------------------------------------------------------


def test_the_api_exports_a_hold(api_client_for, tenant_a, held_a):
    api = api_client_for(tenant_a, Role.AUDITOR)
    hold = held_a["hold"]
    answer = api.post(URL, {"legal_hold": hold.pk, "formats": ["csv"]}, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["legal_hold"] == hold.pk and body["matter"] == hold.matter
    assert body["progress"]["total"] == 1 and body["query"] == ""
    assert api.get(f"{URL}{body['id']}/").json()["legal_hold"] == hold.pk


def test_the_api_refuses_an_unknown_hold_another_firms_and_a_hold_with_a_query(
    api_client_for, tenant_a, tenant_b, held_a
):
    with tenant_scope(tenant_b):
        theirs = place(tenant_b, employee(tenant_b, 1, "Other"), matter="Their matter")
    api = api_client_for(tenant_a, Role.AUDITOR)
    cases = [
        ({"legal_hold": 987654}, "There is no such legal hold."),
        ({"legal_hold": theirs.pk}, "There is no such legal hold."),
        ({"legal_hold": held_a["hold"].pk, "query": "shares"}, "not both"),
        ({"legal_hold": "x"}, "valid integer"),
    ]
    for given, words in cases:
        answer = api.post(URL, {"formats": ["csv"], **given}, format="json")
        assert answer.status_code == 400, (given, answer.content)
        assert words in " ".join(answer.json()["error"]["details"]["legal_hold"]), answer.content
    assert exports(tenant_a) == [] and exports(tenant_b) == []
    assert trail(tenant_a, "archive.export_requested") == []


# --- the pages ---------------------------------------------------------------------------------


def test_the_holds_page_leads_to_the_form_which_exports_the_hold(
    client, audrey, tenant_a, held_a, django_capture_on_commit_callbacks
):
    hold = held_a["hold"]
    login(client, audrey)
    page = client.get(f"/archive/holds/{hold.pk}/").content.decode()
    link = re.search(r'href="([^"]+)" class="export-held">Export the held messages', page)
    assert link, "the hold's page offers the export"
    form = client.get(link[1].replace("&amp;", "&")).content.decode()
    assert re.search(r'value="hold"[^>]*checked', form), "the form starts on the hold"
    assert re.search(rf'<option value="{hold.pk}" selected', form)

    with django_capture_on_commit_callbacks():
        started = client.post(
            "/archive/exports/new/", {"source": "hold", "legal_hold": hold.pk, "formats": ["csv"]}
        )
    [export] = exports(tenant_a)
    assert started.status_code == 302 and started["Location"] == f"/archive/exports/{export.pk}/"
    assert export.legal_hold_id == hold.pk and export.matter == hold.matter
    shown = client.get(started["Location"]).content.decode()
    assert f'href="/archive/holds/{hold.pk}/">{hold.matter}</a>: every message it covers' in shown
    assert "Every message the filters allow" not in shown
    assert f"Legal hold {hold.matter}" in client.get("/archive/exports/").content.decode()


def test_the_form_refuses_a_hold_missing_or_with_a_search(client, audrey, tenant_a, held_a):
    login(client, audrey)
    missing = client.post("/archive/exports/new/", {"source": "hold", "formats": ["csv"]})
    assert "Choose the legal hold to export." in missing.content.decode()
    both = client.post(
        "/archive/exports/new/",
        {"source": "hold", "legal_hold": held_a["hold"].pk, "q": "shares", "formats": ["csv"]},
    )
    assert "not both" in both.content.decode()
    assert exports(tenant_a) == []


def test_an_officer_sees_the_hold_without_an_export_link(client, oscar, tenant_a, held_a):
    login(client, oscar)
    page = client.get(f"/archive/holds/{held_a['hold'].pk}/")
    assert page.status_code == 200
    assert "Export the held messages" not in page.content.decode()


# --- interrupted exports -----------------------------------------------------------------------


def running_export(tenant, *, started: datetime) -> Export:
    with tenant_scope(tenant):
        return Export.objects.create(
            tenant=tenant, requester="audrey@firm-a.example", query="shares", formats=["csv"],
            status=Export.Status.RUNNING, progress_total=10, started_at=started,
        )  # fmt: skip


def test_the_beat_fails_an_export_whose_progress_stopped_and_leaves_a_moving_one(
    tenant_a, audrey, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_STALL_MINUTES = 30
    long_ago = timezone.now() - timedelta(hours=2)
    dead = running_export(tenant_a, started=long_ago)
    cache.set(_heartbeat_key(dead), time.time() - 31 * 60, timeout=3600)
    lost_beat = running_export(tenant_a, started=long_ago)  # the cache lost its heartbeat
    cache.delete(_heartbeat_key(lost_beat))
    moving = running_export(tenant_a, started=long_ago)
    _Reporter(moving)(3, 10)  # the worker's progress callback: it moved just now
    fresh = running_export(tenant_a, started=timezone.now() - timedelta(minutes=5))
    cache.delete(_heartbeat_key(fresh))
    with tenant_scope(tenant_a):
        Export.objects.filter(pk=dead.pk).update(requested_by=audrey.user)

    with django_capture_on_commit_callbacks(execute=True):
        expire_exports_task(tenant_id=tenant_a.pk)

    by_id = {export.pk: export for export in exports(tenant_a)}
    for failed in (dead, lost_beat):
        assert by_id[failed.pk].status == Export.Status.FAILED
        assert (
            by_id[failed.pk].error
            == STALLED_MESSAGE
            == ("The export was interrupted; start it again.")
        )
        assert by_id[failed.pk].finished_at is not None
    assert by_id[moving.pk].status == Export.Status.RUNNING
    assert by_id[fresh.pk].status == Export.Status.RUNNING

    events = trail(tenant_a, "archive.export_finished")
    assert sorted(e.details["export"] for e in events) == sorted([dead.pk, lost_beat.pk])
    assert all(e.details["status"] == "failed" and e.details["interrupted"] for e in events)
    assert [m.to for m in mail.outbox] == [[audrey.email]]
    assert mail.outbox[0].subject == "Your export could not be prepared"

    # A second run finds nothing more to do.
    expire_exports_task(tenant_id=tenant_a.pk)
    assert len(trail(tenant_a, "archive.export_finished")) == 2
