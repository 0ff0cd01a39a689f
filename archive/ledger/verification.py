"""Recompute a tenant's Merkle log from its records and hold it against what was signed and
anchored: the work of ``manage.py verify_archive``.

Nothing in the database is trusted on its own word. Each leaf's hash is recomputed from its
record (or, for a tombstone, taken from the log and checked against the tombstone); the tree is
rebuilt from those hashes and its root compared with every signed checkpoint on the way; the
signatures are checked with the tenant's public key, and the newest checkpoints against their
copies outside the database. So an edited, deleted or inserted row is found even if whoever
changed it turned the triggers off, and so is a rewritten log table or checkpoint.

Streams everything in chunks (server-side cursors): memory stays flat however large the log.
"""

from __future__ import annotations

import base64
import hashlib
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from archive.models import AttachmentFile
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from . import merkle
from .anchors import configured_anchors
from .canonical import FORMS, timestamp
from .models import LogCheckpoint, LogHead, LogLeaf, LogNode, LogSigningKey, PendingLeaf, Tombstone
from .services import (
    CHUNK,
    RECORD_TABLES,
    TILE_HEIGHT,
    checkpoint_document,
    record_leaf_hash,
    record_model,
    record_rows,
)
from .signing import checkpoint_note, endorsement_is_valid, signature_is_valid
from .timestamping import TimestampError, check_token

PROBLEM_LIMIT = 100
# Problems that name one record or leaf (the others name a range, a checkpoint or a table).
PRECISE = {"edited", "deleted", "inserted", "missing-leaf", "tombstone"}
GONE = object()  # the record of a leaf is not in its table


@dataclass
class Problem:
    """One thing that does not verify. ``kind``: edited, deleted, inserted, missing-leaf,
    tombstone, root, truncated, signature, anchor, key, head, node, checkpoint, timestamp,
    media."""

    kind: str
    why: str
    leaf_index: int | None = None
    table: str = ""
    record_id: int | None = None
    last_index: int | None = None  # for a problem that spans leaves leaf_index..last_index

    def where(self) -> str:
        parts = []
        if self.leaf_index is not None and self.last_index is not None:
            parts.append(f"leaves {self.leaf_index}..{self.last_index}")
        elif self.leaf_index is not None:
            parts.append(f"leaf {self.leaf_index}")
        if self.table:
            record = f"{self.table} {self.record_id}" if self.record_id is not None else self.table
            parts.append(record if not parts else f"({record})")
        return " ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.kind}: {self.why}" if where else f"{self.kind}: {self.why}"


@dataclass
class Verification:
    tenant: str
    leaves: int = 0
    queued: int = 0
    checkpoints: int = 0
    latest: dict[str, Any] | None = None
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad(self) -> Problem | None:
        """The most precise problem: a record or leaf that is wrong (lowest index first, then an
        inserted record); else a range of the log (a root that does not hold, a truncation);
        else the first found. A root that disagrees because of an edited record is the edit's
        consequence, not the first bad leaf."""
        if not self.problems:
            return None

        def rank(problem: Problem) -> tuple[int, int]:
            precise = problem.kind in PRECISE
            indexed = problem.leaf_index is not None
            order = 0 if precise and indexed else 1 if precise else 2 if indexed else 3
            return (order, problem.leaf_index if indexed else 0)

        return min(self.problems, key=rank)

    @property
    def has_record_problems(self) -> bool:
        return any(p.kind in PRECISE for p in self.problems)

    def add(self, problem: Problem) -> None:
        if len(self.problems) < PROBLEM_LIMIT:
            self.problems.append(problem)
        else:
            self.more_problems += 1


def _short(value: bytes) -> str:
    return value.hex()[:16] + "…"


def _parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _chunks(rows: Iterator, size: int) -> Iterator[list]:
    while chunk := list(islice(rows, size)):
        yield chunk


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
    anchored = {anchor.name: anchor.latest(tenant_id=tenant.pk) for anchor in anchors}
    with _snapshot(), tenant_scope(tenant):
        _Walk(tenant, report, anchors, anchored, chunk_size, all_anchors).run()
        if files:
            _check_stored_files(tenant, report)
    return report


def _document_endorsement_ok(tenant_id: int, document: dict, public_key: bytes) -> bool:
    try:
        return endorsement_is_valid(
            tenant_id=tenant_id,
            sequence=int(document["key_sequence"]),
            public_key=public_key,
            created_at=_parse_time(document["key_created"]),
            endorsement=base64.b64decode(document["key_endorsement"]),
            previous_key_id=document["previous_key_id"],
            previous_public_key=base64.b64decode(document["previous_public_key"]),
        )
    except (KeyError, ValueError, TypeError):
        return False


def _check_stored_files(tenant: Tenant, report: Verification) -> None:
    """Each stored file must still hold the bytes its proof names. The proofs themselves were
    checked against their leaves by the walk, so a file and its proof cannot both be changed
    unnoticed."""
    checked = 0
    proofs = AttachmentFile.objects.filter(tenant=tenant).order_by("pk")
    for proof in proofs.iterator(chunk_size=CHUNK):
        checked += 1
        where = {"table": "archive.attachmentfile", "record_id": proof.pk}
        try:
            with default_storage.open(proof.storage_name, "rb") as stored:
                digest, size = hashlib.sha256(), 0
                for block in iter(lambda: stored.read(1 << 20), b""):
                    digest.update(block)
                    size += len(block)
        except (OSError, ValueError) as error:
            report.add(
                Problem("media", f"stored file {proof.storage_name} is gone: {error}", **where)
            )
            continue
        if digest.hexdigest() != proof.sha256 or size != proof.size:
            report.add(
                Problem(
                    "media",
                    f"stored file {proof.storage_name} holds other bytes than were archived "
                    f"(sha256 {digest.hexdigest()[:16]}…, {size} bytes; archived "
                    f"{proof.sha256[:16]}…, {proof.size} bytes)",
                    **where,
                )
            )
    report.notes.append(f"{checked} stored attachment file(s) re-read against their proofs")


class _Walk:
    def __init__(self, tenant, report, anchors, anchored, chunk_size, all_anchors) -> None:
        self.tenant = tenant
        self.report = report
        self.anchors = anchors
        self.anchored = anchored
        self.chunk_size = chunk_size
        self.all_anchors = all_anchors
        self.keys: dict[int, LogSigningKey] = {}  # by primary key
        self.keys_by_id: dict[str, LogSigningKey] = {}  # by key id (hash of the public key)
        self.by_sequence: dict[int, LogSigningKey] = {}
        self.frontier = merkle.Frontier(tile_height=TILE_HEIGHT)
        self.verified_size = 0  # the largest size whose signed root the records reproduce
        self.root_reported = False
        self.node_reported = False
        self.node_rows: dict[int, Iterator] = {}
        self.head_frontier: bytes | None = None
        self.last_signed_at: datetime | None = None
        self.next_index = 0

    def run(self) -> None:
        report = self.report
        self._load_keys()
        latest = LogCheckpoint.objects.order_by("-signed_at", "-id").first()
        if latest is not None:
            report.latest = {
                "size": latest.size,
                "root": bytes(latest.root_hash).hex(),
                "time": timestamp(latest.signed_at),
            }
        self.head = LogHead.objects.first()
        self._check_anchors(latest)
        self._walk_leaves()
        self._check_head()
        self._check_queued()
        self._find_unlogged()
        if latest is None and (report.leaves or report.queued):
            report.add(
                Problem("checkpoint", "the log has never been signed: nothing to hold it to")
            )
        elif latest is not None and report.leaves > latest.size:
            report.notes.append(
                f"{report.leaves - latest.size} leaves are newer than the latest checkpoint "
                "(checked against their records; signed at the next checkpoint)"
            )

    # --- checkpoints and anchors ------------------------------------------------------------

    def _load_keys(self) -> None:
        """The tenant's keys must form a chain: 0, 1, 2 ... each endorsed by the one before."""
        for key in LogSigningKey.objects.order_by("sequence"):
            self.keys[key.pk] = key
            self.keys_by_id[key.key_id] = key
            self.by_sequence[key.sequence] = key
        for sequence, key in self.by_sequence.items():
            if sequence == 0:
                continue
            previous = self.by_sequence.get(sequence - 1)
            if previous is None or not endorsement_is_valid(
                tenant_id=self.tenant.pk, sequence=sequence, public_key=bytes(key.public_key),
                created_at=key.created_at, endorsement=bytes(key.endorsement),
                previous_key_id=previous.key_id, previous_public_key=bytes(previous.public_key),
            ):  # fmt: skip
                self.report.add(
                    Problem(
                        "key",
                        f"checkpoint key #{sequence} ({key.key_id[:16]}…) is not endorsed by key "
                        f"#{sequence - 1}: a key was inserted or replaced",
                    )
                )
        if self.by_sequence and 0 not in self.by_sequence:
            self.report.add(Problem("key", "the tenant's first checkpoint key (#0) is gone"))

    def _key_of(self, checkpoint: LogCheckpoint) -> LogSigningKey | None:
        return self.keys.get(checkpoint.key_id)

    def _signature_ok(self, checkpoint: LogCheckpoint) -> bool:
        key = self._key_of(checkpoint)
        if key is None:
            return False
        note = checkpoint_note(
            tenant_id=self.tenant.pk, tenant_slug=checkpoint.tenant_slug, size=checkpoint.size,
            root=bytes(checkpoint.root_hash), signed_at=checkpoint.signed_at,
        )  # fmt: skip
        return signature_is_valid(bytes(key.public_key), note, bytes(checkpoint.signature))

    def _key_was_current(self, checkpoint: LogCheckpoint) -> bool:
        """A key signs from its creation until the next key's: never before, never after."""
        key = self._key_of(checkpoint)
        if key is None:
            return True  # reported as a bad signature
        following = self.by_sequence.get(key.sequence + 1)
        # Key 0 is created by the first checkpoint, a moment after that one took its time.
        started = key.sequence == 0 or key.created_at <= checkpoint.signed_at
        return started and (following is None or checkpoint.signed_at < following.created_at)

    def _compare_with_anchor(self, checkpoint: LogCheckpoint, anchor, document) -> None:
        key = self._key_of(checkpoint)
        if key is None:
            return
        expected = checkpoint_document(checkpoint, key, self.by_sequence.get(key.sequence - 1))
        differing = sorted(k for k in expected if document.get(k) != expected[k])
        if differing:
            self.report.add(
                Problem(
                    "anchor",
                    f"checkpoint of size {checkpoint.size} signed {expected['time']} differs from "
                    f"its copy in the {anchor.name} anchor ({', '.join(differing)})",
                )
            )

    def _check_timestamp(self, anchor, document: dict, note: bytes) -> None:
        """The RFC 3161 token of an anchored checkpoint must cover its signed note and be
        validly signed (by the pinned TSA certificate, when one is configured)."""
        token = document.get("rfc3161_token")
        if token is None:
            if settings.LEDGER_TSA_URL:
                self.report.add(
                    Problem(
                        "timestamp",
                        f"the newest copy in the {anchor.name} anchor has no RFC 3161 "
                        "time-stamp, though a TSA is configured",
                    )
                )
            return
        try:
            info = check_token(
                base64.b64decode(token),
                data=note,
                pinned_certificate_sha256=settings.LEDGER_TSA_CERT_SHA256,
            )
        except (TimestampError, ValueError) as error:
            self.report.add(
                Problem(
                    "timestamp",
                    f"the RFC 3161 time-stamp of the newest copy in the {anchor.name} anchor "
                    f"is not valid: {error}",
                )
            )
            return
        self.report.notes.append(
            f"the newest checkpoint in the {anchor.name} anchor was time-stamped by the TSA at "
            f"{info.gen_time.isoformat()} (serial {info.serial_number})"
        )

    def _check_anchors(self, latest: LogCheckpoint | None) -> None:
        report = self.report
        grace = timedelta(seconds=settings.LEDGER_ANCHOR_GRACE)
        for anchor in self.anchors:
            document = self.anchored[anchor.name]
            if document is None:
                continue
            note = document.get("signed_note", "").encode("ascii", "replace")
            try:
                public_key = base64.b64decode(document["public_key"])
                signature = base64.b64decode(document["signature"])
            except (KeyError, ValueError):
                public_key = signature = b""
            if not signature_is_valid(public_key, note, signature):
                report.add(
                    Problem("anchor", f"the newest copy in the {anchor.name} anchor is not signed")
                )
            if "key_sequence" in document and not _document_endorsement_ok(
                self.tenant.pk, document, public_key
            ):
                report.add(
                    Problem(
                        "anchor",
                        f"the newest copy in the {anchor.name} anchor is signed with key "
                        f"#{document.get('key_sequence')}, but its endorsement by the previous "
                        "key does not verify",
                    )
                )
            known = self.keys_by_id.get(document.get("key_id", ""))
            if self.keys and (known is None or bytes(known.public_key) != public_key):
                held = ", ".join(f"#{k.sequence} {k.key_id[:16]}…" for k in self.keys.values())
                report.add(
                    Problem(
                        "key",
                        f"the {anchor.name} anchor's newest checkpoint is signed with key "
                        f"{document.get('key_id', '?')[:16]}…, which is not among the keys the "
                        f"database holds ({held}): the key was replaced",
                    )
                )
            self._check_timestamp(anchor, document, note)
            match = LogCheckpoint.objects.filter(
                size=document["size"], signed_at=_parse_time(document["time"])
            ).first()
            if match is None:
                report.add(
                    Problem(
                        "anchor",
                        f"checkpoint of size {document['size']} signed {document['time']} is in "
                        f"the {anchor.name} anchor but not in the database: checkpoints were "
                        "deleted or the log was rebuilt",
                    )
                )
            else:
                self._compare_with_anchor(match, anchor, document)
        if latest is None:
            return
        for anchor in self.anchors:
            document = anchor.get(
                tenant_id=self.tenant.pk, time=timestamp(latest.signed_at), size=latest.size
            )
            if document is not None:
                self._compare_with_anchor(latest, anchor, document)
            elif timezone.now() - latest.signed_at > grace:
                report.add(
                    Problem(
                        "anchor",
                        f"the latest checkpoint (size {latest.size}, signed "
                        f"{timestamp(latest.signed_at)}) is not in the {anchor.name} anchor",
                    )
                )
            else:
                report.notes.append(
                    f"the latest checkpoint is not in the {anchor.name} anchor yet (signed "
                    f"{timestamp(latest.signed_at)}, within LEDGER_ANCHOR_GRACE)"
                )

    def _checkpoints(self) -> Iterator[LogCheckpoint]:
        return LogCheckpoint.objects.order_by("size", "signed_at", "id").iterator(
            chunk_size=self.chunk_size
        )

    def _check_checkpoints(
        self, pending: LogCheckpoint | None, rest: Iterator
    ) -> LogCheckpoint | None:
        """Every checkpoint of the current size: signed by the tenant's key, its root the one the
        records give."""
        size = self.frontier.size
        while pending is not None and pending.size <= size:
            report = self.report
            report.checkpoints += 1
            signed = timestamp(pending.signed_at)
            if not self._signature_ok(pending):
                report.add(
                    Problem(
                        "signature",
                        f"checkpoint of size {pending.size} signed {signed} does not carry a "
                        "valid signature of the tenant's key",
                    )
                )
            elif not self._key_was_current(pending):
                key = self._key_of(pending)
                report.add(
                    Problem(
                        "key",
                        f"checkpoint of size {pending.size} signed {signed} with key "
                        f"#{key.sequence}, which was not the tenant's key at that time",
                    )
                )
            if self.last_signed_at is not None and pending.signed_at < self.last_signed_at:
                report.add(
                    Problem("checkpoint", f"checkpoint of size {pending.size} is dated {signed}, "
                            "before a smaller one")
                )  # fmt: skip
            self.last_signed_at = pending.signed_at
            root = self.frontier.root()
            if pending.size == size and bytes(pending.root_hash) == root:
                self.verified_size = size
            elif not self.root_reported:
                self.root_reported = True
                first = self.verified_size
                report.add(
                    Problem(
                        "root",
                        f"rebuilt from the records, the tree of {size} leaves has root "
                        f"{_short(root)}; the checkpoint signed {signed} says "
                        f"{_short(bytes(pending.root_hash))} (the last root that holds is at "
                        f"size {first}; if no record in this range is named above, the log "
                        "table itself was rewritten)",
                        leaf_index=first if first < size else None,
                        last_index=size - 1 if first < size else None,
                    )
                )
            if self.all_anchors and self.keys:
                for anchor in self.anchors:
                    document = anchor.get(tenant_id=self.tenant.pk, time=signed, size=pending.size)
                    if document is None:
                        report.add(
                            Problem(
                                "anchor", f"checkpoint {signed} is not in the {anchor.name} anchor"
                            )
                        )
                    else:
                        self._compare_with_anchor(pending, anchor, document)
            pending = next(rest, None)
        return pending

    # --- leaves ---------------------------------------------------------------------------

    def _recompute(self, keys: list[tuple[str, int, int]]) -> dict[tuple[str, int], Any]:
        """Leaf hashes from the records: {(table, id): hash, or GONE}; unknown tables raise."""
        groups: dict[tuple[str, int], list[int]] = defaultdict(list)
        for table, record_id, form in keys:
            groups[(table, form)].append(record_id)
        found: dict[tuple[str, int], Any] = {}
        for (table, form), ids in groups.items():
            for record_id in ids:
                found[(table, record_id)] = GONE
            if table not in RECORD_TABLES or form not in FORMS:
                continue
            model = record_model(table)
            rows = record_rows(table, model._default_manager.filter(pk__in=ids), form)
            for row in rows:
                found[(table, row["pk"])] = record_leaf_hash(
                    tenant_id=self.tenant.pk, table=table, row=row, form=form
                )
        return found

    def _check_node(self, level: int, index: int, node: bytes) -> None:
        if self.node_reported:
            return
        rows = self.node_rows.get(level)
        if rows is None:
            rows = self.node_rows[level] = (
                LogNode.objects.filter(level=level)
                .order_by("node_index")
                .values_list("node_index", "hash")
                .iterator(chunk_size=self.chunk_size)
            )
        stored = next(rows, None)
        if stored is None or stored[0] != index or bytes(stored[1]) != node:
            self.node_reported = True
            self.report.add(
                Problem(
                    "node",
                    f"stored tree node {level}/{index} differs from the one the records give "
                    "(inclusion and consistency proofs served from it would not verify)",
                )
            )

    def _walk_leaves(self) -> None:
        report = self.report
        head_size = self.head.size if self.head is not None else None
        checkpoints = self._checkpoints()
        pending = self._check_checkpoints(next(checkpoints, None), checkpoints)
        if head_size == 0:
            self.head_frontier = b""
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
                stored = bytes(stored)
                if index != self.next_index:
                    report.add(
                        Problem(
                            "missing-leaf",
                            f"leaves {self.next_index}..{index - 1} are missing from the log "
                            "(leaf rows deleted)",
                            leaf_index=self.next_index,
                        )
                    )
                self.next_index = index + 1
                used = self._leaf(index, table, record_id, stored, form, fresh, tombstones)
                for level, node_index, node in self.frontier.append(used):
                    self._check_node(level, node_index, node)
                if self.frontier.size == head_size:
                    self.head_frontier = self.frontier.to_bytes()
                pending = self._check_checkpoints(pending, checkpoints)
        report.leaves = self.frontier.size
        while pending is not None:
            report.checkpoints += 1
            report.add(
                Problem(
                    "truncated",
                    f"the checkpoint signed {timestamp(pending.signed_at)} says the log had "
                    f"{pending.size} leaves; it has {self.frontier.size}: leaves were removed "
                    "from its end",
                    leaf_index=self.frontier.size,
                )
            )
            pending = next(checkpoints, None)

    def _leaf(self, index, table, record_id, stored, form, fresh, tombstones) -> bytes:
        """The hash this leaf must have, from its record; reports what disagrees."""
        report = self.report
        tombstone = tombstones.get(index)
        if tombstone is not None:
            same_record = (tombstone.record_table, tombstone.record_id) == (table, record_id)
            if not same_record or bytes(tombstone.leaf_hash) != stored:
                report.add(
                    Problem(
                        "tombstone",
                        f"its tombstone holds {_short(bytes(tombstone.leaf_hash))} for "
                        f"{tombstone.record_table} {tombstone.record_id}, the log holds "
                        f"{_short(stored)}: a tombstone must keep the leaf hash",
                        index, table, record_id,
                    )
                )  # fmt: skip
            return stored  # disposed of: the content may be gone, the hash stays
        if table not in RECORD_TABLES or form not in FORMS:
            report.add(
                Problem("edited", f"the log names an unknown table or form {form}", index, table,
                        record_id)
            )  # fmt: skip
            return stored
        now = fresh.get((table, record_id), GONE)
        if now is GONE:
            report.add(
                Problem(
                    "deleted",
                    "the record is gone and no tombstone explains it",
                    index, table, record_id,
                )
            )  # fmt: skip
            return stored
        if now != stored:
            report.add(
                Problem(
                    "edited",
                    f"the record now hashes to {_short(now)}, the log holds {_short(stored)} "
                    "(its hash when archived)",
                    index, table, record_id,
                )
            )  # fmt: skip
        return now

    # --- the rest ---------------------------------------------------------------------------

    def _check_head(self) -> None:
        report, head = self.report, self.head
        if head is None:
            if report.leaves:
                report.add(Problem("head", "the log has leaves but no head row"))
            return
        if head.size != report.leaves:
            report.add(
                Problem("head", f"the head says {head.size} leaves, the log has {report.leaves}")
            )
        # Only meaningful when the records reproduce the log (else it differs as a consequence).
        if (
            self.head_frontier is not None
            and not report.has_record_problems
            and bytes(head.frontier) != self.head_frontier
        ):
            report.add(
                Problem(
                    "head",
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
                now = fresh.get((table, record_id), GONE)
                if now is GONE:
                    self.report.add(
                        Problem("deleted", "the record is gone (queued for the log, not yet in "
                                "a checkpoint)", table=table, record_id=record_id)
                    )  # fmt: skip
                elif now != bytes(stored):
                    self.report.add(
                        Problem("edited", "the record changed after it was archived (queued "
                                "for the log, not yet in a checkpoint)", table=table,
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
                            "inserted",
                            "the record is not in the log: it was added without going through "
                            "the archive (or its leaf was removed)",
                            table=table,
                            record_id=pk,
                        )
                    )

    def _ids(self, queryset) -> Iterator[int]:
        return queryset.iterator(chunk_size=max(self.chunk_size, 1000))
