"""Publishing a notice (issue 8): it is asked about once, the edits typed before are kept, and
drafts are named by their title and language, never by an internal number."""

from __future__ import annotations

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from consent import services
from consent.models import ConsentNotice
from tests.fixtures import login


def _form(texts: dict, **extra) -> dict:
    form = {}
    for code in ("en", "pt-br", "es", "hi"):
        entry = texts.get(code, {})
        key = code.replace("-", "_")
        form[f"title_{key}"] = entry.get("title", "")
        form[f"body_{key}"] = entry.get("body", "")
    form.update(extra)
    return form


def _reload(notice: ConsentNotice) -> ConsentNotice:
    with tenant_scope(notice.tenant_id):
        return ConsentNotice.objects.get(pk=notice.pk)


def test_save_and_publish_keeps_the_edits_and_asks_before_publishing(client, tenant_a, alice):
    login(client, alice)
    draft = services.create_notice_draft(
        tenant=tenant_a,
        texts={"en": {"title": "Old title", "body": "Old text."}},
        actor=Actor.system(),
    )
    edited = {"en": {"title": "Monitoring 2027", "body": "What we capture from 2027."}}
    question = client.post(f"/consent/notices/{draft.pk}/", _form(edited, action="publish"))
    assert question.status_code == 200
    page = question.content.decode()
    assert "Publish Draft “Monitoring 2027” (English) as version 2?" in page
    assert "Your edits are saved." in page
    saved = _reload(draft)
    assert saved.texts == edited and not saved.is_published  # kept, not yet published

    client.post(f"/consent/notices/{draft.pk}/publish/", {"reconsent_by": "", "confirm": "1"})
    published = _reload(draft)
    assert published.is_published and published.version == 2 and published.texts == edited


def test_a_publish_request_without_confirmation_only_asks(client, tenant_a, alice):
    login(client, alice)
    draft = services.create_notice_draft(
        tenant=tenant_a, texts={"en": {"title": "T", "body": "B"}}, actor=Actor.system()
    )
    response = client.post(f"/consent/notices/{draft.pk}/publish/", {"reconsent_by": ""})
    assert response.status_code == 200
    assert 'name="confirm" value="1"' in response.content.decode()
    assert not _reload(draft).is_published


def test_an_incomplete_draft_is_saved_and_explained_instead_of_asked_about(client, tenant_a, alice):
    login(client, alice)
    draft = services.create_notice_draft(tenant=tenant_a, texts={}, actor=Actor.system())
    typed = {"en": {"title": "Only a title"}}
    response = client.post(
        f"/consent/notices/{draft.pk}/", _form(typed, action="publish"), follow=True
    )
    body = response.content.decode()
    assert "Each language needs a title and a text: missing in English." in body
    assert 'value="Only a title"' in body  # the editor shows what was typed
    assert _reload(draft).texts == {"en": {"title": "Only a title", "body": ""}}


def test_drafts_are_named_by_title_and_language(client, tenant_a, alice):
    login(client, alice)
    draft = services.create_notice_draft(
        tenant=tenant_a,
        texts={"es": {"title": "Aviso 2027", "body": "Texto."}},
        actor=Actor.system(),
    )
    empty = services.create_notice_draft(tenant=tenant_a, texts={}, actor=Actor.system())
    listing = client.get("/consent/notices/").content.decode()
    assert "Draft “Aviso 2027” (Español)" in listing and "Empty draft" in listing
    assert '<span class="badge">Español</span>' in listing  # languages by name, not code
    assert f"#{draft.pk}" not in listing and f"#{empty.pk}" not in listing
    page = client.get(f"/consent/notices/{draft.pk}/").content.decode()
    assert "<h1>Draft “Aviso 2027” (Español)</h1>" in page
    assert str(draft) == "Draft “Aviso 2027” (Español)"
