"""``/whatsapp/coverage/``: per consented or connected employee, whether capture runs and why
not, what capture really holds (connected since, history imported, last message seen, consent,
recent refusals) and what it can never hold. The consent register says the same."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from consent import services as consent
from ingestion.models import CaptureNotice
from ingestion.notices import acknowledge_notice
from tests.consent.employees import add_employee
from tests.fixtures import login, make_person
from tests.ingestion import payloads
from tests.ingestion.delivering import PHONE_ID, account_update, now_seconds, send

URL = "/whatsapp/coverage/"
BEA_PHONE_ID = "222000222"


def history_chunk(*, phone_number_id: str, wamid: str, timestamp: int) -> dict:
    return payloads.envelope(
        "history",
        {
            "history": [
                {
                    "metadata": {"phase": 0, "chunk_order": 1, "progress": 100},
                    "threads": [
                        {
                            "id": "5511912345678",
                            "messages": [
                                {"from": "5511912345678", "id": wamid,
                                 "timestamp": str(timestamp), "type": "text",
                                 "text": {"body": "from before"},
                                 "history_context": {"status": "READ"}}
                            ],
                        }
                    ],
                }
            ]
        },
        phone_number_id=phone_number_id,
    )  # fmt: skip


@pytest.fixture
def firm(client, tenant_a, connected_employee):
    """Ana: consented, history imported, messages. Bea: connected, never consented, refused.
    Carl: no WhatsApp number yet. Dan: offboarded."""
    sent = now_seconds()
    send(
        client, tenant_a, history_chunk(phone_number_id=PHONE_ID, wamid="wamid.H1", timestamp=sent)
    )
    send(
        client,
        tenant_a,
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.A1", text="oi", timestamp=sent + 60
        ),
    )
    add_employee(tenant_a, "Bea Lima", "+5511987651111", BEA_PHONE_ID)
    for wamid in ("wamid.B1", "wamid.B2"):
        send(
            client,
            tenant_a,
            payloads.inbound_text(
                phone_number_id=BEA_PHONE_ID, wamid=wamid, text="x", timestamp=sent + 5
            ),
        )
    add_employee(tenant_a, "Carl Dias", "+5511987652222", "")
    dan = add_employee(tenant_a, "Dan Reis", "+5511987653333", "333000333")
    consent.deactivate_employee(employee=dan, actor=Actor.system(), reason="left")
    return {"sent": sent}


def rows_of(page: str) -> dict[str, str]:
    """The table row of each employee, by name."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = {}
    for row in body.split("<tr>")[1:]:
        name = re.search(r'<a href="[^"]*">([^<]+)</a>', row).group(1)
        rows[name] = row
    return rows


def words(row: str) -> str:
    """What a person reads in a row: the text without tags, spaces collapsed."""
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split())
    return re.sub(r" ([:.,])", r"\1", text)


def test_each_connected_employee_shows_what_capture_holds(client, tenant_a, firm, oscar):
    login(client, oscar)
    response = client.get(URL)
    assert response.status_code == 200
    rows = rows_of(response.content.decode())
    assert set(rows) == {"Ana Souza", "Bea Lima"}, (
        "no number nor consent, or offboarded: not listed"
    )

    ana = rows["Ana Souza"]
    assert "first delivery seen" in ana
    assert "Yes</span>" in ana and "1 message</span>" in ana
    assert "2 messages archived" in ana
    assert "Covered" in ana
    assert "Capture stopped" not in ana

    bea = rows["Bea Lima"]
    assert "first delivery seen" in bea, "refused deliveries show the number is connected"
    assert "No</span>" in bea and "None yet" in bea
    assert "No consent" in bea
    assert '<span class="badge badge-warning">2</span>' in bea


def test_the_page_states_what_coexistence_cannot_capture(client, tenant_a, alice):
    login(client, alice)
    page = client.get(URL).content.decode()
    assert "Group chats are not captured" in page
    assert "Calls made in the WhatsApp Business app are not captured" in page
    assert "can be requested only once, within 24 hours of onboarding" in page


def test_a_number_whose_partner_was_removed_shows_capture_stopped(client, tenant_a, firm, audrey):
    send(client, tenant_a, account_update("PARTNER_REMOVED"))
    login(client, audrey)
    rows = rows_of(client.get(URL).content.decode())
    assert "Capture stopped" in rows["Ana Souza"]
    assert "Capture stopped" not in rows["Bea Lima"]


def test_a_number_assigned_but_never_seen_shows_its_assignment(client, tenant_a, alice):
    add_employee(tenant_a, "Eva Melo", "+5511987654444", "444000444", consented=True)
    login(client, alice)
    eva = rows_of(client.get(URL).content.decode())["Eva Melo"]
    assert "number assigned, nothing received yet" in eva
    assert "None yet" in eva and "No</span>" in eva


def test_admins_officers_and_auditors_open_it_and_others_do_not(
    client, tenant_a, firm, alice, oscar, audrey, bob
):
    for person in (alice, oscar, audrey):
        login(client, person)
        assert client.get(URL).status_code == 200
    login(client, make_person("nobody@firm-a.example", tenant=None, role=None))
    assert client.get(URL).status_code == 403
    login(client, bob)
    page = client.get(URL).content.decode()
    assert "Ana Souza" not in page and "Bea Lima" not in page
    client.logout()
    assert client.get(URL).status_code == 302


def test_the_page_costs_the_same_queries_for_two_employees_or_six(
    client, tenant_a, firm, alice, django_assert_max_num_queries
):
    login(client, alice)
    client.get(URL)  # warm the session and anything cached per process
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    baseline = [query["sql"] for query in few.captured_queries]  # before the log is reset
    for index in range(4):
        phone_id = f"55500055{index}"
        add_employee(
            tenant_a, f"Extra Person{index}", f"+551198765600{index}", phone_id, consented=True
        )
        send(
            client,
            tenant_a,
            payloads.inbound_text(
                phone_number_id=phone_id, wamid=f"wamid.X{index}", text="x",
                timestamp=firm["sent"] + 10,
            ),
        )  # fmt: skip
    with django_assert_max_num_queries(len(baseline)):
        page = client.get(URL).content.decode()
    assert len(rows_of(page)) == 6
    # Session, user, membership and tenant scope, then one query per table of the page
    # (employees, messages, refusals, notices, the connection settings).
    assert len(baseline) <= 13, baseline


def test_every_consented_employee_is_listed_with_why_capture_does_or_does_not_run(
    client, tenant_a, firm, alice
):
    """A consented employee without a WhatsApp number id used to be left out here while the
    register showed them "Covered"."""
    add_employee(tenant_a, "Fay Rocha", "+5511987655555", "", consented=True)
    add_employee(tenant_a, "Eva Melo", "+5511987654444", "444000444", consented=True)
    login(client, alice)
    rows = {name: words(row) for name, row in rows_of(client.get(URL).content.decode()).items()}
    assert set(rows) == {"Ana Souza", "Bea Lima", "Eva Melo", "Fay Rocha"}
    assert re.search(r"Capturing since \d{4}-\d\d-\d\d \d\d:\d\d", rows["Ana Souza"])
    assert "Not capturing: no consent" in rows["Bea Lima"]
    assert "Not capturing: no delivery seen yet" in rows["Eva Melo"]
    assert "Not capturing: no WhatsApp number connected" in rows["Fay Rocha"]
    for name in ("Bea Lima", "Eva Melo", "Fay Rocha"):
        assert "Capturing since" not in rows[name]


def test_without_the_firms_whatsapp_connection_nobody_is_captured(client, tenant_a, alice):
    add_employee(tenant_a, "Eva Melo", "+5511987654444", "444000444", consented=True)
    login(client, alice)
    eva = words(rows_of(client.get(URL).content.decode())["Eva Melo"])
    assert "Not capturing: the firm's WhatsApp connection is not set up" in eva


def test_acknowledging_a_stop_does_not_bring_capture_back(client, tenant_a, firm, alice):
    send(client, tenant_a, account_update("PARTNER_REMOVED"))
    with tenant_scope(tenant_a):
        for notice in CaptureNotice.objects.filter(phone_number_id=PHONE_ID):
            acknowledge_notice(notice=notice, actor=Actor.for_user(alice.user))
    login(client, alice)
    ana = words(rows_of(client.get(URL).content.decode())["Ana Souza"])
    assert "Capture stopped" in ana and "Capturing since" not in ana
    # A delivery after the stop shows the number was connected again.
    send(
        client,
        tenant_a,
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.A9", text="back", timestamp=now_seconds()
        ),
    )
    ana = words(rows_of(client.get(URL).content.decode())["Ana Souza"])
    assert "Capturing since" in ana and "Capture stopped" not in ana


def register_rows(page: str) -> dict[str, str]:
    return {name: words(row) for name, row in rows_of(page).items()}


def test_the_register_and_the_coverage_page_say_the_same_about_capture(
    client, tenant_a, firm, alice
):
    add_employee(tenant_a, "Fay Rocha", "+5511987655555", "", consented=True)
    add_employee(tenant_a, "Eva Melo", "+5511987654444", "444000444", consented=True)
    login(client, alice)
    coverage = register_rows(client.get(URL).content.decode())
    register = register_rows(client.get("/consent/register/").content.decode())
    capture = re.compile(
        r"(Capturing since \d{4}-\d\d-\d\d \d\d:\d\d|Not capturing: [^.]+\.|Capture stopped)"
    )
    assert "Not capturing: no WhatsApp number connected" in register["Fay Rocha"], (
        "the register no longer shows a covered employee without a number as if captured"
    )
    for name, row in coverage.items():
        assert capture.search(row), name
        assert capture.search(row).group(0) == capture.search(register[name]).group(0), name
    assert "Not capturing: no consent" in register["Carl Dias"]
