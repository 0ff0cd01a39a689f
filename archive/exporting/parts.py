"""An export's payload written by several processes, one per range of conversations, then bagged
as one (:func:`archive.export.bag.write_staged_bag_zip`).

The RSMF and e-mail writers are pure Python (one core each); an export of a million messages
needs ~1,400 CPU seconds of them (docs/benchmarks.md). The selection is cut into ranges of whole
conversations of about equal message counts (one ``COUNT ... GROUP BY conversation_id``); each
range is written by a child process into its own staging folder, in conversation order, and the
parts are bagged in range order: the same files in the same order as one process writes, so the
same bag, byte for byte (tests/archive/test_export_parts.py). Media named by two parts are the
same bytes (content-addressed); the bag takes the first. The children's proof records and counts
are merged here.

The children are forked: they start with Django set up and the parent's settings (a test's
database too) and cost no import time. Each drops the database connection it inherited (never
closing it: that would end the parent's session on the shared socket) and opens its own. The
parent holds no transaction while they run (the rows they read are committed ones).
"""

from __future__ import annotations

import os
import pickle
import queue as queues
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import billiard  # type: ignore[import-untyped]
from django.conf import settings
from django.db import connections
from django.db.models import Count, QuerySet

from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from ..export.bag import Segmented, SegmentedWriter, StagedPart, stage_payload
from ..export.payload import Tally, payload_files
from ..export.records import ConversationSlice
from ..ledger.models import LogCheckpoint
from ..models import Message
from .feed import ProvenRecords, conversation_slices
from .proofs import proof_groups, write_proofs

WAIT = 2.0  # seconds between checks that every child is still alive


def part_count(total: int) -> int:
    """How many processes write an export of ``total`` messages: ``EXPORT_PARTS`` (at most the
    machine's cores), and one below ``EXPORT_PARTS_FROM`` messages (forking costs more than it
    saves on a small export)."""
    wanted = max(1, int(getattr(settings, "EXPORT_PARTS", 1)))
    if total < int(getattr(settings, "EXPORT_PARTS_FROM", 0)):
        return 1
    return max(1, min(wanted, os.cpu_count() or 1))


def conversation_ranges(selected: QuerySet[Message], parts: int) -> list[tuple[int, int]]:
    """Up to ``parts`` ranges (first and last conversation id, inclusive) of whole conversations
    with about equal message counts, in id order. Run inside the tenant's scope."""
    sizes = list(
        selected.order_by()
        .values_list("conversation_id")
        .annotate(n=Count("id"))
        .order_by("conversation_id")
        .values_list("conversation_id", "n")
    )
    total = sum(n for _, n in sizes)
    ranges: list[tuple[int, int]] = []
    first: int | None = None
    done = 0
    for conversation_id, n in sizes:
        if first is None:
            first = conversation_id
        done += n
        if done * parts >= total * (len(ranges) + 1) and len(ranges) < parts - 1:
            ranges.append((first, conversation_id))
            first = None
    if first is not None:
        ranges.append((first, sizes[-1][0]))
    return ranges


@dataclass
class StagedPayload:
    """What the children wrote, merged: their parts (in order), proof records and counts."""

    parts: list[StagedPart]
    proven: ProvenRecords
    tally: Tally


class PartFailed(RuntimeError):
    """A child process died without saying why (killed, out of memory)."""


def stage_in_parts(
    *,
    tenant: Tenant,
    selected: QuerySet[Message],
    ranges: list[tuple[int, int]],
    folder: str,
    formats: tuple[str, ...],
    generator: str,
    tree_size: int,
    progress: Callable[[int], None],
) -> StagedPayload:
    """Write the payload of ``selected`` in one child process per range, into sub-folders of
    ``folder``; ``progress`` gets the messages written so far. An error in a child (a record not
    in the checkpoint, a changed media file) is raised here, as the child raised it."""
    # billiard (Celery's fork of multiprocessing), not multiprocessing: a Celery worker is a
    # daemonic process, and multiprocessing refuses to start children from one.
    context = billiard.get_context("fork")
    results = context.Queue()
    children = []
    for index, (first, last) in enumerate(ranges):
        part_folder = os.path.join(folder, f"part{index:03d}")
        os.makedirs(part_folder)
        job = _Job(
            index=index, tenant=tenant, selected=selected, first=first, last=last,
            folder=part_folder, formats=formats, generator=generator, tree_size=tree_size,
        )  # fmt: skip
        child = context.Process(target=_run, args=(job, results), daemon=True)
        child.start()
        children.append(child)
    staged: dict[int, tuple[StagedPart, ProvenRecords, Tally]] = {}
    done = 0
    try:
        while len(staged) < len(children):
            try:
                message: Any = results.get(timeout=WAIT)
            except queues.Empty:
                lost = [c for i, c in enumerate(children) if i not in staged and not c.is_alive()]
                if lost and results.empty():
                    raise PartFailed(
                        f"an export part stopped without finishing (exit {lost[0].exitcode})"
                    ) from None
                continue
            kind = message[0]
            if kind == "progress":
                done += message[1]
                progress(done)
            elif kind == "done":
                _, number, part, proven, tally = message
                staged[number] = (part, proven, tally)
            else:
                error = message[2]
                raise error if isinstance(error, BaseException) else PartFailed(str(error))
    finally:
        for child in children:
            if child.is_alive() and len(staged) < len(children):
                child.terminate()
            child.join()
        results.close()
    return _merge([staged[i] for i in range(len(children))], tree_size)


def _merge(staged: list[tuple[StagedPart, ProvenRecords, Tally]], tree_size: int) -> StagedPayload:
    proven = ProvenRecords(tree_size=tree_size)
    tally = Tally()
    for _, records, counted in staged:
        proven.tables.extend(records.tables)
        proven.ids.extend(records.ids)
        proven.indexes.extend(records.indexes)
        proven.records.update(records.records)
        tally.merge(counted)
    return StagedPayload(parts=[part for part, _, _ in staged], proven=proven, tally=tally)


@dataclass(frozen=True)
class _Job:
    index: int
    tenant: Tenant
    selected: QuerySet[Message]
    first: int
    last: int
    folder: str
    formats: tuple[str, ...]
    generator: str
    tree_size: int


# The parent's connections as the child inherited them: kept referenced so they are never
# closed from here (the child ends with os._exit, which closes nothing).
_INHERITED: list[object] = []


def detach_inherited_connections() -> None:
    """In a forked child: leave the parent's database connections to the parent (the next query
    opens the child's own)."""
    for connection in connections.all(initialized_only=True):
        _INHERITED.append(connection.connection)
        connection.connection = None


def _run(job: _Job, results: Any) -> None:
    detach_inherited_connections()
    try:
        with tenant_scope(job.tenant):
            rows = job.selected.filter(
                conversation_id__gte=job.first, conversation_id__lte=job.last
            )
            proven = ProvenRecords(tree_size=job.tree_size)
            tally = Tally()
            slices = conversation_slices(tenant=job.tenant, messages=rows, proven=proven)
            part = stage_payload(
                payload_files(
                    _reported(slices, results), formats=job.formats, generator=job.generator,
                    tally=tally, first=job.index == 0,
                ),
                job.folder,
            )  # fmt: skip
        results.put(("done", job.index, part, proven, tally))
    except BaseException as error:  # every failure goes to the parent, as raised if it pickles
        try:
            pickle.dumps(error)
            results.put(("error", job.index, error))
        except Exception:  # the queue pickles in a thread of its own, where errors are lost
            results.put(("error", job.index, f"{type(error).__name__}: {error}"))
    finally:
        for connection in connections.all(initialized_only=True):
            if connection.connection is not None:
                connection.close()
        results.close()
        results.join_thread()


def _reported(slices: Iterator[ConversationSlice], results: Any) -> Iterator[ConversationSlice]:
    for selection in slices:
        yield selection
        results.put(("progress", len(selection.messages)))


class ProofsInParts:
    """``log/proofs.jsonl`` written by ``workers`` processes, each a range of the proofs'
    groups of tiles (:func:`archive.exporting.proofs.proof_groups`): ``workers - 1`` forked
    children, started at once (they run while this process zips the payload), and this process
    for the first range once it has zipped the payload (:meth:`wait`). The proofs were the
    largest serial share of a million-message export (~1.4 GB of JSON Lines proved, encoded
    and deflated in one process: docs/benchmarks.md); one child fewer is one Django process
    fewer in memory. The children inherit ``proven`` by the fork (nothing pickled).
    :meth:`wait` gives the file as the bag takes it (:class:`archive.export.bag.Segmented`)."""

    def __init__(
        self,
        *,
        tenant: Tenant,
        checkpoint: LogCheckpoint,
        proven: ProvenRecords,
        folder: str,
        workers: int,
    ) -> None:
        groups = proof_groups(proven)
        workers = max(1, min(workers, groups))
        bounds = [groups * n // workers for n in range(workers + 1)]
        self.jobs = [
            _ProofJob(
                index=n,
                tenant=tenant,
                checkpoint=checkpoint,
                proven=proven,
                groups=range(bounds[n], bounds[n + 1]),
                raw=os.path.join(folder, f"proofs{n:03d}.jsonl"),
                deflated=os.path.join(folder, f"proofs{n:03d}.z"),
            )
            for n in range(workers)
        ]
        context = billiard.get_context("fork")
        self.results = context.Queue()
        self.children = []
        for job in self.jobs[1:]:
            child = context.Process(target=_prove, args=(job, self.results), daemon=True)
            child.start()
            self.children.append(child)

    def wait(self) -> Segmented:
        try:
            _write_proof_job(self.jobs[0])
            done: set[int] = set()
            while len(done) < len(self.children):
                try:
                    message: Any = self.results.get(timeout=WAIT)
                except queues.Empty:
                    lost = [
                        c
                        for i, c in enumerate(self.children, start=1)
                        if i not in done and not c.is_alive()
                    ]
                    if lost and self.results.empty():
                        raise PartFailed(
                            "an export's proofs stopped without finishing"
                            f" (exit {lost[0].exitcode})"
                        ) from None
                    continue
                if message[0] == "done":
                    done.add(message[1])
                else:
                    error = message[2]
                    raise error if isinstance(error, BaseException) else PartFailed(str(error))
        finally:
            self.stop()
        return Segmented(
            raw=tuple(job.raw for job in self.jobs),
            deflated=tuple(job.deflated for job in self.jobs),
        )

    __call__ = wait

    def stop(self) -> None:
        """End the children (when the export fails before waiting for them)."""
        for child in self.children:
            if child.is_alive() and child.exitcode is None:
                child.terminate()
            child.join()
        self.results.close()
        self.children = []


@dataclass(frozen=True)
class _ProofJob:
    index: int
    tenant: Tenant
    checkpoint: LogCheckpoint
    proven: ProvenRecords
    groups: range
    raw: str
    deflated: str


def _write_proof_job(job: _ProofJob) -> None:
    with open(job.raw, "wb") as raw, open(job.deflated, "wb") as deflated:
        write_proofs(
            tenant=job.tenant, checkpoint=job.checkpoint, proven=job.proven,
            out=SegmentedWriter(raw, deflated), groups=job.groups,
        )  # fmt: skip


def _prove(job: _ProofJob, results: Any) -> None:
    detach_inherited_connections()
    try:
        _write_proof_job(job)
        results.put(("done", job.index))
    except BaseException as error:  # every failure goes to the parent, as raised if it pickles
        try:
            pickle.dumps(error)
            results.put(("error", job.index, error))
        except Exception:
            results.put(("error", job.index, f"{type(error).__name__}: {error}"))
    finally:
        for connection in connections.all(initialized_only=True):
            if connection.connection is not None:
                connection.close()
        results.close()
        results.join_thread()
