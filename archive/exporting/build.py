"""From the database to a signed, provable export bag: :func:`write_export`.

What the bag holds (see :mod:`archive.export.bag` for the BagIt layout):

- ``data/``: the selected messages in the chosen formats, each with the events that change it
  (edits, deletions for everyone, reactions) and its attachments (:mod:`.feed`);
- ``log/checkpoint.json``: the signed checkpoint of the tenant's Merkle log that covers every
  exported record, exactly as its anchors hold it; ``log/proofs.jsonl``: one RFC 9162 inclusion
  proof per exported message, event and stored file (:mod:`.proofs`); ``log/public-key.pem``:
  the key that signed that checkpoint and this bag;
- ``tagmanifest-sha256.txt.sig``: the Ed25519 signature of the tag manifest, by that key.

The checkpoint: one is signed first when records wait in the log's queue (so every exported
record can be proved); otherwise the latest is reused. So two exports of the same archive state
share the checkpoint, and their payload (``data/``), ``manifest-sha256.txt`` and ``log/`` files
are byte-identical. What may differ between them is only what names the export itself: the
bag's folder name, and in ``bag-info.txt`` ``External-Identifier``/``Export-Id``,
``External-Description``, ``Contact-Name``/``Requester``, ``Matter``, ``Search-Query``,
``Date-Range``, ``Export-Created``/``Bagging-Date`` (and therefore the tag manifest and its
signature).
"""

from __future__ import annotations

import importlib.metadata
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO

from django.db.models import QuerySet

from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from ..export.bag import (
    BagInfo,
    Segmented,
    SegmentedWriter,
    TagContent,
    stage_payload,
    write_staged_bag_zip,
)
from ..export.payload import FORMATS, Counts, Tally, payload_files
from ..export.records import ConversationSlice
from ..ledger.models import LogCheckpoint, PendingLeaf
from ..ledger.services import checkpoint_log
from ..ledger.signing import public_key_pem, sign
from ..models import Message
from .feed import ProvenRecords, conversation_slices
from .parts import ProofsInParts, conversation_ranges, part_count, stage_in_parts
from .proofs import checkpoint_json, write_proofs

PROGRESS_EVERY = 0.5  # seconds between progress calls


class ExportError(Exception):
    """An export that cannot be written; the message is for the person who asked."""


class NothingToExport(ExportError):
    pass


class UnknownFormat(ExportError):
    pass


@dataclass(frozen=True)
class ExportRequest:
    export_id: str  # shown in bag-info.txt and the bag's folder name
    requester: str  # the person's label (e-mail) or the command's label
    matter: str
    query: str  # the search text, for bag-info ("" = everything in the range)
    date_from: date | None
    date_until: date | None
    formats: tuple[str, ...]  # a subset of archive.export.payload.FORMATS
    created_at: datetime  # the bag's date: never "now" inside the writer
    legal_hold: str = ""  # the hold the export is of, named for bag-info ("" = a search)


@dataclass(frozen=True)
class ExportResult:
    tag_manifest_sha256: str  # hex SHA-256 of tagmanifest-sha256.txt (the downloads audit holds it)
    counts: Counts
    checkpoint_id: int
    tree_size: int
    size: int  # bytes written to out


def software_version() -> str:
    try:
        return importlib.metadata.version("compliance-hub")
    except importlib.metadata.PackageNotFoundError:  # a checkout run without installing it
        return "development"


def check_formats(formats: tuple[str, ...]) -> None:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise UnknownFormat(
            f"Unknown export format: {', '.join(unknown)}. Choose from {', '.join(FORMATS)}."
        )
    if not formats:
        raise UnknownFormat(f"Choose at least one export format ({', '.join(FORMATS)}).")


def covering_checkpoint(tenant: Tenant) -> LogCheckpoint:
    """The checkpoint an export proves against: a new one when records wait in the log's queue
    (or none was ever signed), else the latest (see the module's note on determinism)."""
    with tenant_scope(tenant):
        queued = PendingLeaf.objects.filter(tenant=tenant).exists()
        latest = LogCheckpoint.objects.filter(tenant=tenant).order_by("-signed_at", "-id").first()
    if queued or latest is None:
        signed = checkpoint_log(tenant=tenant, force=True)
        assert signed is not None  # forced
        return signed
    return latest


def write_export(
    *,
    tenant: Tenant,
    request: ExportRequest,
    messages: QuerySet[Message],
    out: IO[bytes],
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Write the bag of ``request`` for the tenant's messages among ``messages`` (scoped to
    ``tenant`` here, whatever the queryset names) to ``out``. Raises :class:`UnknownFormat`,
    :class:`NothingToExport`, :class:`archive.exporting.feed.NotLogged` (a record arrived after
    the checkpoint) or :class:`archive.ledger.services.LogIntegrityError`. Not audited: the
    callers' services are (:mod:`archive.exporting.services`)."""
    check_formats(request.formats)
    with tenant_scope(tenant):
        selected = Message.objects.filter(tenant=tenant, pk__in=messages.order_by().values("pk"))
        total = selected.count()
    if not total:
        raise NothingToExport("Nothing to export: no message matches this selection.")
    checkpoint = covering_checkpoint(tenant)
    generator = f"Compliance Hub {software_version()}"
    parts = part_count(total)
    if parts > 1:
        with tenant_scope(tenant):
            ranges = conversation_ranges(selected, parts)
    with tempfile.TemporaryDirectory(prefix="export-") as staging:
        if parts > 1 and len(ranges) > 1:
            report = _Reporter(total, progress)
            written = stage_in_parts(
                tenant=tenant, selected=selected, ranges=ranges, folder=staging,
                formats=request.formats, generator=generator, tree_size=checkpoint.size,
                progress=report.done,
            )  # fmt: skip
            report.finish()
            staged, proven, tally = written.parts, written.proven, written.tally
        else:
            proven = ProvenRecords(tree_size=checkpoint.size)
            tally = Tally()
            with tenant_scope(tenant):
                slices = conversation_slices(tenant=tenant, messages=selected, proven=proven)
                payload = payload_files(
                    _reporting(slices, total, progress), formats=request.formats,
                    generator=generator, tally=tally,
                )  # fmt: skip
                staged = [stage_payload(payload, staging)]
        # Started outside the tenant's scope (its transaction): the children open their own.
        proofs = _proofs(tenant, checkpoint, proven, staging, parts)
        try:
            with tenant_scope(tenant):
                key = checkpoint.key
                sink = _Counting(out)
                info = BagInfo(
                    tenant=tenant.slug, export_id=request.export_id, requester=request.requester,
                    matter=request.matter, query=request.query, date_from=request.date_from,
                    date_until=request.date_until, created_at=request.created_at,
                    software_version=software_version(), formats=request.formats,
                    counts=tally.counts(), legal_hold=request.legal_hold,
                )  # fmt: skip

                def log_files() -> dict[str, TagContent]:  # called once the payload is zipped
                    return {
                        "log/checkpoint.json": checkpoint_json(
                            tenant=tenant, checkpoint=checkpoint
                        ),
                        "log/proofs.jsonl": proofs(),
                        "log/public-key.pem": public_key_pem(bytes(key.public_key)).encode("ascii"),
                    }

                digest = write_staged_bag_zip(
                    staged,
                    info=info,
                    out=sink,  # type: ignore[arg-type]  # write and flush are all we need
                    tag_files=log_files,
                    sign=lambda manifest: sign(key, manifest),
                )
        finally:
            if isinstance(proofs, ProofsInParts):
                proofs.stop()
    return ExportResult(
        tag_manifest_sha256=digest,
        counts=tally.counts(),
        checkpoint_id=checkpoint.pk,
        tree_size=checkpoint.size,
        size=sink.written,
    )


def _proofs(
    tenant: Tenant, checkpoint: LogCheckpoint, proven: ProvenRecords, staging: str, parts: int
) -> Callable[[], Segmented]:
    """``log/proofs.jsonl``: started now in ``parts`` processes (they run while this one zips
    the payload) when the export is written in parts, else written here when asked for."""
    folder = os.path.join(staging, "log")
    os.makedirs(folder)
    if parts > 1:
        return ProofsInParts(
            tenant=tenant, checkpoint=checkpoint, proven=proven, folder=folder, workers=parts
        )

    def here() -> Segmented:
        raw, deflated = os.path.join(folder, "proofs.jsonl"), os.path.join(folder, "proofs.z")
        with open(raw, "wb") as raw_out, open(deflated, "wb") as deflated_out:
            write_proofs(
                tenant=tenant, checkpoint=checkpoint, proven=proven,
                out=SegmentedWriter(raw_out, deflated_out),
            )  # fmt: skip
        return Segmented(raw=(raw,), deflated=(deflated,))

    return here


class _Reporter:
    """The ``progress`` calls of an export written in parts: at most one per interval."""

    def __init__(self, total: int, progress: Callable[[int, int], None] | None) -> None:
        self.total = total
        self.progress = progress
        self.last = 0.0
        self.written = 0

    def done(self, written: int) -> None:
        self.written = written
        now = time.monotonic()
        if self.progress is not None and now - self.last >= PROGRESS_EVERY:
            self.progress(written, self.total)
            self.last = now

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.written, self.total)


def _reporting(
    slices: Iterator[ConversationSlice],
    total: int,
    progress: Callable[[int, int], None] | None,
) -> Iterator[ConversationSlice]:
    done, last = 0, 0.0
    for selection in slices:
        yield selection
        done += len(selection.messages)
        now = time.monotonic()
        if progress is not None and now - last >= PROGRESS_EVERY:
            progress(done, total)
            last = now
    if progress is not None:
        progress(done, total)


class _Counting:
    """A write-only stream counting the bytes passed to ``target``. No ``tell``/``seek``: zipfile
    then writes data descriptors instead of seeking back, so every byte is written once."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.written = 0

    def write(self, data: bytes) -> int:
        self.target.write(data)
        self.written += len(data)
        return len(data)

    def flush(self) -> None:
        self.target.flush()
