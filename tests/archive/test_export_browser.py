"""An auditor's journey through the browser: she signs in, searches with a proximity query, opens
the conversation behind a hit (its edit and its deletion both visible), exports the search,
watches the progress bar reach "ready" while a real worker prepares the bag, downloads the zip,
and the bag's own verify.py says OK."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from playwright.sync_api import expect

from archive.exporting.models import Export
from compliance_hub.tenancy.context import tenant_scope
from tests.browser import ARTIFACTS, log_in
from tests.ingestion import payloads
from tests.ingestion.delivering import PHONE_ID, now_seconds, send

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent.parent


def test_an_auditor_exports_a_search_and_the_bag_verifies(
    live_server, page, client, tenant_a, connected_employee, audrey, worker, settings, tmp_path
):
    settings.MEDIA_ROOT = str(ROOT / "media")  # the worker's (default) folder
    t = now_seconds()
    for payload in [
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.IN1", text="Quero comprar mais ações",
            timestamp=t,
        ),
        payloads.echo_text(
            phone_number_id=PHONE_ID, wamid="wamid.OUT1", text="Garanto 20% ao mês", timestamp=t + 5
        ),
        payloads.inbound_edit(
            phone_number_id=PHONE_ID, wamid="wamid.E1", original="wamid.IN1",
            text="Quero vender as ações", timestamp=t + 40,
        ),
        payloads.envelope(
            "smb_message_echoes",
            {"message_echoes": [{"from": payloads.DISPLAY_NUMBER, "to": "5511912345678",
                                 "id": "wamid.DEL1", "timestamp": str(t + 50), "type": "revoke",
                                 "revoke": {"original_message_id": "wamid.OUT1"}}]},
            phone_number_id=PHONE_ID,
        ),
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.IN2", text="Bom dia", timestamp=t + 60
        ),
    ]:  # fmt: skip
        send(client, tenant_a, payload)

    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, live_server.url, audrey)

    # Search: "comprar" within 3 words of "ações" finds the first message (its original text).
    page.goto(f"{live_server.url}/archive/search/")
    page.get_by_label("Search", exact=True).fill("comprar w/3 ações")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".search-count")).to_contain_text("1 message matches")
    page.locator(".search-results").get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/archive/conversations/\d+/#m-\d+$"))
    edited = page.locator(".chat-row.in").filter(has_text="Quero vender as ações")
    expect(edited).to_contain_text("edited")
    deleted = page.locator(".chat-row.out")
    expect(deleted).to_contain_text("Deleted for everyone")
    expect(deleted).to_contain_text("Garanto 20% ao mês")
    page.go_back()

    # Export what the search found: the form carries the query.
    page.get_by_role("link", name="Export these results").click()
    expect(page.get_by_label("Search", exact=True)).to_have_value("comprar w/3 ações")
    page.get_by_label("Matter").fill("FINRA request 7")
    page.get_by_label(re.compile("^JSON Lines")).check()
    page.get_by_role("button", name="Start the export").click()
    expect(page).to_have_url(re.compile(r"/archive/exports/\d+/$"))
    expect(page.get_by_role("heading", name="FINRA request 7")).to_be_visible()

    # The page follows the worker by itself until the export is ready.
    download_link = page.get_by_role("link", name="Download the export")
    expect(download_link).to_be_visible(timeout=90_000)
    status = page.locator(".export-status-text")
    expect(status).to_contain_text("Ready: 1 message in 1 conversation")
    page.screenshot(path=str(ARTIFACTS / "export-page.png"), full_page=True)

    with page.expect_download() as info:
        download_link.click()
    bag = tmp_path / "export.zip"
    info.value.save_as(bag)
    assert info.value.suggested_filename.endswith(".zip")

    with zipfile.ZipFile(bag) as archive:
        [verifier] = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == "verify.py"]
        (tmp_path / "verify.py").write_bytes(archive.read(verifier))
    checked = subprocess.run(
        [sys.executable, str(tmp_path / "verify.py"), str(bag)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "OK" in checked.stdout
    assert errors == [], errors

    with tenant_scope(tenant_a):
        export = Export.objects.get()
    assert export.status == Export.Status.READY
    default_storage.delete(export.file.name)
