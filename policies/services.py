"""Writes of policies: create one, save a new version of its document, switch it on or off. Each
checks the document against its schema first (nothing is kept when it has an error) and records
itself in the audit trail."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.models import Tenant

from .documents.schema import Problem, validate_document
from .models import Policy, PolicyVersion
from .packs import pack as built_in_pack


class UnknownPackPolicy(LookupError):
    """No built-in pack of this slug, or no policy at this place in it."""


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


@dataclass(frozen=True, slots=True)
class PackOutcome:
    """What switching a pack on did: policies `added` (copied, switched on), copies that were
    off and are now `switched_on`, and copies already on (`unchanged`)."""

    added: tuple[Policy, ...]
    switched_on: tuple[Policy, ...]
    unchanged: tuple[Policy, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.switched_on)


def _pack_documents(slug: str) -> tuple[dict[str, Any], ...]:
    try:
        return built_in_pack(slug).documents
    except KeyError:
        raise UnknownPackPolicy(slug) from None


@transaction.atomic
def enable_pack(*, tenant: Tenant, actor: Actor, slug: str) -> PackOutcome:
    """Copy every policy of the built-in pack `slug` as the firm's own and switch it on. A
    policy the firm already has under the same name is not copied again (an earlier copy of
    this pack that was switched off is switched on), so a second call adds nothing. Raises
    UnknownPackPolicy for a slug that names no pack."""
    documents = _pack_documents(slug)
    # One enable at a time per firm: a second waits, then finds the copies the first made
    # (without it, two at once both copy and one fails on the name).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"policies.enable_pack:{tenant.pk}"],
        )
    added: list[Policy] = []
    switched_on: list[Policy] = []
    unchanged: list[Policy] = []
    for document in documents:
        existing = Policy.objects.filter(tenant=tenant, name=document["name"]).first()
        if existing is None:
            try:
                policy, _ = create_policy(tenant=tenant, actor=actor, document=document, pack=slug)
            except PolicyDocumentError:
                # A policy of this name made by hand meanwhile (not under the lock): theirs stays.
                unchanged.append(Policy.objects.get(tenant=tenant, name=document["name"]))
                continue
            added.append(set_active(policy=policy, actor=actor, active=True))
        elif existing.pack == slug and not existing.active:
            switched_on.append(set_active(policy=existing, actor=actor, active=True))
        else:
            unchanged.append(existing)
    outcome = PackOutcome(tuple(added), tuple(switched_on), tuple(unchanged))
    if outcome.changed:
        record_event(
            "policy.pack_enabled", tenant=tenant, actor=actor, target_label=slug,
            details={"pack": slug, "added": [p.name for p in added],
                     "switched_on": [p.name for p in switched_on]},
        )  # fmt: skip
    return outcome


def _free_name(tenant: Tenant, name: str) -> str:
    taken = set(
        Policy.objects.filter(tenant=tenant, name__startswith=name).values_list("name", flat=True)
    )
    if name not in taken:
        return name
    copy_number = 1
    while True:
        candidate = f"{name} (copy)" if copy_number == 1 else f"{name} (copy {copy_number})"
        if candidate not in taken:
            return candidate[:200]
        copy_number += 1


@transaction.atomic
def copy_from_pack(*, tenant: Tenant, actor: Actor, slug: str, index: int) -> Policy:
    """Copy the pack's policy at `index` (0-based, in the pack's order) as a new policy of the
    firm, switched off, to be edited before use. A name the firm already has gets "(copy)".
    Raises UnknownPackPolicy for an unknown slug or index."""
    documents = _pack_documents(slug)
    if not 0 <= index < len(documents):
        raise UnknownPackPolicy(f"{slug}/{index}")
    document = dict(documents[index])
    document["name"] = _free_name(tenant, document["name"])
    policy, _ = create_policy(
        tenant=tenant, actor=actor, document=document, pack=slug, note="copied from the pack"
    )
    return policy
