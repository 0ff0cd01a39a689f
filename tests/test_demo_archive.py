"""The demo tenant gives an auditor something to review from the first login: a conversation
with an edit, a reaction and a message deleted for everyone whose original the archive keeps,
under a retention policy and a legal hold."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from archive.holds.models import LegalHold
from archive.holds.selectors import hold_messages
from archive.models import Message, MessageEvent
from archive.retention.models import RetentionPolicy
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from consent import gate

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_archive_has_an_edit_a_reaction_and_a_deleted_message():
    gate.clear_cache()
    call_command("seed_demo", stdout=StringIO())
    demo = Tenant.objects.get(slug="demo")
    with tenant_scope(demo):
        kinds = set(MessageEvent.objects.values_list("kind", flat=True))
        deleted = MessageEvent.objects.get(kind="revoke", target_wamid="wamid.demo.ana.6")
        original = Message.objects.get(wamid=deleted.target_wamid)
    assert {"edit", "reaction", "revoke"} <= kinds
    assert "antes do anúncio" in original.text  # kept for the reviewer


def test_the_demo_has_a_retention_policy_and_a_hold_on_its_client():
    gate.clear_cache()
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent
    demo = Tenant.objects.get(slug="demo")
    with tenant_scope(demo):
        [policy] = RetentionPolicy.objects.all()
        [hold] = LegalHold.objects.all()
        held = set(hold_messages(tenant=demo, hold=hold).values_list("wamid", flat=True))
    assert policy.preset == "finra_4511"
    assert {"wamid.demo.ana.1", "wamid.demo.ana.6"} <= held
    assert not any(wamid.startswith("wamid.demo.priya") for wamid in held)
