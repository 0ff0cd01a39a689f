"""The search page (/archive/search/): a reviewer searches the archive with the query language
and filters, sees the exact count and escaped snippets, jumps to a message in its conversation
and pages on; every search is in the audit trail; outsiders and signed-out visitors see
nothing."""

from __future__ import annotations

import html as htmllib
import re

import pytest

from archive.models import Message
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from tests.fixtures import login, make_person
from tests.ingestion import payloads
from tests.ingestion.delivering import PHONE_ID, now_seconds, send

XSS = "<script>alert('invest')</script>"


@pytest.fixture
def archived(client, tenant_a, connected_employee):
    """Five messages of Ana's: three about investing (one with a script), two not."""
    t = now_seconds()
    texts = {
        "wamid.S1": "Quero investir em ações",
        "wamid.S2": "Bom dia",
        "wamid.S3": f"Veja isto: {XSS}",
        "wamid.S4": "Vamos investir amanhã",
        "wamid.S5": "Obrigado",
    }
    for n, (wamid, text) in enumerate(texts.items()):
        send(
            client, tenant_a,
            payloads.inbound_text(phone_number_id=PHONE_ID, wamid=wamid, text=text,
                                  timestamp=t + n),
        )  # fmt: skip
    with tenant_scope(tenant_a):
        return {m.wamid: m for m in Message.objects.select_related("conversation")}


def searches(tenant) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action="archive.search").order_by("id"))


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_archive_page_links_to_the_search(client, oscar, archived):
    login(client, oscar)
    assert 'href="/archive/search/"' in page(client, "/archive/")


def test_a_search_shows_the_exact_count_and_the_hits_marked(client, oscar, archived):
    login(client, oscar)
    html = page(client, "/archive/search/?q=investir")
    assert "2 messages match." in html
    assert "<mark>investir</mark> em ações" in html
    assert "Bom dia" not in html and "Obrigado" not in html
    assert "Cliente Silva" in html and "Ana" in html


def test_each_hit_links_to_the_message_in_its_conversation(client, oscar, archived):
    login(client, oscar)
    message = archived["wamid.S1"]
    html = page(client, "/archive/search/?q=quero")
    jump = f'href="/archive/conversations/{message.conversation_id}/#m-{message.pk}"'
    assert jump in html
    assert f'id="m-{message.pk}"' in page(
        client, f"/archive/conversations/{message.conversation_id}/"
    )


def test_every_search_is_audited_with_its_query_filters_and_count(
    client, audrey, tenant_a, archived
):
    login(client, audrey)
    page(client, "/archive/search/?q=investir&since=2000-01-01&order=relevance")
    [event] = searches(tenant_a)
    assert event.actor_label and audrey.email in event.actor_label
    assert event.details["endpoint"] == "/archive/search/"
    assert event.details["query"] == "investir"
    assert event.details["count"] == 2
    assert set(event.details["message_ids"]) == {archived["wamid.S1"].pk, archived["wamid.S4"].pk}
    # The day typed in the site's zone (UTC), kept as the UTC instant it starts.
    assert event.details["filters"] == {"since": "2000-01-01T00:00:00+00:00", "order": "relevance"}


def test_opening_the_empty_form_searches_nothing(client, oscar, tenant_a, archived):
    login(client, oscar)
    html = page(client, "/archive/search/")
    assert "AND, OR, NOT" in html and "filename:" in html and "w/3" in html
    assert "Quero" not in html
    assert searches(tenant_a) == []


def test_a_malformed_query_shows_the_parsers_message_by_the_field(
    client, oscar, tenant_a, archived
):
    login(client, oscar)
    html = page(client, "/archive/search/?q=" + "%28investir")
    field = html[html.index('id="id_q"') :]
    assert re.search(r'class="errorlist[^"]*"', field), "the error sits under the query field"
    assert "at character 1" in field and field.count("character 1") == 1
    assert "Quero" not in html
    assert searches(tenant_a) == []


def test_a_script_in_a_message_shows_as_text_in_the_snippet(client, oscar, archived):
    login(client, oscar)
    html = page(client, "/archive/search/?q=veja")
    assert XSS not in html
    assert "<mark>Veja</mark> isto: " + htmllib.escape(XSS) in html


def test_filters_narrow_the_search_and_dates_are_whole_days(client, oscar, archived):
    login(client, oscar)
    assert "0 messages match." in page(client, "/archive/search/?q=investir&until=2000-01-31")
    assert "0 messages match." in page(client, "/archive/search/?q=investir&direction=outbound")
    assert "0 messages match." in page(client, "/archive/search/?q=investir&edited=yes")
    assert "2 messages match." in page(client, "/archive/search/?q=investir&edited=no&type=text")
    assert "5 messages match." in page(client, "/archive/search/?direction=inbound")
    bad = page(client, "/archive/search/?since=2026-02-01&until=2026-01-01")
    assert "The end date is before the start date." in bad


def test_the_next_page_follows_the_selectors_cursor(client, oscar, tenant_a, archived, monkeypatch):
    login(client, oscar)
    assert 'rel="next"' not in page(client, "/archive/search/?direction=inbound")
    monkeypatch.setattr("archive.views.SEARCH_PAGE_SIZE", 2)
    first = page(client, "/archive/search/?direction=inbound")

    def next_link(html: str) -> str:
        found = re.search(r'href="\?([^"]+)" rel="next"', html)
        assert found, "a link to the next page"
        return htmllib.unescape(found.group(1))

    second = page(client, "/archive/search/?" + next_link(first))
    third = page(client, "/archive/search/?" + next_link(second))
    assert "Obrigado" in first and "Vamos investir" in first
    assert "Veja isto" in second and "Bom dia" in second
    assert "Quero investir" in third and 'rel="next"' not in third
    assert all("5 messages match." in p for p in (first, second, third))
    assert len(searches(tenant_a)) == 4  # every page shown is a search in the audit trail
    cursor = next_link(first).split("cursor=", 1)[1]
    moved = page(client, "/archive/search/?direction=outbound&cursor=" + cursor)
    assert "This page link belongs to another search" in moved


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OFFICER, Role.AUDITOR])
def test_every_role_that_reads_the_archive_searches_it(client, tenant_a, archived, role):
    login(client, make_person(f"{role}-searcher@firm-a.example", tenant=tenant_a, role=role))
    assert "2 messages match." in page(client, "/archive/search/?q=investir")


def test_someone_signed_out_is_sent_to_log_in_and_nothing_is_searched(client, tenant_a, archived):
    response = client.get("/archive/search/?q=investir")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert searches(tenant_a) == []


def test_another_firms_reviewer_finds_nothing_of_this_firm(client, tenant_a, tenant_b, archived):
    outsider = make_person("officer@firm-b.example", tenant=tenant_b, role=Role.OFFICER)
    login(client, outsider)
    html = page(client, "/archive/search/?q=investir")
    assert "0 messages match." in html
    assert "Quero" not in html and "Cliente Silva" not in html
    everything = page(client, "/archive/search/?direction=inbound")
    assert "0 messages match." in everything
    assert searches(tenant_a) == []
    [event] = searches(tenant_b)[:1]
    assert event.details["count"] == 0


def test_the_page_reads_as_many_queries_for_five_hits_as_for_one(client, oscar, archived):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, oscar)
    counts = []
    for url in (
        "/archive/search/?q=quero",
        "/archive/search/?q=investir+OR+veja+OR+bom+OR+obrigado",
    ):
        with CaptureQueriesContext(connection) as queries:
            html = page(client, url)
        counts.append(len(queries))
    assert "5 messages match." in html
    assert counts[0] == counts[1], counts
