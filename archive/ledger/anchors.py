"""Copies of signed checkpoints outside the database.

A database superuser can rewrite tables, triggers and all; what they cannot rewrite is a copy
they cannot reach. Every checkpoint is therefore written, once and never overwritten, to each
configured anchor (``settings.LEDGER_ANCHORS``):

- ``folder`` (implemented): one JSON file per checkpoint under ``LEDGER_ANCHOR_DIR``, made
  read-only, never replaced. Locally a git-ignored folder; in production a mount that the
  database's administrators cannot write (WORM storage, another account's share).
- ``s3`` (interface and settings only, NOT implemented): an S3 bucket with Object Lock in
  COMPLIANCE mode (``LEDGER_S3_BUCKET``, ``LEDGER_S3_PREFIX``, ``LEDGER_S3_RETENTION_DAYS``).
- RFC 3161 time-stamping (``LEDGER_TSA_URL``, optionally ``LEDGER_TSA_CERT_SHA256`` to pin
  the TSA's certificate): a token from an external TSA over the signed note, added to the
  anchored document as ``rfc3161_token`` (timestamping.py).

Configuring an unimplemented one fails loudly (:class:`NotImplementedError` when used): the
anchors are never faked.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .timestamping import (
    REPLY_CONTENT_TYPE,
    REQUEST_CONTENT_TYPE,
    TimestampError,
    build_request,
    check_token,
    new_nonce,
    parse_response,
)

DOCUMENT_FORMAT = "compliance-hub-checkpoint/1"


class AnchorConflict(RuntimeError):
    """An anchor already holds a different document for the same checkpoint."""


class Anchor(Protocol):
    name: str

    def put(self, document: dict[str, Any]) -> str:
        """Store the document once; the same document again is a no-op, a different one for the
        same checkpoint raises :class:`AnchorConflict`. Returns where it is."""

    def get(self, *, tenant_id: int, time: str, size: int) -> dict[str, Any] | None:
        """The anchored document of that checkpoint, or None."""

    def latest(self, *, tenant_id: int) -> dict[str, Any] | None:
        """The tenant's most recent anchored checkpoint, or None."""


def _compact_time(time: str) -> str:
    # "2026-01-01T09:30:00.000000Z" -> "20260101T093000000000Z": sorts like the time itself.
    return time.replace("-", "").replace(":", "").replace(".", "")


class FolderAnchor:
    """``<root>/<tenant id>/<YYYY>/<MM>/<DD>/<time>-<size>.json``, one file per checkpoint.
    Keyed by the tenant's id (a slug can be renamed); the slug is inside each document."""

    name = "folder"

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, tenant_id: int, time: str, size: int) -> Path:
        day = datetime.strptime(time[:10], "%Y-%m-%d")
        return (
            self.root
            / str(tenant_id)
            / f"{day:%Y}"
            / f"{day:%m}"
            / f"{day:%d}"
            / f"{_compact_time(time)}-{size}.json"
        )

    def put(self, document: dict[str, Any]) -> str:
        path = self._path(document["tenant_id"], document["time"], document["size"])
        data = json.dumps(document, sort_keys=True, indent=2).encode() + b"\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            if json.loads(path.read_bytes()) != document:
                raise AnchorConflict(f"{path} already holds a different checkpoint")
            return str(path)
        # Written whole to a temporary name, then linked into place: a reader never sees half
        # a file, and link() refuses to replace a file another writer put there first.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".checkpoint-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o444)
            try:
                os.link(temporary, path)
            except FileExistsError:
                if json.loads(path.read_bytes()) != document:
                    raise AnchorConflict(f"{path} already holds a different checkpoint") from None
        finally:
            os.unlink(temporary)
        return str(path)

    def get(self, *, tenant_id: int, time: str, size: int) -> dict[str, Any] | None:
        path = self._path(tenant_id, time, size)
        if not path.exists():
            return None
        return json.loads(path.read_bytes())

    def latest(self, *, tenant_id: int) -> dict[str, Any] | None:
        folder = self.root / str(tenant_id)
        return self._newest(folder, depth=3)

    def _newest(self, folder: Path, depth: int) -> dict[str, Any] | None:
        if not folder.is_dir():
            return None
        if depth == 0:
            files = sorted(p.name for p in folder.iterdir() if p.suffix == ".json")
            return json.loads((folder / files[-1]).read_bytes()) if files else None
        for child in sorted((p for p in folder.iterdir() if p.is_dir()), reverse=True):
            found = self._newest(child, depth - 1)
            if found is not None:
                return found
        return None


class S3ObjectLockAnchor:
    """NOT IMPLEMENTED. The production anchor: ``PutObject`` of the same JSON document to
    ``s3://LEDGER_S3_BUCKET/LEDGER_S3_PREFIX<tenant id>/<time>-<size>.json`` with
    ``ObjectLockMode=COMPLIANCE`` and ``ObjectLockRetainUntilDate`` = now +
    LEDGER_S3_RETENTION_DAYS (the bucket created with Object Lock enabled), and
    ``If-None-Match: *`` so an object is never replaced; ``latest`` lists the tenant's prefix.
    Needs boto3 and a bucket (or moto) to build and test against."""

    name = "s3"

    def __init__(self, *, bucket: str, prefix: str, retention_days: int) -> None:
        if not bucket:
            raise ImproperlyConfigured("LEDGER_ANCHORS includes s3 but LEDGER_S3_BUCKET is empty")
        self.bucket, self.prefix, self.retention_days = bucket, prefix, retention_days

    def _missing(self) -> NotImplementedError:
        return NotImplementedError(
            "the S3 Object Lock anchor is not implemented yet; use LEDGER_ANCHORS=folder"
        )

    def put(self, document: dict[str, Any]) -> str:
        raise self._missing()

    def get(self, *, tenant_id: int, time: str, size: int) -> dict[str, Any] | None:
        raise self._missing()

    def latest(self, *, tenant_id: int) -> dict[str, Any] | None:
        raise self._missing()


class Timestamper(Protocol):
    def timestamp(self, data: bytes) -> bytes:
        """An RFC 3161 TimeStampToken (DER) over SHA-256(data) from a time-stamping authority."""


class Rfc3161Timestamper:
    """Asks the TSA at ``url`` for an RFC 3161 token over the signed note (archive/ledger/
    timestamping.py builds the request and checks the answer: our nonce, our imprint, a valid
    signature, and the pinned TSA certificate when ``certificate_sha256`` is set). A TSA that is
    down or answers badly raises :class:`TimestampError`: the checkpoint stays un-anchored and
    the next beat tries again, so no checkpoint is ever anchored without its time-stamp."""

    def __init__(self, url: str, *, timeout: float = 10.0, certificate_sha256: str = "") -> None:
        self.url, self.timeout, self.certificate_sha256 = url, timeout, certificate_sha256

    def timestamp(self, data: bytes) -> bytes:
        nonce = new_nonce()
        try:
            response = httpx.post(
                self.url,
                content=build_request(data, nonce=nonce),
                headers={"Content-Type": REQUEST_CONTENT_TYPE, "Accept": REPLY_CONTENT_TYPE},
                timeout=self.timeout,
            )
        except httpx.HTTPError as error:
            raise TimestampError(f"the TSA at {self.url} is unreachable: {error}") from error
        if response.status_code != 200:
            raise TimestampError(f"the TSA at {self.url} answered HTTP {response.status_code}")
        token = parse_response(response.content, data=data, nonce=nonce)
        if self.certificate_sha256:
            check_token(token, data=data, pinned_certificate_sha256=self.certificate_sha256)
        return token


def configured_anchors() -> list[Anchor]:
    anchors: list[Anchor] = []
    for name in settings.LEDGER_ANCHORS:
        if name == "folder":
            anchors.append(FolderAnchor(settings.LEDGER_ANCHOR_DIR))
        elif name == "s3":
            anchors.append(
                S3ObjectLockAnchor(
                    bucket=settings.LEDGER_S3_BUCKET,
                    prefix=settings.LEDGER_S3_PREFIX,
                    retention_days=settings.LEDGER_S3_RETENTION_DAYS,
                )
            )
        else:
            raise ImproperlyConfigured(f"unknown ledger anchor {name!r} (folder, s3)")
    if not anchors:
        raise ImproperlyConfigured("LEDGER_ANCHORS is empty: checkpoints must leave the database")
    return anchors


def configured_timestamper() -> Timestamper | None:
    if not settings.LEDGER_TSA_URL:
        return None
    return Rfc3161Timestamper(
        settings.LEDGER_TSA_URL,
        timeout=settings.LEDGER_TSA_TIMEOUT,
        certificate_sha256=settings.LEDGER_TSA_CERT_SHA256,
    )
