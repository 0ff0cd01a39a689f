"""Writes of policies: create one, save a new version of its document, switch it on or off. Each
checks the document against its schema first (nothing is kept when it has an error) and records
itself in the audit trail."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, connection, transaction

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.models import Tenant

from .documents.schema import Problem, validate_document
from .models import Policy, PolicyVersion
from .packs import pack as builtin_pack


class PolicyDocumentError(ValueError):
    """The document has errors: `problems` says where and what (warnings included)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems if not problem.warning))
        self.problems = problems


def canonical_sha256(document: Mapping[str, object]) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _checked(document: object) -> tuple[dict[str, Any], list[Problem]]:
    problems = validate_document(document)
    if any(not problem.warning for problem in problems):
        raise PolicyDocumentError(problems)
    assert isinstance(document, Mapping)
    return dict(document), problems


@transaction.atomic
def create_policy(
    *, tenant: Tenant, actor: Actor, document: object, pack: str = "", note: str = ""
) -> tuple[Policy, list[Problem]]:
    """A new policy (off until switched on) with `document` as version 1. Returns the policy and
    the document's warnings. Raises PolicyDocumentError (nothing kept)."""
    checked, warnings = _checked(document)
    try:
        with transaction.atomic():
            policy = Policy.objects.create(
                tenant=tenant, name=checked["name"], pack=pack, created_by_label=actor.label
            )
    except IntegrityError:
        raise PolicyDocumentError(
            [Problem("name", "the firm already has a policy of this name")]
        ) from None
    version = _add_version(policy, checked, actor=actor, note=note)
    record_event(
        "policy.created", tenant=tenant, actor=actor, target=policy,
        details={"version": 1, "sha256": version.document_sha256, "pack": pack, "note": note},
    )  # fmt: skip
    return policy, warnings


def _add_version(
    policy: Policy, document: dict[str, Any], *, actor: Actor, note: str
) -> PolicyVersion:
    return PolicyVersion.objects.create(
        tenant=policy.tenant, policy=policy, number=policy.version, document=document,
        document_sha256=canonical_sha256(document), note=note[:500],
        created_by_label=actor.label,
    )  # fmt: skip


@transaction.atomic
def save_version(
    *, policy: Policy, actor: Actor, document: object, note: str = ""
) -> tuple[PolicyVersion, list[Problem]]:
    """Keep `document` as the policy's next version (the earlier ones stay, unchanged). A save
    that changes nothing adds no version and records nothing. Raises PolicyDocumentError."""
    checked, warnings = _checked(document)
    locked = Policy.objects.select_for_update().get(pk=policy.pk)
    latest = locked.versions.get(number=locked.version)
    if latest.document_sha256 == canonical_sha256(checked):
        return latest, warnings
    if checked["name"] != locked.name:
        if Policy.objects.filter(name=checked["name"]).exclude(pk=locked.pk).exists():
            raise PolicyDocumentError(
                [Problem("name", "the firm already has a policy of this name")]
            )
        locked.name = checked["name"]
    locked.version += 1
    locked.save(update_fields=["name", "version"])
    version = _add_version(locked, checked, actor=actor, note=note)
    record_event(
        "policy.version_saved", tenant=locked.tenant, actor=actor, target=locked,
        details={
            "version": version.number, "previous_sha256": latest.document_sha256,
            "sha256": version.document_sha256, "note": note,
        },
    )  # fmt: skip
    policy.refresh_from_db()
    return version, warnings


@transaction.atomic
def set_active(*, policy: Policy, actor: Actor, active: bool) -> Policy:
    """Switch scanning with the policy's latest version on or off."""
    locked = Policy.objects.select_for_update().get(pk=policy.pk)
    if locked.active == active:
        return locked
    locked.active = active
    locked.save(update_fields=["active"])
    record_event(
        "policy.enabled" if active else "policy.disabled", tenant=locked.tenant, actor=actor,
        target=locked, details={"version": locked.version},
    )  # fmt: skip
    return locked


class UnknownPack(LookupError):
    """No built-in pack has this slug."""


@transaction.atomic
def enable_pack(*, tenant: Tenant, actor: Actor, slug: str) -> list[Policy]:
    """Copy the built-in pack `slug` into the firm, each copy switched on, and return the copies
    made now. Idempotent: a policy the firm already has under the same name (an earlier copy,
    perhaps switched off or edited since on purpose) is left as it is, so a second call adds
    nothing. Raises UnknownPack."""
    try:
        chosen = builtin_pack(slug)
    except KeyError:
        raise UnknownPack(slug) from None
    # One enable at a time per firm: a second waits, then finds the copies the first made.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"policies.enable_pack:{tenant.pk}"],
        )
    names = [document["name"] for document in chosen.documents]
    existing = set(
        Policy.objects.filter(tenant=tenant, name__in=names).values_list("name", flat=True)
    )
    created: list[Policy] = []
    for document in chosen.documents:
        if document["name"] in existing:
            continue
        try:
            policy, _ = create_policy(
                tenant=tenant, actor=actor, document=document, pack=slug,
                note=f"From the {chosen.name} pack",
            )  # fmt: skip
        except PolicyDocumentError:
            # Someone created a policy of this name meanwhile, by hand: theirs stays.
            existing.add(document["name"])
            continue
        created.append(set_active(policy=policy, actor=actor, active=True))
    record_event(
        "policy.pack_enabled", tenant=tenant, actor=actor, target_label=chosen.name,
        details={
            "pack": slug, "created": [p.name for p in created],
            "already_there": sorted(existing),
        },
    )  # fmt: skip
    return created
