"""What ``verify_archive`` found: the problems (each one thing that does not verify) and the
notes, gathered in a :class:`Verification`. Plain data; the checks that fill it live in
verification.py and anchor_checks.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

PROBLEM_LIMIT = 100  # kept in full; beyond, only counted (a rewritten table gives thousands)


class ProblemKind(StrEnum):
    """What is wrong. The values are the words the report prints."""

    EDITED = "edited"  # a record no longer hashes to its leaf
    DELETED = "deleted"  # a record is gone and no tombstone explains it
    INSERTED = "inserted"  # a record has no leaf
    MISSING_LEAF = "missing-leaf"  # a gap in the leaf indexes
    TOMBSTONE = "tombstone"  # a tombstone changed the leaf hash it must keep
    ROOT = "root"  # the records do not reproduce a signed root
    TRUNCATED = "truncated"  # a checkpoint is larger than the log
    SIGNATURE = "signature"  # a checkpoint's signature does not verify
    ANCHOR = "anchor"  # a checkpoint and its copy outside the database disagree
    KEY = "key"  # the chain of checkpoint keys is broken, or a key signed out of its time
    HEAD = "head"  # the log's head row disagrees with the log
    NODE = "node"  # a stored tree node disagrees with the records
    CHECKPOINT = "checkpoint"  # the checkpoints are out of order, or there are none
    TIMESTAMP = "timestamp"  # an RFC 3161 time-stamp is missing or invalid
    MEDIA = "media"  # a stored file no longer holds the archived bytes
    # A new version or a delete marker was written over an anchored copy (or the copy carries no
    # Object Lock at all). The original is still read and compared, yet this fails verification:
    # someone wrote to the evidence store who should not have, and an auditor must hear of it.
    ANCHOR_TAMPERED = "anchor-tampered"
    # An anchor refused to say what it holds (permissions) or could not be reached: what it
    # holds was not checked, so the archive is not shown to verify.
    ANCHOR_UNREADABLE = "anchor-unreadable"


# Problems that name one record or leaf (the others name a range, a checkpoint or a table).
PRECISE = {
    ProblemKind.EDITED,
    ProblemKind.DELETED,
    ProblemKind.INSERTED,
    ProblemKind.MISSING_LEAF,
    ProblemKind.TOMBSTONE,
}


@dataclass
class Problem:
    """One thing that does not verify, and where: a leaf, a range of leaves, a record."""

    kind: ProblemKind
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
    """The outcome of one run: counts, the newest checkpoint, problems and notes."""

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
            return (order, problem.leaf_index if problem.leaf_index is not None else 0)

        return min(self.problems, key=rank)

    @property
    def has_record_problems(self) -> bool:
        return any(p.kind in PRECISE for p in self.problems)

    def add(self, problem: Problem) -> None:
        if len(self.problems) < PROBLEM_LIMIT:
            self.problems.append(problem)
        else:
            self.more_problems += 1


def short(value: bytes) -> str:
    """A hash as the report shows it: enough hex to tell two apart."""
    return value.hex()[:16] + "…"
