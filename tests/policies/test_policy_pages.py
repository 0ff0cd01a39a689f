"""The policy pages as officers, admins and auditors use them: the list with the built-in packs,
switching on and off, the editor (form and JSON), its "test this text" box, versions and their
differences; auditors read only, and another firm's policy is a 404 everywhere."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from archive.models import Message
from archive.services import archive_messages
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from policies.models import Policy, PolicyHit, PolicyVersion
from policies.packs import pack
from policies.scanning import scan_messages
from policies.services import create_policy, enable_pack, set_active
from tests.archive.ledger_helpers import employee_of, message_record
from tests.fixtures import login
from tests.policies.editor_posts import editor_fields

pytestmark = pytest.mark.django_db

OFFICER = Actor.command("test-officer")
TERMS = {
    "name": "Promises of returns",
    "severity": "high",
    "detect": {"detector": "lexicon", "rule": "promise", "min_score": 0.5},
    "lexicon": {"rules": [{"name": "promise", "category": "guarantee", "any": ["garantido"]}]},
    "action": {"alert": True, "notify": ["assignees"]},
}


@pytest.fixture
def policy(tenant_a):
    with tenant_scope(tenant_a):
        made, _ = create_policy(tenant=tenant_a, actor=OFFICER, document=TERMS)
    return made


def versions(tenant, policy) -> list[PolicyVersion]:
    with tenant_scope(tenant):
        return list(PolicyVersion.objects.filter(policy=policy).order_by("number"))


def events(tenant, action: str) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(tenant=tenant, action=action))


def post(client, url: str, data: dict[str, list[str]]):
    flat = [(k, v) for k, values in data.items() for v in values]
    return client.post(url, urlencode(flat), content_type="application/x-www-form-urlencoded")


# --- the list and the packs ---------------------------------------------------------------------


def test_the_list_shows_each_policy_and_the_five_packs(client, tenant_a, oscar, policy):
    login(client, oscar)
    page = client.get(reverse("policies:list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Promises of returns" in text and "High" in text
    for built_in in ("Financial services", "Life sciences", "Data protection", "Security",
                     "Conduct"):  # fmt: skip
        assert built_in in text
    assert "Switch on the pack" in text and "Copy to edit" in text


def test_switching_a_policy_on_and_off_is_audited(client, tenant_a, oscar, policy):
    login(client, oscar)
    response = client.post(reverse("policies:switch", args=[policy.pk]), {"active": "on"})
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.active
    client.post(reverse("policies:switch", args=[policy.pk]), {})
    policy.refresh_from_db()
    assert not policy.active
    assert len(events(tenant_a, "policy.enabled")) == 1
    assert len(events(tenant_a, "policy.disabled")) == 1
    assert events(tenant_a, "policy.enabled")[0].actor == oscar.user


def test_switching_a_pack_on_twice_adds_nothing_the_second_time_and_says_so(
    client, tenant_a, alice
):
    login(client, alice)
    url = reverse("policies:pack_enable", args=["financial_services"])
    first = client.post(url, follow=True)
    assert "Financial services pack switched on: 5 added" in first.content.decode()
    with tenant_scope(tenant_a):
        names = sorted(Policy.objects.filter(active=True).values_list("name", flat=True))
    assert names == sorted(d["name"] for d in pack("financial_services").documents)
    second = client.post(url, follow=True)
    assert "already on" in second.content.decode()
    with tenant_scope(tenant_a):
        assert Policy.objects.count() == 5
    assert len(events(tenant_a, "policy.pack_enabled")) == 1


def test_switching_a_pack_on_again_switches_on_its_copies_that_were_off(tenant_a):
    with tenant_scope(tenant_a):
        outcome = enable_pack(tenant=tenant_a, actor=OFFICER, slug="security")
        [only] = outcome.added
        only.active = False
        only.save(update_fields=["active"])
        again = enable_pack(tenant=tenant_a, actor=OFFICER, slug="security")
    assert [p.name for p in again.switched_on] == ["Suspicious links"] and not again.added


def test_copying_one_pack_policy_opens_it_switched_off_in_the_editor(client, tenant_a, oscar):
    login(client, oscar)
    url = reverse("policies:pack_copy", args=["conduct", 0])
    response = client.post(url)
    with tenant_scope(tenant_a):
        copy = Policy.objects.get()
    assert response.url == reverse("policies:edit", args=[copy.pk])
    assert (copy.name, copy.pack, copy.active) == ("Harassment", "conduct", False)
    client.post(url)
    with tenant_scope(tenant_a):
        assert sorted(Policy.objects.values_list("name", flat=True)) == [
            "Harassment", "Harassment (copy)",
        ]  # fmt: skip


def test_an_unknown_pack_is_a_404(client, oscar):
    login(client, oscar)
    assert client.post(reverse("policies:pack_enable", args=["nope"])).status_code == 404
    assert client.post(reverse("policies:pack_copy", args=["conduct", 7])).status_code == 404


# --- roles and tenants --------------------------------------------------------------------------


def test_an_auditor_reads_policies_and_versions_but_changes_nothing(
    client, tenant_a, audrey, policy
):
    login(client, audrey)
    assert client.get(reverse("policies:list")).status_code == 200
    page = client.get(reverse("policies:policy", args=[policy.pk]))
    assert page.status_code == 200 and "Version 1" in page.content.decode()
    assert "Switch on" not in page.content.decode() and "Edit" not in page.content.decode()
    assert client.get(reverse("policies:version", args=[policy.pk, 1])).status_code == 200
    for url in (reverse("policies:edit", args=[policy.pk]), reverse("policies:new")):
        assert client.get(url).status_code == 403
    refused = [
        client.post(reverse("policies:switch", args=[policy.pk]), {"active": "on"}),
        client.post(reverse("policies:pack_enable", args=["security"])),
        post(client, reverse("policies:edit", args=[policy.pk]),
             {**editor_fields({**TERMS, "severity": "low"}), "action": ["save"]}),
    ]  # fmt: skip
    assert [r.status_code for r in refused] == [403, 403, 403]
    policy.refresh_from_db()
    assert (policy.active, policy.version) == (False, 1)
    with tenant_scope(tenant_a):
        assert Policy.objects.count() == 1


def test_another_firms_policy_is_a_404_on_every_page(client, tenant_a, bob, policy):
    login(client, bob)
    pages = [
        client.get(reverse("policies:policy", args=[policy.pk])),
        client.get(reverse("policies:edit", args=[policy.pk])),
        client.get(reverse("policies:version", args=[policy.pk, 1])),
        client.get(reverse("policies:diff", args=[policy.pk])),
        client.post(reverse("policies:switch", args=[policy.pk]), {"active": "on"}),
        post(client, reverse("policies:edit", args=[policy.pk]),
             {**editor_fields(TERMS), "action": ["save"]}),
    ]  # fmt: skip
    assert [p.status_code for p in pages] == [404] * 6
    assert "Promises of returns" not in client.get(reverse("policies:list")).content.decode()
    with tenant_scope(tenant_a):
        policy.refresh_from_db()
    assert (policy.active, policy.version) == (False, 1)


# --- the editor ---------------------------------------------------------------------------------


def test_the_form_shows_the_document_and_an_unchanged_save_adds_no_version(
    client, tenant_a, oscar, policy
):
    login(client, oscar)
    page = client.get(reverse("policies:edit", args=[policy.pk]))
    assert page.status_code == 200
    assert 'value="Promises of returns"' in page.content.decode()
    response = post(
        client, reverse("policies:edit", args=[policy.pk]),
        {**editor_fields(TERMS), "action": ["save"]},
    )  # fmt: skip
    assert response.status_code == 302
    assert len(versions(tenant_a, policy)) == 1


def test_saving_a_change_in_the_form_creates_version_two_with_its_note(
    client, tenant_a, oscar, policy
):
    login(client, oscar)
    data = editor_fields(TERMS)
    data["cond-0-min_score"] = ["0.9"]
    data["action"] = ["save"]
    data["note"] = ["fewer alerts"]
    response = post(client, reverse("policies:edit", args=[policy.pk]), data)
    assert response.status_code == 302
    assert response.url == reverse("policies:policy", args=[policy.pk])
    old, new = versions(tenant_a, policy)
    assert new.document == {**TERMS, "detect": {**TERMS["detect"], "min_score": 0.9}}
    assert (new.number, new.note, new.created_by_label) == (2, "fewer alerts", oscar.email)
    assert old.document == TERMS
    [event] = events(tenant_a, "policy.version_saved")
    assert event.actor == oscar.user
    page = client.get(reverse("policies:policy", args=[policy.pk])).content.decode()
    assert "Version 2" in page and "fewer alerts" in page
    diff = client.get(reverse("policies:diff", args=[policy.pk]) + "?from=1&to=2")
    text = diff.content.decode()
    assert '<span class="diff-removed">-     &quot;min_score&quot;: 0.5' in text
    assert '<span class="diff-added">+     &quot;min_score&quot;: 0.9' in text


def test_a_new_policy_from_the_form_is_created_switched_off(client, tenant_a, alice):
    login(client, alice)
    assert client.get(reverse("policies:new")).status_code == 200
    data = editor_fields(TERMS)
    data.update({"name": ["Own rule"], "original": ["{}"], "action": ["save"]})
    response = post(client, reverse("policies:new"), data)
    assert response.status_code == 302
    with tenant_scope(tenant_a):
        made = Policy.objects.get(name="Own rule")
    assert not made.active and made.version == 1
    assert events(tenant_a, "policy.created")[0].actor == alice.user


def test_problems_are_shown_next_to_their_fields_and_nothing_is_kept(
    client, tenant_a, oscar, policy
):
    login(client, oscar)
    data = editor_fields(TERMS)
    data.update({"name": [""], "cond-0-min_score": ["7"], "action": ["save"]})
    response = post(client, reverse("policies:edit", args=[policy.pk]), data)
    assert response.status_code == 400
    text = response.content.decode()
    assert "must be a number from 0 to 1" in text and "must not be empty" in text
    # The value typed stays in its field, with the problem under it.
    assert 'name="cond-0-min_score" value="7"' in text
    assert len(versions(tenant_a, policy)) == 1


def test_a_catastrophic_pattern_is_refused_in_words(client, tenant_a, oscar, policy):
    login(client, oscar)
    data = editor_fields(TERMS)
    data.update({"rule-0-patterns": ["(a+)+$"], "action": ["save"]})
    response = post(client, reverse("policies:edit", args=[policy.pk]), data)
    assert response.status_code == 400
    assert "which can take exponential time" in response.content.decode()
    assert len(versions(tenant_a, policy)) == 1


def test_a_policy_that_matches_everything_is_saved_with_a_warning(client, tenant_a, oscar, policy):
    login(client, oscar)
    data = editor_fields(TERMS)
    data.update({"combine": ["none"], "action": ["save"]})
    response = post(client, reverse("policies:edit", args=[policy.pk]), data)
    assert response.status_code == 302
    assert len(versions(tenant_a, policy)) == 2
    page = client.get(response.url).content.decode()
    assert "flags nearly every message" in page


# --- the JSON view ------------------------------------------------------------------------------


def test_switching_to_json_and_back_keeps_unsaved_edits(client, tenant_a, oscar, policy):
    login(client, oscar)
    url = reverse("policies:edit", args=[policy.pk])
    data = editor_fields(TERMS)
    data.update({"severity": ["critical"], "action": ["to_json"]})
    as_json = post(client, url, data)
    assert as_json.status_code == 200
    text = as_json.content.decode()
    assert 'name="document"' in text and "&quot;severity&quot;: &quot;critical&quot;" in text
    edited = {**TERMS, "severity": "critical", "description": "typed in JSON"}
    back = post(client, url, {"mode": ["json"], "document": [json.dumps(edited)],
                              "action": ["to_form"]})  # fmt: skip
    text = back.content.decode()
    assert '<option value="critical" selected>' in text and "typed in JSON" in text
    assert len(versions(tenant_a, policy)) == 1


def test_saving_from_the_json_view_checks_the_same_problems(client, tenant_a, oscar, policy):
    login(client, oscar)
    url = reverse("policies:edit", args=[policy.pk])
    bad = {**TERMS, "detect": {"detector": "classifier", "min_score": 0.5}}
    response = post(client, url, {"mode": ["json"], "document": [json.dumps(bad)],
                                  "action": ["save"]})  # fmt: skip
    assert response.status_code == 400
    assert "the classifier needs a category" in response.content.decode()
    good = {**TERMS, "severity": "low"}
    saved = post(client, url, {"mode": ["json"], "document": [json.dumps(good)],
                               "action": ["save"], "note": ["by hand"]})  # fmt: skip
    assert saved.status_code == 302
    assert versions(tenant_a, policy)[-1].document == good


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"name": "x", ', "This is not valid JSON"),
        ("", "The document is empty"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("x" * 600_000, "longer than"),
    ],
    ids=["malformed", "empty", "deep-json", "huge"],
)
def test_json_that_cannot_be_read_gets_a_clear_message_and_changes_nothing(
    client, tenant_a, oscar, policy, text, says
):
    login(client, oscar)
    response = post(client, reverse("policies:edit", args=[policy.pk]),
                    {"mode": ["json"], "document": [text], "action": ["save"]})  # fmt: skip
    assert response.status_code == 400
    assert says in response.content.decode()
    assert len(versions(tenant_a, policy)) == 1


@pytest.mark.parametrize(
    ("depth", "says"),
    [(300, "nested more than 8 levels deep"), (1000, "nested too deeply to read")],
)
@pytest.mark.parametrize("action", ["save", "test", "to_form"])
def test_a_deeply_nested_document_is_refused_in_words(
    client, tenant_a, oscar, policy, depth, says, action
):
    login(client, oscar)
    leaf = json.dumps({"detector": "pii", "types": ["iban"]})
    detect = '{"any": [' * depth + leaf + "]}" * depth
    text = json.dumps(TERMS).replace(json.dumps(TERMS["detect"]), detect)
    response = post(client, reverse("policies:edit", args=[policy.pk]),
                    {"mode": ["json"], "document": [text], "action": [action],
                     "trial-text": ["IBAN DE89370400440532013000"]})  # fmt: skip
    assert response.status_code in (200, 400)
    assert says in response.content.decode()
    assert len(versions(tenant_a, policy)) == 1


# --- test this text -----------------------------------------------------------------------------


def test_testing_a_text_shows_the_verdict_and_highlights_the_match_escaped(
    client, tenant_a, oscar, policy
):
    login(client, oscar)
    data = editor_fields(TERMS)
    data.update({"action": ["test"],
                 "trial-text": ["<script>alert(1)</script> retorno garantido & mais"]})  # fmt: skip
    response = post(client, reverse("policies:edit", args=[policy.pk]), data)
    assert response.status_code == 200
    text = response.content.decode()
    assert "The policy fires on this message." in text
    assert (
        '<p class="trial-text">&lt;script&gt;alert(1)&lt;/script&gt; retorno '
        "<mark>garantido</mark> &amp; mais</p>"
    ) in text
    assert "<script>alert(1)" not in text
    assert len(versions(tenant_a, policy)) == 1


def test_the_test_runs_the_unsaved_form_not_the_saved_version(client, tenant_a, oscar, policy):
    login(client, oscar)
    data = editor_fields(TERMS)
    data.update({"action": ["test"], "trial-text": ["retorno garantido"],
                 "direction": ["outbound"], "trial-direction": ["inbound"]})  # fmt: skip
    response = post(client, reverse("policies:edit", args=[policy.pk]), data)
    text = response.content.decode()
    assert "does not fire" in text and "out of scope: direction" in text


def test_the_script_gets_only_the_result(client, oscar, policy):
    login(client, oscar)
    data = editor_fields(TERMS)
    data.update({"action": ["test"], "trial-text": ["garantido"]})
    response = client.post(
        reverse("policies:edit", args=[policy.pk]),
        urlencode([(k, v) for k, values in data.items() for v in values]),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Requested-With": "policy-trial"},
    )
    text = response.content.decode()
    assert response.status_code == 200 and "<html" not in text
    assert "<mark>garantido</mark>" in text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("x" * 100_001, "at most 100,000 characters"),
        ("PK\x03\x04\x00\x00binary", "Null characters are not allowed"),
        ("\x01\x02\x03 abc", "looks like a file"),
        ("   ", "Paste a message"),
    ],
    ids=["100KB", "nul", "controls", "blank"],
)
def test_a_text_that_cannot_be_tested_gets_a_clear_message(client, oscar, policy, text, says):
    login(client, oscar)
    data = editor_fields(TERMS)
    data.update({"action": ["test"], "trial-text": [text]})
    response = post(client, reverse("policies:edit", args=[policy.pk]), data)
    assert response.status_code == 400
    assert says in response.content.decode()


def test_a_100kb_text_is_tested(client, oscar, policy):
    login(client, oscar)
    data = editor_fields(TERMS)
    data.update({"action": ["test"], "trial-text": ["bom dia " * 12_498 + "garantido"]})
    response = post(client, reverse("policies:edit", args=[policy.pk]), data)
    assert response.status_code == 200
    assert "<mark>garantido</mark>" in response.content.decode()


def test_emoji_and_mixed_scripts_are_highlighted_at_the_right_place(client, oscar, policy):
    login(client, oscar)
    data = editor_fields(TERMS)
    data.update({"action": ["test"], "trial-text": ["👍🏽 Привет, é garantido 😀"]})
    response = post(client, reverse("policies:edit", args=[policy.pk]), data)
    assert "👍🏽 Привет, é <mark>garantido</mark> 😀" in response.content.decode()


# --- hits on the list ---------------------------------------------------------------------------


def test_the_list_counts_hits_of_the_last_30_days_only(client, tenant_a, oscar, policy):
    with tenant_scope(tenant_a):
        set_active(policy=policy, actor=OFFICER, active=True)
        employee = employee_of(tenant_a)
        records = [
            replace(message_record(employee, n), text=f"retorno garantido {n}") for n in range(3)
        ]
        archive_messages(tenant=tenant_a, records=records)
        ids = list(Message.objects.values_list("pk", flat=True))
    assert scan_messages(tenant=tenant_a, message_ids=ids) == 3
    with tenant_scope(tenant_a):
        old = PolicyHit.objects.order_by("pk").first()
        PolicyHit.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    login(client, oscar)
    page = client.get(reverse("policies:list")).content.decode()
    assert '<td data-label="Hits, last 30 days">2</td>' in page


def test_the_list_takes_the_same_queries_for_one_policy_or_many(
    client, tenant_a, oscar, policy, django_assert_max_num_queries
):
    login(client, oscar)
    client.get(reverse("policies:list"))
    with tenant_scope(tenant_a):
        enable_pack(tenant=tenant_a, actor=OFFICER, slug="financial_services")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        login(client, oscar)
        client.get(reverse("policies:list"))
    with tenant_scope(tenant_a):
        enable_pack(tenant=tenant_a, actor=OFFICER, slug="data_protection")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("policies:list"))
    assert len(many.captured_queries) <= len(one.captured_queries)


def test_a_nested_group_is_shown_read_only_and_kept_as_it_is(client, tenant_a, oscar):
    nested = {
        **TERMS,
        "detect": {"any": [
            {"detector": "lexicon", "rule": "promise"},
            {"all": [{"detector": "pii", "types": ["iban"]},
                     {"detector": "classifier", "category": "secrecy", "min_score": 0.8}]},
        ]},
    }  # fmt: skip
    with tenant_scope(tenant_a):
        made, _ = create_policy(tenant=tenant_a, actor=OFFICER, document=nested)
    login(client, oscar)
    page = client.get(reverse("policies:edit", args=[made.pk])).content.decode()
    assert "A nested group of tests" in page and 'name="cond-1-group"' in page
    data = {**editor_fields(nested), "action": ["refresh"]}
    more = post(client, reverse("policies:edit", args=[made.pk]), data)
    assert 'name="cond-3-detector"' in more.content.decode()  # two empty rows to fill in
    data["action"] = ["save"]
    assert post(client, reverse("policies:edit", args=[made.pk]), data).status_code == 302
    assert [v.document for v in versions(tenant_a, made)] == [nested]


@pytest.mark.parametrize("odd", ["²", "\u0661", "\uff11", "9" * 30, "-1"])
def test_the_diff_reads_only_ascii_version_numbers(client, oscar, policy, odd):
    # "²".isdigit() is true and int() refuses it: that was a 500.
    login(client, oscar)
    response = client.get(reverse("policies:diff", args=[policy.pk]), {"from": odd, "to": odd})
    assert response.status_code == 200
