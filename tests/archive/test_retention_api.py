"""``/api/v1/retention-policies/`` and the admins' ``/archive/retention/`` page: admins add,
change and remove policies, officers and auditors read them; a period below the regulation's
floor is a 400 naming the floor and changes nothing; every change is audited with before and
after; bad input is a clear 400; another firm sees none of it (404)."""

from __future__ import annotations

import pytest

from archive.retention.models import RetentionPolicy
from archive.retention.services import create_policy
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from consent import services as consent
from tests.archive.retention_helpers import ADMIN
from tests.fixtures import login

URL = "/api/v1/retention-policies/"


def trail(tenant) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(
            AuditEvent.objects.filter(action__startswith="retention_policy.").order_by("id")
        )


def policies(tenant) -> list[tuple[str, int, str]]:
    with tenant_scope(tenant):
        return list(RetentionPolicy.objects.order_by("pk").values_list("preset", "years", "scope"))


def test_an_admin_adds_changes_and_removes_a_policy_each_change_audited(admin_api, tenant_a):
    created = admin_api.post(URL, {"preset": "sec_17a4_a"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["years"], body["floor_years"], body["regulation"], body["scope"]) == (
        6, 6, "SEC Rule 17a-4(a)", "tenant",
    )  # fmt: skip
    assert body["accessible_years"] == 2

    changed = admin_api.patch(f"{URL}{body['id']}/", {"years": 8}, format="json")
    assert changed.status_code == 200 and changed.json()["years"] == 8
    gone = admin_api.delete(f"{URL}{body['id']}/")
    assert gone.status_code == 204
    assert policies(tenant_a) == []

    created_, changed_, deleted_ = trail(tenant_a)
    assert (created_.action, changed_.action, deleted_.action) == (
        "retention_policy.created", "retention_policy.changed", "retention_policy.deleted",
    )  # fmt: skip
    assert created_.details["before"] is None and created_.details["after"]["years"] == 6
    assert (changed_.details["before"]["years"], changed_.details["after"]["years"]) == (6, 8)
    assert deleted_.details["after"] is None and deleted_.details["before"]["years"] == 8
    assert created_.actor_label.startswith("api-key:")


def test_shortening_below_the_floor_is_refused_and_changes_nothing(admin_api, tenant_a):
    policy = create_policy(tenant=tenant_a, actor=ADMIN, preset="mifid_ii", years=7)
    refused = admin_api.patch(f"{URL}{policy.pk}/", {"years": 4}, format="json")
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["details"]["years"] == [
        "MiFID II Art. 16(7) and Delegated Regulation (EU) 2017/565 Art. 76 requires at least "
        "5 years; 4 would be shorter than that floor."
    ]
    assert policies(tenant_a) == [("mifid_ii", 7, "tenant")]
    assert [e.action for e in trail(tenant_a)] == ["retention_policy.created"]
    # Down to the floor is allowed; so is creating with a period above it.
    assert admin_api.patch(f"{URL}{policy.pk}/", {"years": 5}, format="json").status_code == 200
    new = admin_api.post(URL, {"preset": "cftc_1_31", "years": 3}, format="json")
    assert new.status_code == 400
    assert "CFTC Rule 1.31 requires at least 5 years" in new.json()["error"]["details"]["years"][0]


def test_team_and_country_policies(admin_api, tenant_a):
    team = consent.create_team(tenant=tenant_a, name="Desk", actor=ADMIN)
    by_team = admin_api.post(URL, {"preset": "finra_4511", "scope": "team", "team": team.pk},
                             format="json")  # fmt: skip
    assert by_team.status_code == 201 and by_team.json()["team_name"] == "Desk"
    by_country = admin_api.post(URL, {"preset": "mifid_ii", "scope": "region", "region": "pt"},
                                format="json")  # fmt: skip
    assert by_country.status_code == 201 and by_country.json()["region"] == "PT"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"preset": "sec"}, "preset"),
        ({}, "preset"),
        ({"preset": "finra_4511", "years": "six"}, "years"),
        ({"preset": "finra_4511", "years": 10_000}, "years"),
        ({"preset": "finra_4511", "scope": "planet"}, "scope"),
        ({"preset": "finra_4511", "scope": "team"}, "team"),
        ({"preset": "finra_4511", "scope": "team", "team": 999_999}, "team"),
        ({"preset": "finra_4511", "scope": "region", "region": "ZZ"}, "region"),
        ({"preset": "finra_4511", "scope": "region", "region": "Brazil"}, "region"),
        ({"preset": "finra_4511", "scope": "region"}, "region"),
    ],
)
def test_bad_input_is_a_clear_400_that_keeps_nothing(admin_api, tenant_a, body, field):
    answer = admin_api.post(URL, body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["error"]["details"]
    assert policies(tenant_a) == []
    assert trail(tenant_a) == []


@pytest.mark.parametrize("role", [Role.OFFICER, Role.AUDITOR])
def test_officers_and_auditors_read_but_may_not_change(api_client_for, tenant_a, role):
    policy = create_policy(tenant=tenant_a, actor=ADMIN, preset="finra_4511")
    reader = api_client_for(tenant_a, role)
    listed = reader.get(URL)
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()["results"]] == [policy.pk]
    assert reader.post(URL, {"preset": "finra_4511"}, format="json").status_code == 403
    assert reader.patch(f"{URL}{policy.pk}/", {"years": 9}, format="json").status_code == 403
    assert reader.delete(f"{URL}{policy.pk}/").status_code == 403
    assert policies(tenant_a) == [("finra_4511", 6, "tenant")]


def test_another_firm_sees_none_of_it(api_client_for, tenant_a, tenant_b):
    policy = create_policy(tenant=tenant_a, actor=ADMIN, preset="finra_4511")
    outsider = api_client_for(tenant_b, Role.ADMIN)
    assert outsider.get(URL).json()["results"] == []
    assert outsider.get(f"{URL}{policy.pk}/").status_code == 404
    assert outsider.patch(f"{URL}{policy.pk}/", {"years": 9}, format="json").status_code == 404
    assert outsider.delete(f"{URL}{policy.pk}/").status_code == 404
    # A team of another firm cannot be named either.
    other_team = consent.create_team(tenant=tenant_b, name="B desk", actor=ADMIN)
    answer = api_client_for(tenant_a, Role.ADMIN).post(
        URL, {"preset": "finra_4511", "scope": "team", "team": other_team.pk}, format="json"
    )
    assert answer.status_code == 400
    assert policies(tenant_a) == [("finra_4511", 6, "tenant")]


# --- the page -------------------------------------------------------------------------------


def test_the_page_lists_policies_adds_one_and_shows_the_next_run(client, tenant_a, alice):
    login(client, alice)
    page = client.get("/archive/retention/")
    assert page.status_code == 200
    assert b"No policy yet: every message is kept for ever." in page.content
    assert b"The next run will dispose of no messages;" in page.content
    assert b"0 are kept by legal holds" in page.content

    added = client.post("/archive/retention/", {"preset": "sec_17a4_b4", "scope": "tenant"})
    assert added.status_code == 302
    page = client.get("/archive/retention/")
    text = page.content.decode()
    assert "SEC 17a-4(b)(4): business communications" in text
    assert "3 years, the first 2 easily accessible" in text
    assert "The whole firm" in text


def test_the_page_refuses_a_period_below_the_floor_on_the_field(client, tenant_a, alice):
    login(client, alice)
    page = client.post("/archive/retention/", {"preset": "sec_17a4_a", "years": "2",
                                                "scope": "tenant"})  # fmt: skip
    assert page.status_code == 400
    assert (
        "SEC Rule 17a-4(a) requires at least 6 years; 2 would be shorter" in page.content.decode()
    )
    assert policies(tenant_a) == []


def test_the_page_changes_and_removes_a_policy(client, tenant_a, alice):
    policy = create_policy(tenant=tenant_a, actor=ADMIN, preset="finra_4511")
    login(client, alice)
    assert client.get(f"/archive/retention/{policy.pk}/").status_code == 200
    saved = client.post(
        f"/archive/retention/{policy.pk}/",
        {"preset": "finra_4511", "years": "7", "scope": "tenant"},
    )
    assert saved.status_code == 302
    assert policies(tenant_a) == [("finra_4511", 7, "tenant")]
    assert client.post(f"/archive/retention/{policy.pk}/delete/").status_code == 302
    assert policies(tenant_a) == []
    assert trail(tenant_a)[-1].actor_label == alice.user.email


def test_the_page_is_for_admins_and_another_firms_policy_is_404(
    client, tenant_a, tenant_b, audrey, bob
):
    policy = create_policy(tenant=tenant_a, actor=ADMIN, preset="finra_4511")
    login(client, audrey)
    assert client.get("/archive/retention/").status_code == 403
    login(client, bob)
    assert client.get(f"/archive/retention/{policy.pk}/").status_code == 404
    assert client.post(f"/archive/retention/{policy.pk}/delete/").status_code == 404
    assert policies(tenant_a) == [("finra_4511", 6, "tenant")]
