"""The verbs of the Merkle log: log records, checkpoint (sequence, sign, anchor), tombstone,
and the proofs that exports will carry.

The ordering point: appending to the log needs a gapless, per-tenant order, and holding a lock
from the append until the archiving transaction commits would serialise a tenant's whole
pipeline (and every audited page view) behind one row. So the hot path only hashes and queues
(:func:`log_records`: one INSERT per batch, no lock), and the checkpoint task, once a minute
per tenant, takes the tenant's :class:`LogHead` row lock for one short transaction that gives
the queued leaves their indexes in one batch. No lock is ever global.
"""

from __future__ import annotations

import base64
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from . import merkle
from .anchors import DOCUMENT_FORMAT, configured_anchors, configured_timestamper
from .canonical import FORM, canonical_bytes, fields_of, timestamp
from .models import LogCheckpoint, LogHead, LogLeaf, LogNode, LogSigningKey, PendingLeaf, Tombstone
from .signing import add_rotated_key, checkpoint_note, sign, signature_is_valid, signing_key

logger = logging.getLogger(__name__)

# Tables whose every row is a leaf, in the order a new log adopts rows that predate it.
RECORD_TABLES = (
    "archive.message",
    "archive.messageevent",
    "archive.callrecord",
    "archive.attachmentfile",
    "compliance_hub.auditevent",
    "archive.tombstone",
)
TILE_HEIGHT = 8  # LogNode keeps subtrees of height 8, 16, 24...: a proof reads <= 256 per level
CHUNK = 2000


class LogIntegrityError(RuntimeError):
    """The log's own state disagrees with what was signed or anchored: refuse to sign over it."""


class NotInLog(LookupError):
    """The record has no leaf yet (it gets one at the next checkpoint) or is not a record."""


def record_model(table: str) -> type[models.Model]:
    if table not in RECORD_TABLES:
        raise NotInLog(f"{table} is not a table of the log")
    return apps.get_model(table)


def record_leaf_hash(*, tenant_id: int, table: str, row: dict[str, Any], form: int = FORM) -> bytes:
    """The leaf hash of a record, from its row as the database returned it (``pk`` + fields)."""
    data = canonical_bytes(
        tenant_id=tenant_id, table=table, record_id=row["pk"], values=row, form=form
    )
    return merkle.leaf_hash(data)


def record_rows(table: str, queryset: models.QuerySet, form: int = FORM) -> models.QuerySet:
    """The rows to hash: primary key and the form's fields (joins included)."""
    return queryset.values("pk", *fields_of(table, form))


# --- The hot path ---------------------------------------------------------------------------


def log_records(*, tenant: Tenant, records: models.QuerySet) -> int:
    """Hash the records of ``records`` (one table; in the caller's tenant scope and transaction,
    right after inserting them) and queue them for the tenant's log. A record already queued or
    logged is skipped, so a retried batch or a concurrent duplicate adds nothing twice. One
    SELECT and one INSERT per batch, no lock. Returns how many were queued or seen."""
    table = records.model._meta.label_lower
    if table not in RECORD_TABLES:
        raise NotInLog(f"{table} is not a table of the log")
    now = timezone.now()
    pending = [
        PendingLeaf(
            tenant=tenant,
            record_table=table,
            record_id=row["pk"],
            leaf_hash=record_leaf_hash(tenant_id=tenant.pk, table=table, row=row),
            form=FORM,
            queued_at=now,
        )
        for row in record_rows(table, records.filter(tenant=tenant))
    ]
    if pending:
        # In key order, as every archive insert (archive/services.py: no deadlock).
        pending.sort(key=attrgetter("record_id"))
        PendingLeaf.objects.bulk_create(pending, ignore_conflicts=True)
    return len(pending)


# --- The checkpoint task --------------------------------------------------------------------


def _anchored_latest(tenant: Tenant) -> dict[str, Any] | None:
    newest = None
    for anchor in configured_anchors():
        copy = anchor.latest(tenant_id=tenant.pk)
        found = copy.document if copy is not None else None
        if found is not None and (newest is None or found["time"] > newest["time"]):
            newest = found
    return newest


def _adopt_unlogged_records(tenant: Tenant) -> int:
    """Once, when a tenant's log begins: queue the records that predate it (archived before the
    log existed). Never afterwards: a record with no leaf then is exactly what verification
    must report."""
    adopted = 0
    for table in RECORD_TABLES:
        model = apps.get_model(table)
        unlogged = (
            model._default_manager.filter(tenant=tenant)
            .filter(~_has_leaf(table), ~_is_pending(table))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        batch: list[int] = []
        for pk in unlogged.iterator(chunk_size=CHUNK):
            batch.append(pk)
            if len(batch) == CHUNK:
                adopted += log_records(
                    tenant=tenant, records=model._default_manager.filter(pk__in=batch)
                )
                batch = []
        if batch:
            adopted += log_records(
                tenant=tenant, records=model._default_manager.filter(pk__in=batch)
            )
    return adopted


def _has_leaf(table: str) -> Exists:
    return Exists(
        LogLeaf.all_tenants.filter(
            tenant_id=OuterRef("tenant_id"), record_table=table, record_id=OuterRef("pk")
        )
    )


def _is_pending(table: str) -> Exists:
    return Exists(
        PendingLeaf.all_tenants.filter(
            tenant_id=OuterRef("tenant_id"), record_table=table, record_id=OuterRef("pk")
        )
    )


def _locked_head(tenant: Tenant) -> LogHead:
    """The tenant's head, locked until the end of the transaction; created (with the adoption of
    older records) when the log begins."""
    head = LogHead.objects.select_for_update().filter(tenant=tenant).first()
    if head is not None:
        return head
    if _anchored_latest(tenant) is not None:
        raise LogIntegrityError(
            f"the log of {tenant.slug} has anchored checkpoints but no head in the database: "
            "its tables were emptied or restored from elsewhere; not starting a new log over it"
        )
    LogHead.objects.bulk_create([LogHead(tenant=tenant)], ignore_conflicts=True)
    head = LogHead.objects.select_for_update().get(tenant=tenant)
    if head.size == 0 and not LogCheckpoint.objects.filter(tenant=tenant).exists():
        adopted = _adopt_unlogged_records(tenant)
        if adopted:
            logger.info("log of %s begins with %d older records", tenant.slug, adopted)
    return head


def _check_head(tenant: Tenant, head: LogHead, frontier: merkle.Frontier) -> LogCheckpoint | None:
    last = LogCheckpoint.objects.filter(tenant=tenant).order_by("-signed_at", "-id").first()
    if last is None:
        if head.size != 0:
            raise LogIntegrityError(f"the log of {tenant.slug} has leaves but no checkpoint")
        return None
    if last.size != head.size or bytes(last.root_hash) != frontier.root():
        raise LogIntegrityError(
            f"the head of {tenant.slug}'s log (size {head.size}) disagrees with its latest "
            f"signed checkpoint (size {last.size}): the log tables were changed; run "
            f"verify_archive {tenant.slug}"
        )
    return last


def _sequence(tenant: Tenant, frontier: merkle.Frontier) -> int:
    """Give every queued leaf of the tenant the next index, oldest first (under the head lock)."""
    added = 0
    after = 0
    now = timezone.now()
    while True:
        chunk = list(
            PendingLeaf.objects.filter(tenant=tenant, id__gt=after)
            .order_by("id")
            .values_list("id", "record_table", "record_id", "leaf_hash", "form", "queued_at")[
                :CHUNK
            ]
        )
        if not chunk:
            return added
        after = chunk[-1][0]
        by_table: dict[str, list[int]] = defaultdict(list)
        for _, table, record_id, *_rest in chunk:
            by_table[table].append(record_id)
        logged: set[tuple[str, int]] = set()
        for table, ids in by_table.items():
            logged.update(
                LogLeaf.objects.filter(
                    tenant=tenant, record_table=table, record_id__in=ids
                ).values_list("record_table", "record_id")
            )
        leaves, nodes = [], []
        for _, table, record_id, leaf_hash, form, queued_at in chunk:
            if (table, record_id) in logged:  # queued again by a concurrent duplicate
                continue
            leaf_hash = bytes(leaf_hash)
            leaves.append(
                LogLeaf(
                    tenant=tenant,
                    leaf_index=frontier.size,
                    record_table=table,
                    record_id=record_id,
                    leaf_hash=leaf_hash,
                    form=form,
                    queued_at=queued_at,
                    appended_at=now,
                )
            )
            for level, index, node in frontier.append(leaf_hash):
                nodes.append(LogNode(tenant=tenant, level=level, node_index=index, hash=node))
        LogLeaf.objects.bulk_create(leaves, batch_size=CHUNK)
        LogNode.objects.bulk_create(nodes, batch_size=CHUNK)
        PendingLeaf.objects.filter(tenant=tenant, id__in=[row[0] for row in chunk]).delete()
        added += len(leaves)


def _due(last: LogCheckpoint | None, added: int, now: datetime) -> bool:
    if added or last is None:
        return True
    # An unchanged tree is signed again before the last signature is LEDGER_CHECKPOINT_MAX_AGE
    # old, so that a fresh checkpoint exists at least that often (the beat runs every interval).
    slack = timedelta(seconds=settings.LEDGER_CHECKPOINT_INTERVAL)
    return now - last.signed_at >= timedelta(seconds=settings.LEDGER_CHECKPOINT_MAX_AGE) - slack


def checkpoint_log(*, tenant: Tenant, force: bool = False) -> LogCheckpoint | None:
    """Sequence the tenant's queued leaves and sign a checkpoint if the tree grew, or if the last
    one is getting old (or ``force``). One transaction holding the tenant's head lock. Refuses
    (:class:`LogIntegrityError`) to extend a log whose head no longer matches what it signed."""
    with tenant_scope(tenant):
        head = _locked_head(tenant)
        try:
            frontier = merkle.Frontier.from_bytes(head.size, bytes(head.frontier), TILE_HEIGHT)
        except ValueError as error:
            raise LogIntegrityError(f"the head of {tenant.slug}'s log is malformed") from error
        last = _check_head(tenant, head, frontier)
        added = _sequence(tenant, frontier)
        now = timezone.now()
        if not (force or _due(last, added, now)):
            return None
        key = signing_key(tenant)
        root = frontier.root()
        note = checkpoint_note(
            tenant_id=tenant.pk, tenant_slug=tenant.slug, size=frontier.size, root=root,
            signed_at=now,
        )  # fmt: skip
        checkpoint = LogCheckpoint.objects.create(
            tenant=tenant,
            tenant_slug=tenant.slug,
            size=frontier.size,
            root_hash=root,
            signed_at=now,
            key=key,
            signature=sign(key, note),
        )
        head.size = frontier.size
        head.frontier = frontier.to_bytes()
        head.save(update_fields=["size", "frontier", "updated_at"])
    return checkpoint


def checkpoint_document(
    checkpoint: LogCheckpoint, key: LogSigningKey, previous: LogSigningKey | None = None
) -> dict[str, Any]:
    """The anchored copy of a checkpoint: everything needed to check it with no database. A
    checkpoint signed by a rotated key (``previous`` is the key before it) also carries the
    rotation: the previous key and its endorsement of this one, so the chain back to key 0 can
    be followed through the anchored copies alone."""
    signed_at = timestamp(checkpoint.signed_at)
    note = checkpoint_note(
        tenant_id=checkpoint.tenant_id, tenant_slug=checkpoint.tenant_slug, size=checkpoint.size,
        root=bytes(checkpoint.root_hash), signed_at=checkpoint.signed_at,
    )  # fmt: skip
    document = {
        "format": DOCUMENT_FORMAT,
        "tenant": checkpoint.tenant_slug,
        "tenant_id": checkpoint.tenant_id,
        "size": checkpoint.size,
        "root": bytes(checkpoint.root_hash).hex(),
        "time": signed_at,
        "algorithm": "Ed25519",
        "signature": base64.b64encode(bytes(checkpoint.signature)).decode(),
        "public_key": base64.b64encode(bytes(key.public_key)).decode(),
        "key_id": key.key_id,
        "signed_note": note.decode("ascii"),
    }
    if key.sequence:
        # Only for rotated keys: documents of key 0 keep the form they were anchored in.
        if previous is None or previous.sequence != key.sequence - 1:
            raise LogIntegrityError(f"key {key.sequence} needs key {key.sequence - 1} to anchor")
        document.update(
            key_sequence=key.sequence,
            key_created=timestamp(key.created_at),
            key_endorsement=base64.b64encode(bytes(key.endorsement)).decode(),
            previous_key_id=previous.key_id,
            previous_public_key=base64.b64encode(bytes(previous.public_key)).decode(),
        )
    return document


def anchor_checkpoints(*, tenant: Tenant) -> int:
    """Copy every checkpoint not yet anchored to every configured anchor (after the checkpoint's
    transaction committed: an anchor never holds a checkpoint the database could roll back).
    Safe to repeat: anchors store a document once and accept the same one again."""
    anchors = configured_anchors()
    timestamper = configured_timestamper()
    with tenant_scope(tenant):
        head = LogHead.objects.filter(tenant=tenant).first()
        if head is None:
            return 0
        todo = (
            LogCheckpoint.objects.filter(tenant=tenant, id__gt=head.anchored_checkpoint_id or 0)
            .select_related("key")
            .order_by("id")
        )
        done = 0
        keys = {key.sequence: key for key in LogSigningKey.objects.all()}
        for checkpoint in todo.iterator(chunk_size=500):
            document = checkpoint_document(
                checkpoint, checkpoint.key, keys.get(checkpoint.key.sequence - 1)
            )
            if timestamper is not None:
                token = timestamper.timestamp(document["signed_note"].encode("ascii"))
                document["rfc3161_token"] = base64.b64encode(token).decode()
            for anchor in anchors:
                anchor.put(document)
            LogHead.objects.filter(pk=head.pk).update(anchored_checkpoint_id=checkpoint.pk)
            done += 1
    return done


def checkpoint_and_anchor(*, tenant: Tenant, force: bool = False) -> LogCheckpoint | None:
    checkpoint = checkpoint_log(tenant=tenant, force=force)
    anchor_checkpoints(tenant=tenant)
    return checkpoint


@dataclass(frozen=True)
class CheckpointOnDemand:
    """What :func:`cut_checkpoint` did: ``checkpoint`` is the one it signed (``created``) or,
    when nothing was new, the latest one, which already covers every logged record."""

    checkpoint: LogCheckpoint
    created: bool
    anchored: bool
    timestamped: bool
    anchor_error: str  # why the checkpoint is not anchored yet ("" when it is)


def cut_checkpoint(*, tenant: Tenant, actor: Actor, force: bool = False) -> CheckpointOnDemand:
    """A person asks for a checkpoint now instead of at the beat's next minute (a fresh tenant
    that wants to verify, an auditor before an export). Signs one when records are queued (or
    with ``force``); otherwise answers the latest, which covers everything logged. Concurrent
    calls serialise on the head lock of :func:`checkpoint_log`: the second finds the first's
    leaves sequenced and cannot fork the log. Then anchors, as the beat does; an anchor that
    cannot be written leaves the checkpoint signed, un-anchored until the next beat, and says
    why. Audited, after the cut: the audit entry is itself a leaf, queued for the next
    checkpoint (auditing first would make every request "new" and ``force`` meaningless).

    Raises :class:`LogIntegrityError` when the log no longer matches what it signed."""
    signed = checkpoint_log(tenant=tenant, force=force)
    with tenant_scope(tenant):
        checkpoint = signed or _latest_checkpoint(tenant)
    anchor_error = ""
    try:
        anchor_checkpoints(tenant=tenant)
    except Exception as error:
        # (OSError, botocore, TimestampError); the checkpoint is signed and committed, the beat
        # anchors it later, and the person must hear why it is not anchored yet.
        logger.warning("anchoring %s's log failed", tenant.slug, exc_info=True)
        anchor_error = str(error) or type(error).__name__
    with tenant_scope(tenant):
        head = LogHead.objects.get(tenant=tenant)
    anchored = (head.anchored_checkpoint_id or 0) >= checkpoint.pk
    outcome = CheckpointOnDemand(
        checkpoint=checkpoint,
        created=signed is not None,
        anchored=anchored,
        timestamped=anchored and configured_timestamper() is not None,
        anchor_error="" if anchored else anchor_error,
    )
    record_event(
        "ledger.checkpoint_requested",
        tenant=tenant,
        actor=actor,
        target=checkpoint,
        details={"checkpoint_id": checkpoint.pk, "size": checkpoint.size,
                 "root": bytes(checkpoint.root_hash).hex(), "created": outcome.created,
                 "forced": force, "anchored": anchored, "timestamped": outcome.timestamped,
                 "anchor_error": outcome.anchor_error[:500]},
    )  # fmt: skip
    return outcome


# --- Retention's tombstones -----------------------------------------------------------------


def record_tombstone(
    *, tenant: Tenant, record_table: str, record_id: int, reason: str, actor: Actor
) -> Tombstone:
    """Mark the record at its leaf as disposed of: from now on verification checks the leaf
    hash the log already holds instead of recomputing it, so the record's content may be
    replaced or removed (by retention disposition, which is not built yet). The tombstone is a
    record of the log itself, and audited. Idempotent per leaf."""
    with tenant_scope(tenant):
        leaf = LogLeaf.objects.filter(record_table=record_table, record_id=record_id).first()
        if leaf is None:
            raise NotInLog(
                f"{record_table} {record_id} has no leaf yet; it gets one at the next checkpoint"
            )
        existing = Tombstone.objects.filter(leaf_index=leaf.leaf_index).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                tombstone = Tombstone.objects.create(
                    tenant=tenant,
                    leaf_index=leaf.leaf_index,
                    record_table=record_table,
                    record_id=record_id,
                    leaf_hash=bytes(leaf.leaf_hash),
                    reason=reason,
                )
        except IntegrityError:  # a concurrent disposition of the same record
            return Tombstone.objects.get(leaf_index=leaf.leaf_index)
        log_records(tenant=tenant, records=Tombstone.objects.filter(pk=tombstone.pk))
        record_event(
            "archive.record_tombstoned",
            tenant=tenant,
            actor=actor,
            target=tombstone,
            details={
                "leaf_index": leaf.leaf_index,
                "record_table": record_table,
                "record_id": record_id,
                "leaf_hash": bytes(leaf.leaf_hash).hex(),
                "reason": reason,
            },
        )
    return tombstone


# --- Proofs, for exports --------------------------------------------------------------------


@dataclass(frozen=True)
class InclusionProof:
    """Leaf ``leaf_index`` (hash ``leaf_hash``) is in the tree of ``tree_size`` leaves with root
    ``root_hash``, signed by checkpoint ``checkpoint_id``; ``path`` per RFC 9162 §2.1.3."""

    record_table: str
    record_id: int
    leaf_index: int
    leaf_hash: bytes
    tree_size: int
    root_hash: bytes
    path: list[bytes]
    checkpoint_id: int

    def verify(self) -> bool:
        return merkle.verify_inclusion(
            self.leaf_hash, self.leaf_index, self.tree_size, self.path, self.root_hash
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "record_table": self.record_table,
            "record_id": self.record_id,
            "leaf_index": self.leaf_index,
            "leaf_hash": self.leaf_hash.hex(),
            "tree_size": self.tree_size,
            "root": self.root_hash.hex(),
            "path": [node.hex() for node in self.path],
        }


@dataclass(frozen=True)
class ConsistencyProof:
    """The tree of ``first_size`` leaves is a prefix of the tree of ``second_size`` leaves;
    ``path`` per RFC 9162 §2.1.4."""

    first_size: int
    first_root: bytes
    second_size: int
    second_root: bytes
    path: list[bytes]

    def verify(self) -> bool:
        return merkle.verify_consistency(
            self.first_size, self.second_size, self.first_root, self.second_root, self.path
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "first_size": self.first_size,
            "first_root": self.first_root.hex(),
            "second_size": self.second_size,
            "second_root": self.second_root.hex(),
            "path": [node.hex() for node in self.path],
        }


def _stored_subtree(tenant: Tenant) -> merkle.Subtree:
    """MTH(D[start:end]) of the tenant's log from its stored nodes and leaves (in its scope)."""

    def perfect_root(level: int, index: int) -> bytes:
        stored = (level // TILE_HEIGHT) * TILE_HEIGHT
        first, count = index << (level - stored), 1 << (level - stored)
        if stored:
            hashes = LogNode.objects.filter(
                tenant=tenant, level=stored, node_index__gte=first, node_index__lt=first + count
            ).order_by("node_index")
            found = [bytes(h) for h in hashes.values_list("hash", flat=True)]
        else:
            leaves = LogLeaf.objects.filter(
                tenant=tenant, leaf_index__gte=first, leaf_index__lt=first + count
            ).order_by("leaf_index")
            found = [bytes(h) for h in leaves.values_list("leaf_hash", flat=True)]
        if len(found) != count:
            raise LogIntegrityError(f"the log lacks stored hashes under node {level}/{index}")
        return merkle.root(found)

    return lambda start, end: merkle.range_root(start, end, perfect_root)


def _latest_checkpoint(tenant: Tenant) -> LogCheckpoint:
    checkpoint = LogCheckpoint.objects.filter(tenant=tenant).order_by("-signed_at", "-id").first()
    if checkpoint is None:
        raise NotInLog(f"the log of {tenant.slug} has no checkpoint yet")
    return checkpoint


def _trusted(checkpoint: LogCheckpoint) -> LogCheckpoint:
    note = checkpoint_note(
        tenant_id=checkpoint.tenant_id, tenant_slug=checkpoint.tenant_slug, size=checkpoint.size,
        root=bytes(checkpoint.root_hash), signed_at=checkpoint.signed_at,
    )  # fmt: skip
    if not signature_is_valid(bytes(checkpoint.key.public_key), note, bytes(checkpoint.signature)):
        raise LogIntegrityError(f"checkpoint {checkpoint.pk} does not carry a valid signature")
    return checkpoint


def inclusion_proof(
    *, tenant: Tenant, record_table: str, record_id: int, checkpoint: LogCheckpoint | None = None
) -> InclusionProof:
    """The proof that a record is in the tenant's log as signed by ``checkpoint`` (default: the
    latest). Checked before it is returned."""
    with tenant_scope(tenant):
        checkpoint = _trusted(checkpoint or _latest_checkpoint(tenant))
        leaf = LogLeaf.objects.filter(record_table=record_table, record_id=record_id).first()
        if leaf is None or leaf.leaf_index >= checkpoint.size:
            raise NotInLog(f"{record_table} {record_id} is not in checkpoint {checkpoint.pk}")
        proof = InclusionProof(
            record_table=record_table,
            record_id=record_id,
            leaf_index=leaf.leaf_index,
            leaf_hash=bytes(leaf.leaf_hash),
            tree_size=checkpoint.size,
            root_hash=bytes(checkpoint.root_hash),
            path=merkle.inclusion_path(leaf.leaf_index, checkpoint.size, _stored_subtree(tenant)),
            checkpoint_id=checkpoint.pk,
        )
    if not proof.verify():
        raise LogIntegrityError(
            f"the stored tree of {tenant.slug} does not prove leaf {leaf.leaf_index}"
        )
    return proof


def consistency_proof(
    *, tenant: Tenant, first: LogCheckpoint, second: LogCheckpoint | None = None
) -> ConsistencyProof:
    """The proof that checkpoint ``first``'s tree is a prefix of ``second``'s (default: the
    latest). Checked before it is returned."""
    with tenant_scope(tenant):
        second = _trusted(second or _latest_checkpoint(tenant))
        first = _trusted(first)
        if first.size > second.size:
            first, second = second, first
        proof = ConsistencyProof(
            first_size=first.size,
            first_root=bytes(first.root_hash),
            second_size=second.size,
            second_root=bytes(second.root_hash),
            path=merkle.consistency_path(first.size, second.size, _stored_subtree(tenant)),
        )
    if not proof.verify():
        raise LogIntegrityError(f"checkpoints {first.pk} and {second.pk} are not consistent")
    return proof


def public_key(*, tenant: Tenant) -> LogSigningKey | None:
    """The tenant's current checkpoint key."""
    with tenant_scope(tenant):
        return LogSigningKey.objects.filter(tenant=tenant).order_by("-sequence").first()


def signing_keys(*, tenant: Tenant) -> list[LogSigningKey]:
    """Every checkpoint key of the tenant, oldest first (the chain of rotations)."""
    with tenant_scope(tenant):
        return list(LogSigningKey.objects.filter(tenant=tenant).order_by("sequence"))


def rotate_signing_key(*, tenant: Tenant, actor: Actor, reason: str = "") -> LogSigningKey:
    """Retire the tenant's checkpoint key for a new one that the old one endorses, then sign and
    anchor a checkpoint with the new key at once, so the anchors learn of the rotation. Under
    the log head lock: no checkpoint is signed with the old key after the new one exists.
    Audited."""
    with tenant_scope(tenant):
        _locked_head(tenant)
        previous = signing_key(tenant)
        key = add_rotated_key(tenant, previous, timezone.now())
        record_event(
            "ledger.key_rotated",
            tenant=tenant,
            actor=actor,
            target_label=f"checkpoint key #{key.sequence}",
            details={"previous_key_id": previous.key_id, "key_id": key.key_id,
                     "sequence": key.sequence, "reason": reason[:500]},
        )  # fmt: skip
    checkpoint_and_anchor(tenant=tenant, force=True)
    return key


def leaf_of(*, tenant: Tenant, record: models.Model) -> LogLeaf | None:
    with tenant_scope(tenant):
        return LogLeaf.objects.filter(
            record_table=record._meta.label_lower, record_id=record.pk
        ).first()
