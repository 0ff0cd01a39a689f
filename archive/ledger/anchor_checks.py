"""Checks of the signed checkpoints against their copies outside the database (anchors.py):
the copy must be signed by a key the database holds, endorsed back to key 0, time-stamped by the
TSA when one is configured, and say what the checkpoint in the database says. A copy the
database has no checkpoint for means checkpoints were deleted; a checkpoint no anchor holds past
``LEDGER_ANCHOR_GRACE`` was never anchored. A copy something was written over since (a new
version, a delete marker: anchors.py reads the original all the same) is reported as tampering,
and an anchor that refuses to be read as unreadable: both fail verification."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from .anchors import Anchor, AnchoredCopy, AnchorUnreadable
from .canonical import timestamp
from .key_chain import KeyChain
from .models import LogCheckpoint
from .report import Problem, ProblemKind, Verification
from .services import checkpoint_document
from .signing import endorsement_is_valid, signature_is_valid
from .timestamping import TimestampError, check_token

Document = dict[str, Any]  # an anchored copy of a checkpoint (services.checkpoint_document)


def parse_time(value: str) -> datetime:
    """The inverse of canonical.timestamp, for the times in an anchored document."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def read_newest_copies(
    anchors: list[Anchor], *, tenant_id: int, report: Verification, reported: set[str]
) -> dict[str, AnchoredCopy | None]:
    """The newest copy in each anchor (by anchor name); None for an anchor that holds none or
    cannot be read (reported once, its name added to ``reported``)."""
    newest: dict[str, AnchoredCopy | None] = {}
    for anchor in anchors:
        try:
            newest[anchor.name] = anchor.latest(tenant_id=tenant_id)
        except AnchorUnreadable as error:
            newest[anchor.name] = None
            _report_unreadable(anchor, error, report, reported)
    return newest


def _report_unreadable(
    anchor: Anchor, error: AnchorUnreadable, report: Verification, reported: set[str]
) -> None:
    if anchor.name in reported:
        return
    reported.add(anchor.name)
    report.add(
        Problem(
            ProblemKind.ANCHOR_UNREADABLE,
            f"the {anchor.name} anchor could not be read, so its copies were not checked: {error}",
        )
    )


def _moment(value: datetime) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


@dataclass(frozen=True)
class AnchorChecks:
    tenant_id: int
    anchors: list[Anchor]
    keys: KeyChain
    report: Verification
    # What was reported once and must not be again: anchor names (unreadable), copies (tampered).
    reported: set[str] = field(default_factory=set)

    def check_newest_copies(self, anchored: dict[str, AnchoredCopy | None]) -> None:
        """``anchored``: the newest copy in each anchor (by anchor name), read before the
        database snapshot began, so its checkpoint must be in the database."""
        for anchor in self.anchors:
            copy = anchored[anchor.name]
            if copy is not None:
                self._check_tampering(copy)
                self._check_newest_copy(anchor, copy.document)

    def _read(self, anchor: Anchor, *, time: str, size: int) -> tuple[bool, AnchoredCopy | None]:
        """Whether the anchor could be read (if not: reported once), and its copy of the
        checkpoint (None: it has none)."""
        try:
            copy = anchor.get(tenant_id=self.tenant_id, time=time, size=size)
        except AnchorUnreadable as error:
            _report_unreadable(anchor, error, self.report, self.reported)
            return False, None
        if copy is not None:
            self._check_tampering(copy)
        return True, copy

    def _check_tampering(self, copy: AnchoredCopy) -> None:
        """Whatever was written over an anchored copy after the anchoring step wrote it."""
        if copy.where in self.reported:
            return
        self.reported.add(copy.where)
        which = (
            f"the anchor of the checkpoint of size {copy.document.get('size', '?')} signed "
            f"{copy.document.get('time', '?')} in {copy.place}"
        )
        if not copy.locked:
            self.report.add(
                Problem(
                    ProblemKind.ANCHOR_TAMPERED,
                    f"{which} is not under Object Lock retention: no version of it was written "
                    "by the anchoring step, which always locks what it writes",
                )
            )
        versions = [_moment(w.written_at) for w in copy.later_writes if not w.delete_marker]
        markers = [_moment(w.written_at) for w in copy.later_writes if w.delete_marker]
        what = []
        if versions:
            what.append(
                "overwritten after it was written ("
                + (
                    f"a later version exists, written at {versions[0]}"
                    if len(versions) == 1
                    else f"{len(versions)} later versions exist, written at {', '.join(versions)}"
                )
                + ")"
            )
        if markers:
            what.append(
                "deleted after it was written (a delete marker hides it, put at "
                f"{', '.join(markers)})"
            )
        if what:
            self.report.add(
                Problem(
                    ProblemKind.ANCHOR_TAMPERED,
                    f"{which} was {' and '.join(what)}; the original was read and checked",
                )
            )

    def check_latest_is_anchored(self, latest: LogCheckpoint) -> None:
        """The newest checkpoint in the database is in every anchor (or will be, within the
        grace period: anchoring runs after the checkpoint commits)."""
        grace = timedelta(seconds=settings.LEDGER_ANCHOR_GRACE)
        signed = timestamp(latest.signed_at)
        for anchor in self.anchors:
            readable, copy = self._read(anchor, time=signed, size=latest.size)
            if not readable:
                continue
            if copy is not None:
                self._compare(latest, anchor, copy.document)
            elif timezone.now() - latest.signed_at > grace:
                self.report.add(
                    Problem(
                        ProblemKind.ANCHOR,
                        f"the latest checkpoint (size {latest.size}, signed {signed}) is not in "
                        f"the {anchor.name} anchor",
                    )
                )
            else:
                self.report.notes.append(
                    f"the latest checkpoint is not in the {anchor.name} anchor yet (signed "
                    f"{signed}, within LEDGER_ANCHOR_GRACE)"
                )

    def check_checkpoint(self, checkpoint: LogCheckpoint) -> None:
        """Any checkpoint (``--all-anchors``): in every anchor, and the same there."""
        signed = timestamp(checkpoint.signed_at)
        for anchor in self.anchors:
            readable, copy = self._read(anchor, time=signed, size=checkpoint.size)
            if not readable:
                continue
            if copy is None:
                self.report.add(
                    Problem(
                        ProblemKind.ANCHOR,
                        f"checkpoint {signed} is not in the {anchor.name} anchor",
                    )
                )
            else:
                self._compare(checkpoint, anchor, copy.document)

    def _check_newest_copy(self, anchor: Anchor, document: Document) -> None:
        report = self.report
        note = document.get("signed_note", "").encode("ascii", "replace")
        try:
            public_key = base64.b64decode(document["public_key"])
            signature = base64.b64decode(document["signature"])
        except (KeyError, ValueError):
            public_key = signature = b""
        if not signature_is_valid(public_key, note, signature):
            report.add(
                Problem(
                    ProblemKind.ANCHOR, f"the newest copy in the {anchor.name} anchor is not signed"
                )
            )
        if "key_sequence" in document and not self._endorsement_ok(document, public_key):
            report.add(
                Problem(
                    ProblemKind.ANCHOR,
                    f"the newest copy in the {anchor.name} anchor is signed with key "
                    f"#{document.get('key_sequence')}, but its endorsement by the previous "
                    "key does not verify",
                )
            )
        if self.keys and not self.keys.holds(
            key_id=document.get("key_id", ""), public_key=public_key
        ):
            report.add(
                Problem(
                    ProblemKind.KEY,
                    f"the {anchor.name} anchor's newest checkpoint is signed with key "
                    f"{document.get('key_id', '?')[:16]}…, which is not among the keys the "
                    f"database holds ({self.keys.describe()}): the key was replaced",
                )
            )
        self._check_time_stamp(anchor, document, note)
        match = LogCheckpoint.objects.filter(
            size=document["size"], signed_at=parse_time(document["time"])
        ).first()
        if match is None:
            report.add(
                Problem(
                    ProblemKind.ANCHOR,
                    f"checkpoint of size {document['size']} signed {document['time']} is in "
                    f"the {anchor.name} anchor but not in the database: checkpoints were "
                    "deleted or the log was rebuilt",
                )
            )
        else:
            self._compare(match, anchor, document)

    def _endorsement_ok(self, document: Document, public_key: bytes) -> bool:
        """A copy signed by a rotated key carries that key's endorsement by the one before."""
        try:
            return endorsement_is_valid(
                tenant_id=self.tenant_id,
                sequence=int(document["key_sequence"]),
                public_key=public_key,
                created_at=parse_time(document["key_created"]),
                endorsement=base64.b64decode(document["key_endorsement"]),
                previous_key_id=document["previous_key_id"],
                previous_public_key=base64.b64decode(document["previous_public_key"]),
            )
        except (KeyError, ValueError, TypeError):
            return False

    def _check_time_stamp(self, anchor: Anchor, document: Document, note: bytes) -> None:
        """The RFC 3161 token of an anchored checkpoint must cover its signed note and be
        validly signed (by the pinned TSA certificate, when one is configured)."""
        token = document.get("rfc3161_token")
        if token is None:
            if settings.LEDGER_TSA_URL:
                self.report.add(
                    Problem(
                        ProblemKind.TIMESTAMP,
                        f"the newest copy in the {anchor.name} anchor has no RFC 3161 "
                        "time-stamp, though a TSA is configured",
                    )
                )
            return
        try:
            info = check_token(
                base64.b64decode(token),
                data=note,
                pinned_certificate_sha256=settings.LEDGER_TSA_CERT_SHA256 or "",
            )
        except (TimestampError, ValueError) as error:
            self.report.add(
                Problem(
                    ProblemKind.TIMESTAMP,
                    f"the RFC 3161 time-stamp of the newest copy in the {anchor.name} anchor "
                    f"is not valid: {error}",
                )
            )
            return
        self.report.notes.append(
            f"the newest checkpoint in the {anchor.name} anchor was time-stamped by the TSA at "
            f"{info.gen_time.isoformat()} (serial {info.serial_number})"
        )

    def _compare(self, checkpoint: LogCheckpoint, anchor: Anchor, document: Document) -> None:
        key = self.keys.key_of(checkpoint)
        if key is None:
            return  # reported as a bad signature
        expected = checkpoint_document(checkpoint, key, self.keys.previous(key))
        differing = sorted(k for k in expected if document.get(k) != expected[k])
        if differing:
            self.report.add(
                Problem(
                    ProblemKind.ANCHOR,
                    f"checkpoint of size {checkpoint.size} signed {expected['time']} differs from "
                    f"its copy in the {anchor.name} anchor ({', '.join(differing)})",
                )
            )
