"""The pseudonym wall where officers write (issue 12's last gap): in a firm that pseudonymises its
review, a masked officer or senior officer reads and chooses people in a policy's scope (the
editor's form and JSON view, the summary, a version, the diff, the backtest's draft, the
policies and backtests API) and in a legal hold (the form, the list, one hold, the API) by the
pseudonym the alert pages show; small teams by a pseudonym of their own. What they submit is
turned back into the employee inside the firm: the stored document keeps firm ids, the hold
employee ids. Admins and auditors read names as before."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from alerts.review_settings import update_review_settings
from archive.holds.models import LegalHold
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.pseudonyms import employee_pseudonym
from consent import services as consent
from consent.models import Employee, Team
from consent.pseudonymised import SMALL_TEAM, small_team_pseudonym
from policies.models import PolicyVersion, ScanJob
from policies.services import create_policy, save_version
from tests.archive.ledger_helpers import MOMENT
from tests.consent.employees import make_employee
from tests.policies.editor_posts import editor_fields

pytestmark = pytest.mark.django_db

XSS = "<script>alert('x')</script>Bento"
DOCUMENT = {
    "name": "Promises to the wall",
    "severity": "high",
    "scope": {"employees": ["ZQ-7781", "GONE-1"], "teams": ["Equities Sales", "Desk Zeta"]},
    "detect": {"detector": "lexicon", "rule": "promise"},
    "lexicon": {"rules": [{"name": "promise", "category": "guarantee", "any": ["garantido"]}]},
}
# What names or identifies people in DOCUMENT (GONE-1 matches no employee: it names nobody).
SECRETS = ("Zelda Quintana", "ZQ-7781", "BX-5521", "Desk Zeta", "Bento")


def _employee(tenant, name: str, firm_id: str, phone: str, team: Team | None = None) -> Employee:
    return make_employee(
        tenant, full_name=name, email=f"{firm_id.lower()}@example.com", employee_id=firm_id,
        phone_number=phone, team=team, region="", whatsapp_phone_number_id="",
    )  # fmt: skip


@pytest.fixture
def masked(tenant_a):
    update_review_settings(tenant=tenant_a, actor=Actor.system(), pseudonymise=True, sla_hours={})
    return tenant_a


@pytest.fixture
def people(masked):
    """Zelda (no team); Bento, whose name is markup, alone in the small team Desk Zeta; five in
    Equities Sales."""
    with tenant_scope(masked):
        tiny = consent.create_team(tenant=masked, name="Desk Zeta", actor=Actor.system())
        big = consent.create_team(tenant=masked, name="Equities Sales", actor=Actor.system())
        zelda = _employee(masked, "Zelda Quintana", "ZQ-7781", "+55 11 98111-0001")
        bento = _employee(masked, XSS, "BX-5521", "+55 11 98111-0002", tiny)
        for n in range(SMALL_TEAM):
            _employee(masked, f"Sales {n}", f"ES-{n}", f"+55 11 98222-000{n}", big)
    return {"zelda": zelda, "bento": bento, "tiny": tiny, "big": big}


@pytest.fixture
def outsider_employee(tenant_b):
    with tenant_scope(tenant_b):
        return _employee(tenant_b, "Yuri Outro", "YO-1", "+55 11 98333-0001")


@pytest.fixture
def sam(masked, person_factory):
    return person_factory("sam@firm-a.example", tenant=masked, role=Role.SENIOR_OFFICER)


@pytest.fixture
def policy(masked, people):
    with tenant_scope(masked):
        made, _ = create_policy(tenant=masked, actor=Actor.system(), document=DOCUMENT)
    return made


def as_read(tenant, people) -> dict:
    """DOCUMENT as a masked reader reads it."""
    return {
        **DOCUMENT,
        "scope": {
            "employees": [employee_pseudonym(tenant.pk, people["zelda"].pk), "GONE-1"],
            "teams": ["Equities Sales", small_team_pseudonym(tenant.pk, people["tiny"].pk)],
        },
    }


def stored(tenant, policy) -> list[dict]:
    with tenant_scope(tenant):
        versions = PolicyVersion.objects.filter(policy=policy).order_by("number")
        return [version.document for version in versions]


def post(client, url: str, data: dict[str, list[str]]):
    flat = [(k, v) for k, values in data.items() for v in values]
    return client.post(url, urlencode(flat), content_type="application/x-www-form-urlencoded")


def assert_no_secrets(body: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in body, (where, secret)
    assert "&lt;script&gt;" not in body and "<script>alert" not in body, where


# --- the policy pages -------------------------------------------------------------------------


def _policy_pages(policy) -> dict[str, str]:
    return {
        "editor": reverse("policies:edit", args=[policy.pk]),
        "policy": reverse("policies:policy", args=[policy.pk]),
        "version": reverse("policies:version", args=[policy.pk, 1]),
        "backtest": reverse("policies:backtest_new", args=[policy.pk]),
    }


@pytest.mark.parametrize("who", ["oscar", "sam"])
def test_a_masked_officer_reads_a_scope_by_pseudonym_on_every_policy_page(
    masked, people, policy, login_as, request, who
):
    client = login_as(request.getfixturevalue(who))
    zelda = employee_pseudonym(masked.pk, people["zelda"].pk)
    tiny = small_team_pseudonym(masked.pk, people["tiny"].pk)
    for name, url in _policy_pages(policy).items():
        body = client.get(url).content.decode()
        assert_no_secrets(body, name)
        assert zelda in body and tiny in body and "Equities Sales" in body, name
    editor = client.get(_policy_pages(policy)["editor"]).content.decode()
    # The picker offers every employee with a firm id by pseudonym, and only the named teams.
    bento = employee_pseudonym(masked.pk, people["bento"].pk)
    assert f'<option value="{bento}">{bento}</option>' in editor
    assert "Employee (pseudonym)" in editor
    # The editor's JSON view.
    text = post(
        client,
        _policy_pages(policy)["editor"],
        {**editor_fields(as_read(masked, people)), "action": ["to_json"]},
    )
    assert_no_secrets(text.content.decode(), "json view")
    assert zelda in text.content.decode()


def test_a_masked_officer_reads_the_diff_by_pseudonym(masked, people, policy, login_as, oscar):
    with tenant_scope(masked):
        changed = {**DOCUMENT, "scope": {**DOCUMENT["scope"], "employees": ["BX-5521"]}}
        save_version(policy=policy, actor=Actor.system(), document=changed)
    body = login_as(oscar).get(reverse("policies:diff", args=[policy.pk])).content.decode()
    assert_no_secrets(body, "diff")
    assert employee_pseudonym(masked.pk, people["bento"].pk) in body
    assert employee_pseudonym(masked.pk, people["zelda"].pk) in body


@pytest.mark.parametrize("who", ["alice", "audrey"])
def test_admins_and_auditors_read_names_and_firm_ids_as_before(
    masked, people, policy, login_as, request, who
):
    client = login_as(request.getfixturevalue(who))
    body = client.get(_policy_pages(policy)["policy"]).content.decode()
    assert "ZQ-7781" in body and "Desk Zeta" in body
    assert employee_pseudonym(masked.pk, people["zelda"].pk) not in body
    if who == "alice":
        editor = client.get(_policy_pages(policy)["editor"]).content.decode()
        assert "Zelda Quintana (ZQ-7781)" in editor
        # A name that is markup stays text.
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;Bento (BX-5521)" in editor
        assert "<script>alert" not in editor


def test_a_masked_officer_saves_a_scope_by_pseudonym_and_the_version_keeps_firm_ids(
    masked, people, policy, login_as, oscar
):
    client = login_as(oscar)
    shown = as_read(masked, people)
    bento = employee_pseudonym(masked.pk, people["bento"].pk)
    data = editor_fields(shown)
    data["employees"] = [*data["employees"], bento]
    data["teams"] = ["Equities Sales"]  # the small team taken out
    answer = post(client, _policy_pages(policy)["editor"], {**data, "action": ["save"]})
    assert answer.status_code == 302
    latest = stored(masked, policy)[-1]
    assert latest["scope"] == {
        "employees": ["ZQ-7781", "GONE-1", "BX-5521"],
        "teams": ["Equities Sales"],
    }
    # The audit entry records the policy and its version, as before (no pseudonym in it).
    with tenant_scope(masked):
        saved = AuditEvent.objects.get(action="policy.version_saved")
    assert saved.details["version"] == 2 and bento not in json.dumps(saved.details)


def test_the_json_view_a_masked_officer_was_shown_round_trips(
    masked, people, policy, login_as, oscar
):
    client = login_as(oscar)
    url = _policy_pages(policy)["editor"]
    shown = post(client, url, {**editor_fields(as_read(masked, people)), "action": ["to_json"]})
    [text] = re.findall(
        r'<textarea id="policy-document"[^>]*>\s*(.*?)</textarea>', shown.content.decode(), re.S
    )
    text = html.unescape(text)
    assert json.loads(text)["scope"] == as_read(masked, people)["scope"]
    answer = post(client, url, {"mode": ["json"], "document": [text], "action": ["save"]})
    assert answer.status_code == 302
    assert stored(masked, policy) == [DOCUMENT]  # the same document: no new version
    # The form view posted unchanged is the same document too.
    again = post(client, url, {**editor_fields(as_read(masked, people)), "action": ["save"]})
    assert again.status_code == 302 and len(stored(masked, policy)) == 1


@pytest.mark.parametrize("entry", ["another firm", "ZQ-7781", "Zelda Quintana", "Employee 000000"])
def test_a_scope_entry_that_is_no_pseudonym_of_the_firm_is_refused(
    masked, people, policy, outsider_employee, tenant_b, login_as, oscar, entry
):
    if entry == "another firm":
        entry = employee_pseudonym(tenant_b.pk, outsider_employee.pk)
    client = login_as(oscar)
    data = editor_fields(as_read(masked, people))
    data["employees"] = [entry]
    answer = post(client, _policy_pages(policy)["editor"], {**data, "action": ["save"]})
    assert answer.status_code == 400
    body = answer.content.decode()
    assert "is not one of this firm&#x27;s employees as you see them" in body
    assert stored(masked, policy) == [DOCUMENT]
    # Through the JSON view, the same.
    document = {**as_read(masked, people), "scope": {"employees": [entry]}}
    answer = post(
        client,
        _policy_pages(policy)["editor"],
        {"mode": ["json"], "document": [json.dumps(document)], "action": ["save"]},
    )
    assert answer.status_code == 400 and stored(masked, policy) == [DOCUMENT]


def test_an_unmasked_firm_reads_firm_ids(tenant_a, people, policy, login_as, oscar):
    update_review_settings(tenant=tenant_a, actor=Actor.system(), pseudonymise=False, sla_hours={})
    body = login_as(oscar).get(_policy_pages(policy)["policy"]).content.decode()
    assert "ZQ-7781" in body


def test_the_test_box_takes_a_pseudonym_for_a_masked_officer(
    masked, people, policy, login_as, oscar
):
    client = login_as(oscar)
    data = {
        **editor_fields(as_read(masked, people)),
        "action": ["test"],
        "trial-text": ["retorno garantido"],
    }
    inside = post(
        client,
        _policy_pages(policy)["editor"],
        {**data, "trial-employee": [employee_pseudonym(masked.pk, people["zelda"].pk)]},
    )
    outside = post(client, _policy_pages(policy)["editor"], {**data, "trial-employee": ["ZQ-7781"]})
    assert "out of scope: employee" not in inside.content.decode()
    assert "out of scope: employee" in outside.content.decode()


# --- backtests --------------------------------------------------------------------------------


def test_a_masked_officers_backtest_draft_is_read_and_started_by_pseudonym(
    alerts, masked, people, policy, login_as, oscar, api_client_for
):
    client = login_as(oscar)
    url = _policy_pages(policy)["backtest"]
    page = client.get(url).content.decode()
    assert_no_secrets(page, "backtest")
    draft = {**as_read(masked, people), "severity": "low"}
    day = MOMENT.date().isoformat()  # when the alerts' messages were sent
    answer = client.post(url, {"document": json.dumps(draft), "date_from": day, "date_to": day})
    assert answer.status_code == 302, re.findall(r"<li>([^<]*)</li>", answer.content.decode())
    with tenant_scope(masked):
        job = ScanJob.objects.get(policy=policy)
    assert job.document["scope"] == DOCUMENT["scope"]
    officer = api_client_for(masked, Role.OFFICER)
    read = officer.get(f"/api/v1/backtests/{job.pk}/").json()
    assert read["document"]["scope"] == as_read(masked, people)["scope"]
    admin = api_client_for(masked, Role.ADMIN)
    assert admin.get(f"/api/v1/backtests/{job.pk}/").json()["document"] == job.document


def test_a_backtest_draft_with_another_firms_pseudonym_is_refused(
    masked, people, policy, outsider_employee, tenant_b, login_as, oscar
):
    foreign = employee_pseudonym(tenant_b.pk, outsider_employee.pk)
    draft = {**as_read(masked, people), "scope": {"employees": [foreign]}}
    answer = login_as(oscar).post(
        _policy_pages(policy)["backtest"],
        {"document": json.dumps(draft), "date_from": "2026-01-01", "date_to": "2026-01-01"},
    )
    assert answer.status_code == 200 and "is not one of this firm" in answer.content.decode()
    with tenant_scope(masked):
        assert not ScanJob.objects.exists()


# --- the policies API -------------------------------------------------------------------------


def test_the_policies_api_reads_and_round_trips_pseudonyms_for_a_masked_key(
    masked, people, policy, api_client_for, outsider_employee, tenant_b
):
    officer = api_client_for(masked, Role.OFFICER)
    read = officer.get(f"/api/v1/policies/{policy.pk}/").json()
    assert read["document"] == as_read(masked, people)
    version = officer.get(f"/api/v1/policies/{policy.pk}/versions/1/").json()
    assert version["document"] == as_read(masked, people)
    # What it read, put back: the same document, no version added.
    same = officer.put(
        f"/api/v1/policies/{policy.pk}/", {"document": read["document"]}, format="json"
    )
    assert same.status_code == 200 and same.json()["changed"] is False
    # A patch of the scope by pseudonym is stored by firm id.
    bento = employee_pseudonym(masked.pk, people["bento"].pk)
    patched = officer.patch(
        f"/api/v1/policies/{policy.pk}/",
        {"document": {"scope": {"employees": [bento]}}},
        format="json",
    )
    assert patched.status_code == 200 and patched.json()["document"]["scope"]["employees"] == [
        bento
    ]
    assert stored(masked, policy)[-1]["scope"] == {"employees": ["BX-5521"]}
    # Another firm's pseudonym is a 400 that says why, and nothing is kept.
    foreign = employee_pseudonym(tenant_b.pk, outsider_employee.pk)
    refused = officer.patch(
        f"/api/v1/policies/{policy.pk}/",
        {"document": {"scope": {"employees": [foreign]}}},
        format="json",
    )
    assert refused.status_code == 400
    [problem] = refused.json()["error"]["details"]["problems"]
    assert problem["where"] == "scope > employees" and "not one of this firm" in problem["message"]
    assert len(stored(masked, policy)) == 2
    admin = api_client_for(masked, Role.ADMIN)
    assert admin.get(f"/api/v1/policies/{policy.pk}/").json()["document"]["scope"] == {
        "employees": ["BX-5521"]
    }


def test_a_masked_key_creates_a_policy_by_pseudonym(masked, people, api_client_for):
    officer = api_client_for(masked, Role.SENIOR_OFFICER)
    document = {**as_read(masked, people), "name": "New one"}
    # GONE-1 matches no employee and is in no saved scope of this new policy: refused, as a
    # typed firm id would be.
    refused = officer.post("/api/v1/policies/", {"document": document}, format="json")
    assert refused.status_code == 400 and "GONE-1" in str(refused.json())
    document["scope"]["employees"] = document["scope"]["employees"][:1]
    made = officer.post("/api/v1/policies/", {"document": document}, format="json")
    assert made.status_code == 201 and made.json()["document"]["scope"] == document["scope"]
    with tenant_scope(masked):
        version = PolicyVersion.objects.get(policy_id=made.json()["id"])
    assert version.document["scope"] == {
        "employees": ["ZQ-7781"],
        "teams": ["Equities Sales", "Desk Zeta"],
    }


# --- legal holds ------------------------------------------------------------------------------


def _hold(tenant, employees: list[int]) -> LegalHold:
    from archive.holds.services import place_hold

    return place_hold(
        tenant=tenant,
        actor=Actor.system(),
        matter="SEC 14",
        reason="Subpoena",
        employee_ids=employees,
        counterparty="5511911110000",
    )


@pytest.mark.parametrize("who", ["oscar", "sam"])
def test_a_masked_officer_places_a_hold_by_pseudonym(masked, people, login_as, request, who):
    client = login_as(request.getfixturevalue(who))
    form = client.get("/archive/holds/new/").content.decode()
    assert_no_secrets(form, "hold form")
    zelda = employee_pseudonym(masked.pk, people["zelda"].pk)
    assert f'<option value="{zelda}">{zelda}</option>' in form
    placed = client.post(
        "/archive/holds/new/",
        {"matter": "SEC 14", "reason": "Subpoena", "employees": [zelda]},
        follow=True,
    )
    with tenant_scope(masked):
        [hold] = LegalHold.objects.all()
    assert hold.employee_ids == [people["zelda"].pk]
    page = placed.content.decode()
    assert f"Messages of {zelda}" in page
    assert_no_secrets(page, "hold page")
    listing = client.get("/archive/holds/").content.decode()
    assert f"Messages of {zelda}" in listing
    assert_no_secrets(listing, "holds list")


def test_a_hold_naming_another_firms_pseudonym_is_refused(
    masked, people, outsider_employee, tenant_b, login_as, oscar
):
    foreign = employee_pseudonym(tenant_b.pk, outsider_employee.pk)
    for entry in (foreign, str(people["zelda"].pk), "Zelda Quintana"):
        answer = login_as(oscar).post(
            "/archive/holds/new/", {"matter": "M", "reason": "R", "employees": [entry]}
        )
        assert answer.status_code == 200, entry
        assert "is not one of this firm&#x27;s employees" in answer.content.decode(), entry
    with tenant_scope(masked):
        assert not LegalHold.objects.exists()


def test_holds_name_people_to_admins_and_pseudonyms_to_a_masked_key(
    masked, people, login_as, alice, api_client_for
):
    with tenant_scope(masked):
        hold = _hold(masked, [people["bento"].pk])
    page = login_as(alice).get(f"/archive/holds/{hold.pk}/").content.decode()
    assert "Messages of &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;Bento" in page
    assert "With the client “+55 11 91111-0000”" in page
    form = login_as(alice).get("/archive/holds/new/").content.decode()
    assert "Zelda Quintana" in form
    officer = api_client_for(masked, Role.OFFICER)
    read = officer.get(f"/api/v1/legal-holds/{hold.pk}/").json()
    bento = employee_pseudonym(masked.pk, people["bento"].pk)
    assert read["covers"][0] == f"Messages of {bento}"
    assert read["scope"]["counterparty"] == "" and "91111" not in json.dumps(read)
    assert_no_secrets(json.dumps(read), "holds api")
    listed = officer.get("/api/v1/legal-holds/").json()["results"]
    assert listed[0]["covers"][0] == f"Messages of {bento}"
    admin = api_client_for(masked, Role.ADMIN)
    assert admin.get(f"/api/v1/legal-holds/{hold.pk}/").json()["covers"][0] == (
        f"Messages of {XSS}"
    )
