"""Recompute a tenant's Merkle log from its records and hold it against what was signed and
anchored: the work of ``manage.py verify_archive``.

Nothing in the database is trusted on its own word. Each leaf's hash is recomputed from its
record (or, for a tombstone, taken from the log and checked against the tombstone); the tree is
rebuilt from those hashes and its root compared with every signed checkpoint on the way; the
signatures are checked with the tenant's public key, and the newest checkpoints against their
copies outside the database (anchor_checks.py). So an edited, deleted or inserted row is found
even if whoever changed it turned the triggers off, and so is a rewritten log table or
checkpoint.

The walk, in the order the report lists what it finds:

1. the key chain (key_chain.py) and the anchored copies (anchor_checks.py);
2. the leaves in index order, rebuilding the tree; whenever the tree reaches the size of the next
   signed checkpoint, that checkpoint is checked (signature, key, date, root);
3. the head row, the leaves still queued for the next checkpoint, and records with no leaf;
4. with ``files``, the stored attachment files.

Streams everything in chunks (server-side cursors): memory stays flat however large the log.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet

from archive.models import AttachmentFile
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from . import merkle
from .anchor_checks import AnchorChecks, read_newest_copies
from .anchors import AnchoredCopy, configured_anchors
from .canonical import FORMS, timestamp
from .key_chain import KeyChain
from .models import LogCheckpoint, LogHead, LogLeaf, LogNode, PendingLeaf, Tombstone
from .report import Problem, ProblemKind, Verification, short
from .services import CHUNK, RECORD_TABLES, TILE_HEIGHT, record_leaf_hash, record_model, record_rows

__all__ = ["Problem", "ProblemKind", "Verification", "verify_log"]  # the report's types too

Row = TypeVar("Row")
RecordKey = tuple[str, int]  # (table, record id)


def verify_log(
    *, tenant: Tenant, chunk_size: int = CHUNK, all_anchors: bool = False, files: bool = False
) -> Verification:
    """Verify the tenant's log; see the module's docstring. ``all_anchors`` compares every
    checkpoint with its anchored copies (by default: the newest in the database and the newest
    in each anchor). ``files`` also re-reads every stored attachment's bytes against the
    SHA-256 and size its proof (a leaf) recorded."""
    report = Verification(tenant=tenant.slug)
    anchors = configured_anchors()
    # Read before the database snapshot starts: a checkpoint is anchored only after it committed,
    # so every anchored one must be visible in the snapshot.
    reported: set[str] = set()
    anchored = read_newest_copies(anchors, tenant_id=tenant.pk, report=report, reported=reported)
    with _snapshot(), tenant_scope(tenant):
        keys = KeyChain.load(tenant_id=tenant.pk)
        keys.check_endorsements(report)
        anchor_checks = AnchorChecks(
            tenant_id=tenant.pk, anchors=anchors, keys=keys, report=report, reported=reported
        )
        walk = _Walk(
            tenant_id=tenant.pk, report=report, keys=keys, anchor_checks=anchor_checks,
            chunk_size=chunk_size, all_anchors=all_anchors,
        )  # fmt: skip
        walk.run(anchored)
        if files:
            _check_stored_files(tenant, report)
    return report


@contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view of records, leaves and checkpoints, however long the walk takes
    (new records keep arriving meanwhile). Inside a caller's transaction, that one's view."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while chunk := list(islice(rows, size)):
        yield chunk


class _CheckpointCursor:
    """The signed checkpoints in order of size, handed out as the rebuilt tree reaches them."""

    def __init__(self, chunk_size: int) -> None:
        self._rows: Iterator[LogCheckpoint] = LogCheckpoint.objects.order_by(
            "size", "signed_at", "id"
        ).iterator(chunk_size=chunk_size)
        self._next = next(self._rows, None)

    def up_to(self, size: int) -> Iterator[LogCheckpoint]:
        """The checkpoints not yet handed out whose size is at most ``size``."""
        while self._next is not None and self._next.size <= size:
            yield self._next
            self._next = next(self._rows, None)

    def rest(self) -> Iterator[LogCheckpoint]:
        """The checkpoints larger than the tree ever got: leaves were removed from its end."""
        while self._next is not None:
            yield self._next
            self._next = next(self._rows, None)


class _StoredNodes:
    """The tree nodes the log stores (for proofs), read level by level in step with the tree
    rebuilt from the records. One difference is reported; the rest follow from it."""

    def __init__(self, report: Verification, chunk_size: int) -> None:
        self.report = report
        self.chunk_size = chunk_size
        # psycopg2 reads bytea as memoryview: check() compares bytes(hash).
        self._levels: dict[int, Iterator[tuple[int, bytes | memoryview]]] = {}
        self._differed = False

    def check(self, level: int, index: int, node: bytes) -> None:
        if self._differed:
            return
        if level not in self._levels:
            self._levels[level] = (
                LogNode.objects.filter(level=level)
                .order_by("node_index")
                .values_list("node_index", "hash")
                .iterator(chunk_size=self.chunk_size)
            )
        stored = next(self._levels[level], None)
        if stored is None or stored[0] != index or bytes(stored[1]) != node:
            self._differed = True
            self.report.add(
                Problem(
                    ProblemKind.NODE,
                    f"stored tree node {level}/{index} differs from the one the records give "
                    "(inclusion and consistency proofs served from it would not verify)",
                )
            )


class _Walk:
    """One pass over the log. What it carries from leaf to leaf: the rebuilt tree
    (``frontier``), the stored nodes read in step with it, and what the checkpoint checks
    remember."""

    def __init__(
        self,
        *,
        tenant_id: int,
        report: Verification,
        keys: KeyChain,
        anchor_checks: AnchorChecks,
        chunk_size: int,
        all_anchors: bool,
    ) -> None:
        self.tenant_id = tenant_id
        self.report = report
        self.keys = keys
        self.anchor_checks = anchor_checks
        self.chunk_size = chunk_size
        self.all_anchors = all_anchors
        self.frontier = merkle.Frontier(tile_height=TILE_HEIGHT)
        self.nodes = _StoredNodes(report, chunk_size)
        # What the checkpoint checks remember: the largest size whose signed root the records
        # reproduce, whether a root that does not hold was reported (once is enough), and the
        # time of the previous checkpoint (times must not go backwards as sizes grow).
        self.verified_size = 0
        self.root_reported = False
        self.last_signed_at: datetime | None = None

    def run(self, anchored: dict[str, AnchoredCopy | None]) -> None:
        report = self.report
        latest = LogCheckpoint.objects.order_by("-signed_at", "-id").first()
        if latest is not None:
            report.latest = {
                "size": latest.size,
                "root": bytes(latest.root_hash).hex(),
                "time": timestamp(latest.signed_at),
            }
        head = LogHead.objects.first()
        self.anchor_checks.check_newest_copies(anchored)
        if latest is not None:
            self.anchor_checks.check_latest_is_anchored(latest)
        head_frontier = self._walk_leaves(head.size if head is not None else None)
        self._check_head(head, head_frontier)
        self._check_queued()
        self._find_unlogged()
        if latest is None and (report.leaves or report.queued):
            report.add(
                Problem(
                    ProblemKind.CHECKPOINT, "the log has never been signed: nothing to hold it to"
                )
            )
        elif latest is not None and report.leaves > latest.size:
            report.notes.append(
                f"{report.leaves - latest.size} leaves are newer than the latest checkpoint "
                "(checked against their records; signed at the next checkpoint)"
            )

    # --- leaves ---------------------------------------------------------------------------

    def _walk_leaves(self, head_size: int | None) -> bytes | None:
        """Rebuild the tree leaf by leaf, checking each leaf against its record and each
        checkpoint as the tree reaches its size. Returns the tree's right edge at the head's
        size (None if the log never reached it)."""
        report = self.report
        checkpoints = _CheckpointCursor(self.chunk_size)
        self._check_checkpoints(checkpoints.up_to(0))
        head_frontier = b"" if head_size == 0 else None
        expected_index = 0
        leaves = (
            LogLeaf.objects.order_by("leaf_index")
            .values_list("leaf_index", "record_table", "record_id", "leaf_hash", "form")
            .iterator(chunk_size=self.chunk_size)
        )
        for chunk in _chunks(leaves, self.chunk_size):
            fresh = self._recompute([(table, rid, form) for _, table, rid, _, form in chunk])
            tombstones = {
                t.leaf_index: t
                for t in Tombstone.objects.filter(
                    leaf_index__gte=chunk[0][0], leaf_index__lte=chunk[-1][0]
                )
            }
            for index, table, record_id, stored, form in chunk:
                if index != expected_index:
                    report.add(
                        Problem(
                            ProblemKind.MISSING_LEAF,
                            f"leaves {expected_index}..{index - 1} are missing from the log "
                            "(leaf rows deleted)",
                            leaf_index=expected_index,
                        )
                    )
                expected_index = index + 1
                leaf = self._leaf_hash(
                    index, table, record_id, bytes(stored), form, fresh, tombstones.get(index)
                )
                for level, node_index, node in self.frontier.append(leaf):
                    self.nodes.check(level, node_index, node)
                if self.frontier.size == head_size:
                    head_frontier = self.frontier.to_bytes()
                self._check_checkpoints(checkpoints.up_to(self.frontier.size))
        report.leaves = self.frontier.size
        for checkpoint in checkpoints.rest():
            report.checkpoints += 1
            report.add(
                Problem(
                    ProblemKind.TRUNCATED,
                    f"the checkpoint signed {timestamp(checkpoint.signed_at)} says the log had "
                    f"{checkpoint.size} leaves; it has {self.frontier.size}: leaves were removed "
                    "from its end",
                    leaf_index=self.frontier.size,
                )
            )
        return head_frontier

    def _recompute(self, keys: list[tuple[str, int, int]]) -> dict[RecordKey, bytes | None]:
        """Leaf hashes from the records: {(table, id): hash, or None for a record that is gone}.
        ``keys``: (table, record id, canonical form); unknown tables and forms are left out."""
        groups: dict[tuple[str, int], list[int]] = defaultdict(list)
        for table, record_id, form in keys:
            groups[(table, form)].append(record_id)
        found: dict[RecordKey, bytes | None] = {}
        for (table, form), ids in groups.items():
            for record_id in ids:
                found[(table, record_id)] = None
            if table not in RECORD_TABLES or form not in FORMS:
                continue
            model = record_model(table)
            rows = record_rows(table, model._default_manager.filter(pk__in=ids), form)
            for row in rows:
                found[(table, row["pk"])] = record_leaf_hash(
                    tenant_id=self.tenant_id, table=table, row=row, form=form
                )
        return found

    def _leaf_hash(
        self,
        index: int,
        table: str,
        record_id: int,
        stored: bytes,
        form: int,
        fresh: dict[RecordKey, bytes | None],
        tombstone: Tombstone | None,
    ) -> bytes:
        """The hash this leaf must have, from its record; reports what disagrees."""
        report = self.report
        if tombstone is not None:
            same_record = (tombstone.record_table, tombstone.record_id) == (table, record_id)
            if not same_record or bytes(tombstone.leaf_hash) != stored:
                report.add(
                    Problem(
                        ProblemKind.TOMBSTONE,
                        f"its tombstone holds {short(bytes(tombstone.leaf_hash))} for "
                        f"{tombstone.record_table} {tombstone.record_id}, the log holds "
                        f"{short(stored)}: a tombstone must keep the leaf hash",
                        index, table, record_id,
                    )
                )  # fmt: skip
            return stored  # disposed of: the content may be gone, the hash stays
        if table not in RECORD_TABLES or form not in FORMS:
            report.add(
                Problem(ProblemKind.EDITED, f"the log names an unknown table or form {form}",
                        index, table, record_id)
            )  # fmt: skip
            return stored
        now = fresh.get((table, record_id))
        if now is None:
            report.add(
                Problem(
                    ProblemKind.DELETED,
                    "the record is gone and no tombstone explains it",
                    index, table, record_id,
                )
            )  # fmt: skip
            return stored
        if now != stored:
            report.add(
                Problem(
                    ProblemKind.EDITED,
                    f"the record now hashes to {short(now)}, the log holds {short(stored)} "
                    "(its hash when archived)",
                    index, table, record_id,
                )
            )  # fmt: skip
        return now

    # --- checkpoints ------------------------------------------------------------------------

    def _check_checkpoints(self, checkpoints: Iterator[LogCheckpoint]) -> None:
        """Checkpoints of the tree's current size (and, at a gap in the log, smaller ones):
        signed by the tenant's key of their time, dated in order, their root the one the
        records give."""
        report = self.report
        size = self.frontier.size
        for checkpoint in checkpoints:
            report.checkpoints += 1
            signed = timestamp(checkpoint.signed_at)
            if not self.keys.signature_ok(checkpoint):
                report.add(
                    Problem(
                        ProblemKind.SIGNATURE,
                        f"checkpoint of size {checkpoint.size} signed {signed} does not carry a "
                        "valid signature of the tenant's key",
                    )
                )
            elif not self.keys.was_current(checkpoint):
                key = self.keys.key_of(checkpoint)
                assert key is not None  # a checkpoint without a key fails its signature
                report.add(
                    Problem(
                        ProblemKind.KEY,
                        f"checkpoint of size {checkpoint.size} signed {signed} with key "
                        f"#{key.sequence}, which was not the tenant's key at that time",
                    )
                )
            if self.last_signed_at is not None and checkpoint.signed_at < self.last_signed_at:
                report.add(
                    Problem(ProblemKind.CHECKPOINT, f"checkpoint of size {checkpoint.size} is "
                            f"dated {signed}, before a smaller one")
                )  # fmt: skip
            self.last_signed_at = checkpoint.signed_at
            self._check_root(checkpoint, signed, size)
            if self.all_anchors and self.keys:
                self.anchor_checks.check_checkpoint(checkpoint)

    def _check_root(self, checkpoint: LogCheckpoint, signed: str, size: int) -> None:
        root = self.frontier.root()
        if checkpoint.size == size and bytes(checkpoint.root_hash) == root:
            self.verified_size = size
            return
        if self.root_reported:
            return
        self.root_reported = True
        first = self.verified_size
        self.report.add(
            Problem(
                ProblemKind.ROOT,
                f"rebuilt from the records, the tree of {size} leaves has root {short(root)}; "
                f"the checkpoint signed {signed} says {short(bytes(checkpoint.root_hash))} (the "
                f"last root that holds is at size {first}; if no record in this range is named "
                "above, the log table itself was rewritten)",
                leaf_index=first if first < size else None,
                last_index=size - 1 if first < size else None,
            )
        )

    # --- the rest ---------------------------------------------------------------------------

    def _check_head(self, head: LogHead | None, head_frontier: bytes | None) -> None:
        report = self.report
        if head is None:
            if report.leaves:
                report.add(Problem(ProblemKind.HEAD, "the log has leaves but no head row"))
            return
        if head.size != report.leaves:
            report.add(
                Problem(
                    ProblemKind.HEAD,
                    f"the head says {head.size} leaves, the log has {report.leaves}",
                )
            )
        # Only meaningful when the records reproduce the log (else it differs as a consequence).
        if (
            head_frontier is not None
            and not report.has_record_problems
            and bytes(head.frontier) != head_frontier
        ):
            report.add(
                Problem(
                    ProblemKind.HEAD,
                    f"the head's right edge at size {head.size} is not the one the records give: "
                    "the next checkpoint would sign a wrong root (the checkpoint task refuses)",
                )
            )

    def _check_queued(self) -> None:
        rows = (
            PendingLeaf.objects.order_by("id")
            .values_list("record_table", "record_id", "leaf_hash", "form")
            .iterator(chunk_size=self.chunk_size)
        )
        for chunk in _chunks(rows, self.chunk_size):
            self.report.queued += len(chunk)
            fresh = self._recompute([(table, rid, form) for table, rid, _, form in chunk])
            for table, record_id, stored, _form in chunk:
                now = fresh.get((table, record_id))
                if now is None:
                    self.report.add(
                        Problem(ProblemKind.DELETED, "the record is gone (queued for the log, "
                                "not yet in a checkpoint)", table=table, record_id=record_id)
                    )  # fmt: skip
                elif now != bytes(stored):
                    self.report.add(
                        Problem(ProblemKind.EDITED, "the record changed after it was archived "
                                "(queued for the log, not yet in a checkpoint)", table=table,
                                record_id=record_id)
                    )  # fmt: skip

    def _find_unlogged(self) -> None:
        """Records with neither a leaf nor a queued leaf: a merge of three id streams in
        order (each an index scan), not an anti-join whose plan depends on fresh statistics."""
        for table in RECORD_TABLES:
            model = record_model(table)
            records = self._ids(model._default_manager.order_by("pk").values_list("pk", flat=True))
            logged = self._ids(
                LogLeaf.objects.filter(record_table=table)
                .order_by("record_id")
                .values_list("record_id", flat=True)
            )
            queued = self._ids(
                PendingLeaf.objects.filter(record_table=table)
                .order_by("record_id")
                .values_list("record_id", flat=True)
            )
            next_logged, next_queued = next(logged, None), next(queued, None)
            for pk in records:
                while next_logged is not None and next_logged < pk:
                    next_logged = next(logged, None)
                while next_queued is not None and next_queued < pk:
                    next_queued = next(queued, None)
                if pk != next_logged and pk != next_queued:
                    self.report.add(
                        Problem(
                            ProblemKind.INSERTED,
                            "the record is not in the log: it was added without going through "
                            "the archive (or its leaf was removed)",
                            table=table,
                            record_id=pk,
                        )
                    )

    def _ids(self, queryset: QuerySet[Any, int]) -> Iterator[int]:
        return queryset.iterator(chunk_size=max(self.chunk_size, 1000))


def _check_stored_files(tenant: Tenant, report: Verification) -> None:
    """Each stored file must still hold the bytes its proof names. The proofs themselves were
    checked against their leaves by the walk, so a file and its proof cannot both be changed
    unnoticed."""
    checked = 0
    # A disposed file's bytes are gone on purpose: its proof has a tombstone (checked by the walk).
    disposed = Tombstone.objects.filter(
        tenant=tenant, record_table="archive.attachmentfile", record_id=OuterRef("pk")
    )
    proofs = AttachmentFile.objects.filter(tenant=tenant).exclude(Exists(disposed)).order_by("pk")
    for proof in proofs.iterator(chunk_size=CHUNK):
        checked += 1
        where: dict[str, Any] = {"table": "archive.attachmentfile", "record_id": proof.pk}
        try:
            with default_storage.open(proof.storage_name, "rb") as stored:
                digest, size = hashlib.sha256(), 0
                for block in iter(lambda: stored.read(1 << 20), b""):
                    digest.update(block)
                    size += len(block)
        except (OSError, ValueError) as error:
            report.add(
                Problem(
                    ProblemKind.MEDIA, f"stored file {proof.storage_name} is gone: {error}", **where
                )
            )
            continue
        if digest.hexdigest() != proof.sha256 or size != proof.size:
            report.add(
                Problem(
                    ProblemKind.MEDIA,
                    f"stored file {proof.storage_name} holds other bytes than were archived "
                    f"(sha256 {digest.hexdigest()[:16]}…, {size} bytes; archived "
                    f"{proof.sha256[:16]}…, {proof.size} bytes)",
                    **where,
                )
            )
    report.notes.append(f"{checked} stored attachment file(s) re-read against their proofs")
