"""Consent notices: drafts, and publishing a draft as the next frozen version."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .. import gate
from ..errors import ConsentError
from ..models import (
    ConsentNotice,
    Language,
)
from ..notice_templates import DEFAULT_NOTICE, LANGUAGES, render_notice


def notice_hash(texts: dict[str, dict[str, str]]) -> str:
    canonical = json.dumps(texts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _clean_texts(texts: dict[str, Any]) -> dict[str, dict[str, str]]:
    cleaned: dict[str, dict[str, str]] = {}
    for language in Language.values:
        entry = texts.get(language) or {}
        title = str(entry.get("title", "")).strip()
        body = str(entry.get("body", "")).strip()
        if title or body:
            cleaned[language] = {"title": title, "body": body}
    unknown = set(texts) - set(Language.values)
    if unknown:
        raise ValidationError({"texts": f"Unknown languages: {', '.join(sorted(unknown))}."})
    return cleaned


def create_notice_draft(*, tenant: Tenant, texts: dict[str, Any], actor: Actor) -> ConsentNotice:
    with tenant_scope(tenant):
        notice = ConsentNotice.objects.create(
            tenant=tenant, texts=_clean_texts(texts), created_by=actor.user
        )
        record_event("notice.draft_created", tenant=tenant, actor=actor, target=notice)
    return notice


def update_notice_draft(
    *, notice: ConsentNotice, texts: dict[str, Any], actor: Actor
) -> ConsentNotice:
    if notice.is_published:
        raise ConsentError(
            "A published notice never changes. Create a new draft and publish it as a new version."
        )
    with tenant_scope(notice.tenant_id):
        notice.texts = _clean_texts(texts)
        notice.save(update_fields=["texts"])
        record_event(
            "notice.draft_updated",
            tenant=notice.tenant,
            actor=actor,
            target=notice,
        )
    return notice


def check_publishable(
    *, notice: ConsentNotice, reconsent_deadline: datetime | None = None
) -> dict[str, dict[str, str]]:
    """Refuse (ConsentError) what publishing would refuse, before anyone is asked to confirm;
    returns the texts that would be frozen."""
    if notice.is_published:
        raise ConsentError("This notice is already published.")
    texts = _clean_texts(notice.texts)
    if not texts:
        raise ConsentError("An empty notice cannot be published: write at least one language.")
    labels = dict(Language.choices)
    incomplete = [
        labels.get(lang, lang)
        for lang, entry in texts.items()
        if not entry["title"] or not entry["body"]
    ]
    if incomplete:
        raise ConsentError(
            f"Each language needs a title and a text: missing in {', '.join(incomplete)}."
        )
    if reconsent_deadline is not None and reconsent_deadline <= timezone.now():
        raise ConsentError("The re-consent deadline must be in the future.")
    return texts


def publish_notice(
    *,
    notice: ConsentNotice,
    actor: Actor,
    reconsent_deadline: datetime | None = None,
) -> ConsentNotice:
    """Freeze a draft as the next version. With a deadline, consents to earlier versions stop
    covering capture at that moment unless the employee consents to this one before it."""
    texts = check_publishable(notice=notice, reconsent_deadline=reconsent_deadline)
    with tenant_scope(notice.tenant_id), transaction.atomic():
        # Serialise publications of one tenant so versions never collide, and re-read the
        # draft under the lock: a concurrent publish of the same draft must fail cleanly.
        Tenant.objects.select_for_update().filter(pk=notice.tenant_id).first()
        if ConsentNotice.objects.filter(
            pk=notice.pk, status=ConsentNotice.Status.PUBLISHED
        ).exists():
            raise ConsentError("This notice is already published.")
        latest = ConsentNotice.objects.aggregate(latest=Max("version"))["latest"] or 0
        notice.texts = texts
        notice.version = latest + 1
        notice.status = ConsentNotice.Status.PUBLISHED
        notice.content_sha256 = notice_hash(texts)
        notice.reconsent_deadline = reconsent_deadline
        notice.published_at = timezone.now()
        notice.published_by = actor.user
        notice.save()
        record_event(
            "notice.published",
            tenant=notice.tenant,
            actor=actor,
            target=notice,
            details={
                "version": notice.version,
                "sha256": notice.content_sha256,
                "reconsent_deadline": (
                    reconsent_deadline.isoformat() if reconsent_deadline else None
                ),
            },
        )
        gate.invalidate(notice.tenant_id)
    return notice


def publish_default_notice(*, tenant: Tenant, actor: Actor) -> ConsentNotice:
    """Every new tenant starts with the shipped notice (in every language) as version 1."""
    texts = {lang: render_notice(DEFAULT_NOTICE[lang], firm_name=tenant.name) for lang in LANGUAGES}
    notice = create_notice_draft(tenant=tenant, texts=texts, actor=actor)
    return publish_notice(notice=notice, actor=actor)
