"""``/api/v1/policies/``, ``/api/v1/policy-packs/`` and ``/api/v1/policy-hits/``: an officer
writes a policy, saves versions (an unchanged save adds none), switches it on and off and reads
any version; a bad document is a 400 naming each problem; auditors read and try but never write;
packs copy once; hits filter; another firm's objects are 404."""

from __future__ import annotations

from dataclasses import replace

import pytest

from archive.models import Message
from archive.services import archive_messages
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.services import create_tenant
from policies.api.views import TrialRateThrottle
from policies.models import Policy, PolicyHit, PolicyVersion
from policies.packs import pack
from policies.scanning import scan_messages
from policies.services import enable_pack
from policies.trial import MAX_TRIAL_TEXT
from tests.archive.ledger_helpers import employee_of, message_record
from tests.database import side_by_side

URL = "/api/v1/policies/"
CPF_TEXT = "Segue meu CPF 529.982.247-25 pra abrir a conta"
TERMS = {
    "name": "Promises of returns",
    "description": "Promising returns",
    "severity": "high",
    "detect": {"detector": "lexicon", "rule": "promise"},
    "lexicon": {"rules": [{"name": "promise", "category": "guarantee", "any": ["garantido"]}]},
    "action": {"alert": True},
}
CPF = {
    "name": "CPF numbers",
    "severity": "medium",
    "detect": {"detector": "pii", "types": ["br_cpf"], "min_score": 0.5},
}


def trail(tenant, prefix: str = "policy.") -> list[str]:
    with tenant_scope(tenant):
        return list(
            AuditEvent.objects.filter(action__startswith=prefix)
            .order_by("id")
            .values_list("action", flat=True)
        )


def version_count(tenant) -> int:
    with tenant_scope(tenant):
        return PolicyVersion.objects.count()


@pytest.fixture
def officer(api_client_for, tenant_a):
    return api_client_for(tenant_a, Role.OFFICER)


@pytest.fixture
def auditor(api_client_for, tenant_a):
    return api_client_for(tenant_a, Role.AUDITOR)


@pytest.fixture
def created(officer) -> dict:
    response = officer.post(URL, {"document": TERMS, "note": "first"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# --- create, read, versions --------------------------------------------------------------------


def test_an_officer_creates_a_policy_that_starts_off_as_version_one(officer, tenant_a, created):
    assert (created["name"], created["version"], created["active"], created["changed"]) == (
        "Promises of returns", 1, False, True,
    )  # fmt: skip
    assert (created["severity"], created["description"], created["pack"]) == (
        "high", "Promising returns", "",
    )  # fmt: skip
    assert created["document"] == TERMS and created["note"] == "first"
    assert trail(tenant_a) == ["policy.created"]

    read = officer.get(f"{URL}{created['id']}/")
    assert read.status_code == 200
    assert read.json()["document"] == TERMS
    listed = officer.get(URL).json()
    assert listed["count"] == 1 and listed["results"][0]["severity"] == "high"


def test_a_bad_document_is_a_400_naming_each_problem_and_keeps_nothing(officer, tenant_a):
    bad = {**CPF, "severity": "urgent", "detect": {"detector": "pii", "min_score": 2}}
    response = officer.post(URL, {"document": bad}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_document"
    problems = error["details"]["problems"]
    assert {p["where"] for p in problems} == {"severity", "detect > min_score"}
    assert all(set(p) == {"where", "message", "warning"} for p in problems)
    assert version_count(tenant_a) == 0 and trail(tenant_a) == []


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        "policy",
        {"document": "not an object"},
        {"document": [TERMS]},
        {"document": TERMS, "note": 7 * "x" * 100},
        {"document": TERMS, "note": ["a"]},
        {},
    ],
    ids=["list", "string", "document-string", "document-list", "note-long", "note-list", "empty"],
)
def test_malformed_bodies_are_400_and_change_nothing(officer, tenant_a, body):
    response = officer.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["message"]
    assert version_count(tenant_a) == 0


def test_a_document_nested_deep_is_refused_with_a_400(officer, tenant_a):
    deep: dict = {"detector": "pii"}
    for _ in range(12):
        deep = {"any": [deep]}
    response = officer.post(URL, {"document": {**CPF, "detect": deep}}, format="json")
    assert response.status_code == 400
    assert "levels deep" in str(response.json())
    hostile = "[" * 5000 + "]" * 5000
    raw = officer.post(
        URL, f'{{"document": {hostile}}}', content_type="application/json"
    )  # fmt: skip
    assert raw.status_code == 400
    assert version_count(tenant_a) == 0


def test_a_save_adds_a_version_and_an_unchanged_save_says_so(officer, tenant_a, created):
    policy_url = f"{URL}{created['id']}/"
    stricter = {**TERMS, "severity": "critical"}
    saved = officer.put(policy_url, {"document": stricter, "note": "stricter"}, format="json")
    assert saved.status_code == 200, saved.content
    assert (saved.json()["version"], saved.json()["changed"]) == (2, True)
    assert saved.json()["severity"] == "critical"

    again = officer.put(policy_url, {"document": stricter}, format="json")
    assert (again.json()["version"], again.json()["changed"]) == (2, False)
    assert "no version added" in again.json()["message"]

    patched = officer.patch(policy_url, {"document": {"description": None}}, format="json")
    assert (patched.json()["version"], patched.json()["changed"]) == (3, True)
    assert "description" not in patched.json()["document"]
    untouched = officer.patch(policy_url, {"note": "only a note"}, format="json")
    assert (untouched.status_code, untouched.json()["changed"]) == (200, False)
    assert trail(tenant_a) == ["policy.created", "policy.version_saved", "policy.version_saved"]

    versions = officer.get(f"{policy_url}versions/").json()
    assert [(v["number"], v["note"]) for v in versions["results"]] == [
        (3, ""), (2, "stricter"), (1, "first"),
    ]  # fmt: skip
    first = officer.get(f"{policy_url}versions/1/")
    assert first.status_code == 200 and first.json()["document"] == TERMS
    assert officer.get(f"{policy_url}versions/4/").status_code == 404
    assert officer.get(f"{policy_url}versions/99999999999999999999/").status_code == 404


def test_a_bad_save_keeps_the_latest_version(officer, tenant_a, created):
    response = officer.put(
        f"{URL}{created['id']}/", {"document": {**TERMS, "detect": {}}}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["problems"][0]["where"].startswith("detect")
    assert version_count(tenant_a) == 1


def test_activate_and_deactivate_are_audited_once_each(officer, tenant_a, created):
    policy_url = f"{URL}{created['id']}/"
    assert officer.post(f"{policy_url}activate/").json()["active"] is True
    assert officer.post(f"{policy_url}activate/").json()["active"] is True
    assert officer.post(f"{policy_url}deactivate/").json()["active"] is False
    assert trail(tenant_a) == ["policy.created", "policy.enabled", "policy.disabled"]
    assert officer.get(URL, {"active": "true"}).json()["count"] == 0
    assert officer.get(URL, {"active": "perhaps"}).status_code == 400


def test_a_policy_cannot_be_deleted_and_the_answer_says_to_switch_it_off(officer, created):
    response = officer.delete(f"{URL}{created['id']}/")
    assert response.status_code == 405
    assert "Switch it off" in response.json()["error"]["message"]
    assert officer.get(f"{URL}{created['id']}/").status_code == 200


def test_the_list_filters_by_severity_pack_activity_and_name(officer, tenant_a, created):
    officer.post(URL, {"document": CPF}, format="json")
    officer.post("/api/v1/policy-packs/security/enable/")

    def names(**params) -> list[str]:
        response = officer.get(URL, params)
        assert response.status_code == 200, response.content
        return [row["name"] for row in response.json()["results"]]

    assert names(severity="medium") == ["CPF numbers"]
    assert names(severity="high") == ["Promises of returns", "Suspicious links"]
    assert names(pack="security") == ["Suspicious links"]
    assert names(active="true") == ["Suspicious links"]
    assert names(search="cpf") == ["CPF numbers"]
    assert officer.get(URL, {"severity": "urgent"}).status_code == 400


def test_the_list_costs_the_same_queries_for_many_policies(
    officer, created, django_assert_max_num_queries
):
    for n in range(8):
        officer.post(URL, {"document": {**CPF, "name": f"CPF {n}"}}, format="json")
    with django_assert_max_num_queries(12):
        response = officer.get(URL)
    assert response.json()["count"] == 9


# --- roles and tenants -------------------------------------------------------------------------


def test_an_auditor_reads_and_tries_but_never_writes(auditor, officer, tenant_a, created):
    policy_url = f"{URL}{created['id']}/"
    assert auditor.get(policy_url).status_code == 200
    assert auditor.get(f"{policy_url}versions/1/").status_code == 200
    refused = [
        auditor.post(URL, {"document": CPF}, format="json"),
        auditor.put(policy_url, {"document": CPF}, format="json"),
        auditor.patch(policy_url, {"note": "x"}, format="json"),
        auditor.post(f"{policy_url}activate/"),
        auditor.post("/api/v1/policy-packs/security/enable/"),
    ]
    assert [r.status_code for r in refused] == [403] * 5
    assert auditor.post(f"{policy_url}test/", {"text": "garantido"}, format="json").json()["fired"]
    assert trail(tenant_a) == ["policy.created"] and version_count(tenant_a) == 1


def test_an_admin_writes_too(api_client_for, tenant_a):
    admin = api_client_for(tenant_a, Role.ADMIN)
    assert admin.post(URL, {"document": CPF}, format="json").status_code == 201


def test_another_firms_policies_and_hits_are_404(api_client_for, tenant_b, created, tenant_a):
    outsider = api_client_for(tenant_b, Role.ADMIN)
    policy_url = f"{URL}{created['id']}/"
    answers = [
        outsider.get(policy_url),
        outsider.put(policy_url, {"document": CPF}, format="json"),
        outsider.patch(policy_url, {"note": "x"}, format="json"),
        outsider.post(f"{policy_url}activate/"),
        outsider.get(f"{policy_url}versions/"),
        outsider.get(f"{policy_url}versions/1/"),
        outsider.post(f"{policy_url}test/", {"text": "garantido"}, format="json"),
    ]
    assert [r.status_code for r in answers] == [404] * 7
    assert outsider.get(URL).json()["count"] == 0
    assert version_count(tenant_a) == 1 and trail(tenant_a) == ["policy.created"]


# --- trying a text -----------------------------------------------------------------------------


def test_trying_a_draft_shows_the_verdict_and_findings_with_spans(officer, tenant_a):
    response = officer.post(f"{URL}test/", {"document": CPF, "text": CPF_TEXT}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["runnable"], body["fired"], body["problems"]) == (True, True, [])
    [finding] = body["findings"]
    start, end = finding["spans"][0]
    assert (finding["type"], CPF_TEXT[start:end]) == ("br_cpf", "529.982.247-25")
    assert finding["value"] == "529.982.247-25" and finding["explanation"]
    assert version_count(tenant_a) == 0, "trying saves nothing"


def test_trying_respects_the_scope_given_as_context(officer):
    document = {**TERMS, "scope": {"direction": "outbound"}}
    body = officer.post(
        f"{URL}test/",
        {"document": document, "text": "retorno garantido", "context": {"direction": "inbound"}},
        format="json",
    ).json()
    assert body["fired"] is False and "scope" in body["reason"]
    assert [f["rule"] for f in body["findings"]] == ["promise"]


def test_trying_a_broken_document_answers_its_problems_instead_of_a_run(officer):
    response = officer.post(
        f"{URL}test/", {"document": {"name": "x"}, "text": "hello"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["runnable"], body["fired"], body["findings"]) == (False, False, [])
    assert {p["message"] for p in body["problems"]} == {"missing severity, detect"}


def test_a_text_over_the_limit_is_a_400_and_a_long_text_is_tried(officer):
    too_long = officer.post(
        f"{URL}test/", {"document": CPF, "text": "a" * (MAX_TRIAL_TEXT + 1)}, format="json"
    )
    assert too_long.status_code == 400
    assert "text" in too_long.json()["error"]["details"]
    long_text = ("bom dia 😀 ação " * 7000)[: MAX_TRIAL_TEXT - len(CPF_TEXT)] + CPF_TEXT
    answered = officer.post(f"{URL}test/", {"document": CPF, "text": long_text}, format="json")
    assert answered.status_code == 200 and answered.json()["fired"] is True


@pytest.mark.parametrize(
    "body",
    [
        {"document": CPF},
        {"document": CPF, "text": 5},
        {"document": CPF, "text": "a\x00b"},
        {"document": CPF, "text": "x", "context": {"direction": "sideways"}},
        {"document": CPF, "text": "x", "context": {"region": "brazil"}},
        {"document": CPF, "text": "x", "context": "inbound"},
    ],
    ids=["no-text", "text-number", "nul", "direction", "region", "context-string"],
)
def test_bad_trial_input_is_a_400(officer, body):
    response = officer.post(f"{URL}test/", body, format="json")
    assert response.status_code == 400, response.content


def test_trying_a_saved_policy_runs_its_latest_version(officer, created):
    policy_url = f"{URL}{created['id']}/"
    officer.put(policy_url, {"document": {**TERMS, "detect": CPF["detect"]}}, format="json")
    body = officer.post(f"{policy_url}test/", {"text": CPF_TEXT}, format="json").json()
    assert body["fired"] is True and body["findings"][0]["type"] == "br_cpf"


# --- packs -------------------------------------------------------------------------------------


def test_packs_are_listed_with_their_documents(auditor):
    response = auditor.get("/api/v1/policy-packs/")
    assert response.status_code == 200
    by_slug = {row["slug"]: row for row in response.json()}
    assert set(by_slug) == {
        "financial_services", "life_sciences", "data_protection", "security", "conduct",
    }  # fmt: skip
    assert by_slug["security"]["documents"] == list(pack("security").documents)


def test_enabling_a_pack_copies_it_switched_on_once(officer, tenant_a):
    url = "/api/v1/policy-packs/data_protection/enable/"
    first = officer.post(url)
    assert first.status_code == 200, first.content
    names = [d["name"] for d in pack("data_protection").documents]
    assert sorted(p["name"] for p in first.json()["added"]) == sorted(names)
    assert all(p["active"] and p["pack"] == "data_protection" for p in first.json()["added"])
    assert first.json()["unchanged"] == first.json()["switched_on"] == []

    second = officer.post(url)
    assert second.json()["added"] == second.json()["switched_on"] == []
    assert sorted(p["name"] for p in second.json()["unchanged"]) == sorted(names)
    with tenant_scope(tenant_a):
        assert Policy.objects.count() == len(names)
    assert trail(tenant_a, "policy.pack_enabled") == ["policy.pack_enabled"], "once: it changed"
    assert officer.post("/api/v1/policy-packs/nonsense/enable/").status_code == 404


def test_enabling_a_pack_again_switches_its_copies_back_on(officer, tenant_a):
    url = "/api/v1/policy-packs/security/enable/"
    [copy] = officer.post(url).json()["added"]
    officer.post(f"{URL}{copy['id']}/deactivate/")
    [again] = officer.post(url).json()["switched_on"]
    assert (again["id"], again["active"]) == (copy["id"], True)


@pytest.mark.django_db(transaction=True)
def test_two_enables_of_a_pack_at_once_copy_each_policy_once():
    firm = create_tenant(slug="firm-race", name="Firm Race", actor=Actor.system())
    made: list[list[str]] = []

    def job(meet) -> None:
        meet()
        with tenant_scope(firm):
            outcome = enable_pack(tenant=firm, actor=Actor.command("test"), slug="data_protection")
        made.append([policy.name for policy in outcome.added])

    assert side_by_side(job, job) == []
    names = sorted(d["name"] for d in pack("data_protection").documents)
    assert sorted(name for one in made for name in one) == names, "each copied once"
    with tenant_scope(firm):
        assert sorted(Policy.objects.values_list("name", flat=True)) == names


# --- hits --------------------------------------------------------------------------------------


@pytest.fixture
def hits(tenant_a, officer) -> list[int]:
    """Two messages scanned by the CPF policy and the promise policy: three hits."""
    for document in (CPF, TERMS):
        made = officer.post(URL, {"document": document}, format="json").json()
        officer.post(f"{URL}{made['id']}/activate/")
    employee = employee_of(tenant_a)
    texts = [CPF_TEXT, "retorno garantido, CPF 529.982.247-25", "bom dia"]
    records = [replace(message_record(employee, n), text=t) for n, t in enumerate(texts)]
    with tenant_scope(tenant_a):
        archive_messages(tenant=tenant_a, records=records)
        ids = list(Message.objects.order_by("pk").values_list("pk", flat=True))
    assert scan_messages(tenant=tenant_a, message_ids=ids) == 3
    return ids


def test_hits_list_with_their_message_version_and_findings(officer, tenant_a, hits):
    response = officer.get("/api/v1/policy-hits/")
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert len(rows) == 3
    cpf = next(r for r in rows if r["message"] == hits[0])
    assert (cpf["whatsapp_id"], cpf["version"], cpf["severity"]) == (
        f"wamid.{tenant_a.pk}.0", 1, "medium",
    )  # fmt: skip
    assert cpf["findings"][0]["type"] == "br_cpf" and cpf["explanation"]
    one = officer.get(f"/api/v1/policy-hits/{cpf['id']}/")
    assert one.status_code == 200 and one.json() == cpf
    assert trail(tenant_a, "archive.read") == ["archive.read", "archive.read"]


def test_hits_filter_by_policy_severity_category_message_and_time(officer, tenant_a, hits):
    def found(**params) -> list[int]:
        response = officer.get("/api/v1/policy-hits/", params)
        assert response.status_code == 200, response.content
        return sorted(r["message"] for r in response.json()["results"])

    with tenant_scope(tenant_a):
        cpf_policy = Policy.objects.get(name="CPF numbers").pk
    assert found(policy=cpf_policy) == hits[:2]
    assert found(severity="high") == [hits[1]]
    assert found(category="pii") == hits[:2]
    assert found(category="guarantee") == [hits[1]]
    assert found(message=hits[1]) == [hits[1], hits[1]]
    assert found(lookback="true") == []
    assert found(since="2000-01-01T00:00:00Z") == sorted([hits[0], hits[1], hits[1]])
    assert found(until="2000-01-01T00:00:00Z") == []
    for bad in ({"policy": "x"}, {"severity": "urgent"}, {"since": "yesterday"}):
        assert officer.get("/api/v1/policy-hits/", bad).status_code == 400


def test_hits_of_another_firm_are_404(api_client_for, tenant_b, tenant_a, hits):
    outsider = api_client_for(tenant_b, Role.OFFICER)
    with tenant_scope(tenant_a):
        hit = PolicyHit.objects.first()
    assert hit is not None
    assert outsider.get(f"/api/v1/policy-hits/{hit.pk}/").status_code == 404
    assert outsider.get("/api/v1/policy-hits/").json()["results"] == []


def test_the_hits_list_costs_the_same_queries_for_many_hits(
    officer, hits, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = officer.get("/api/v1/policy-hits/")
    assert len(response.json()["results"]) == 3


@pytest.mark.parametrize(
    "raw",
    [
        '{"document": {"name": "a\\u0000b", "severity": "low", "detect": {"detector": "pii"}}}',
        '{"document": {"name": "a\\ud800b", "severity": "low", "detect": {"detector": "pii"}}}',
        '{"document": {"name": "ok", "severity": "low", "detect": {"detector": "pii"},'
        ' "description": "x\\u0000"}}',
        '{"document": {"name": "ok", "severity": "low", "detect": {"detector": "pii"}},'
        ' "note": "x\\ud800"}',
    ],
    ids=["nul-name", "surrogate-name", "nul-description", "surrogate-note"],
)
def test_text_postgresql_cannot_store_is_a_400_not_a_500(officer, tenant_a, raw):
    response = officer.post(URL, raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert version_count(tenant_a) == 0


def test_a_trial_text_with_a_broken_character_is_a_400(officer):
    raw = (
        '{"document": {"name": "c", "severity": "low", "detect": {"detector": "pii"}},'
        ' "text": "CPF 529.982.247-25 \\ud800"}'
    )
    response = officer.post(f"{URL}test/", raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "text" in response.json()["error"]["details"]


def test_trying_texts_has_its_own_tighter_rate_per_key(officer, monkeypatch):
    monkeypatch.setattr(TrialRateThrottle, "THROTTLE_RATES", {"policy_trial": "2/min"})
    body = {"document": CPF, "text": "bom dia"}
    statuses = [officer.post(f"{URL}test/", body, format="json").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert officer.get(URL).status_code == 200, "the rest of the API is not held back"
