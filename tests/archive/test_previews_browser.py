"""An auditor opens a conversation with a photo and a sticker: both load as images under the
page's strict CSP (no console error), and the download link stays beside them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from compliance_hub.tenancy.context import tenant_scope
from tests.archive.attachments import attachment, png
from tests.browser import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_photo_loads_in_the_conversation_under_the_csp(
    live_server, page, settings, tmp_path, tenant_a, ana, audrey
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    photo = attachment(
        tenant_a, ana, 1, content=png(40, 30), mime="image/png", filename="extrato.png",
        message_type="image",
    )  # fmt: skip
    with tenant_scope(tenant_a):
        conversation_id = photo.message.conversation_id

    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, live_server.url, audrey)
    page.goto(f"{live_server.url}/archive/conversations/{conversation_id}/")
    image = page.get_by_role("img", name="extrato.png")
    expect(image).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [40, 30]
    bubble = page.locator(".bubble").filter(has=image)
    expect(bubble.get_by_role("link", name="Download")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "conversation-preview.png"), full_page=True)
    assert errors == [], errors
