"""Copies of signed checkpoints outside the database.

A database superuser can rewrite tables, triggers and all; what they cannot rewrite is a copy
they cannot reach. Every checkpoint is therefore written, once and never overwritten, to each
configured anchor (``settings.LEDGER_ANCHORS``):

- ``folder`` (implemented): one JSON file per checkpoint under ``LEDGER_ANCHOR_DIR``, made
  read-only, never replaced. Locally a git-ignored folder; in production a mount that the
  database's administrators cannot write (WORM storage, another account's share).
- ``s3``: one object per checkpoint in an S3 bucket with Object Lock in COMPLIANCE mode
  (``LEDGER_S3_BUCKET``, ``LEDGER_S3_PREFIX``, ``LEDGER_S3_RETENTION_DAYS``,
  ``LEDGER_S3_ENDPOINT_URL`` for S3-compatible services), written create-only, and read back
  by version: the original that our write locked, never whatever was put over it.
- RFC 3161 time-stamping (``LEDGER_TSA_URL``, optionally ``LEDGER_TSA_CERT_SHA256`` to pin
  the TSA's certificate): a token from an external TSA over the signed note, added to the
  anchored document as ``rfc3161_token`` (timestamping.py).

An anchor that cannot be written raises: the checkpoint stays un-anchored and the next beat
tries again (verify_archive reports one left un-anchored past LEDGER_ANCHOR_GRACE).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

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

T = TypeVar("T")


class AnchorConflict(RuntimeError):
    """An anchor already holds a different document for the same checkpoint."""


class AnchorUnreadable(RuntimeError):
    """The anchor refused or failed to say what it holds (permissions, the service is down).
    The message says which anchor and what to do; verify_archive reports it as a problem."""


@dataclass(frozen=True)
class LaterWrite:
    """Something written over an anchored copy after the anchoring step wrote it: a new version
    of the same key, or a delete marker. Object Lock keeps the original; this is the trace."""

    written_at: datetime
    delete_marker: bool


@dataclass(frozen=True)
class AnchoredCopy:
    """A checkpoint as one anchor holds it: the document the anchoring step wrote, where it is,
    and what was written over it since (nothing, unless someone tampered with the anchor).
    ``locked`` is False when no version of the key carries our Object Lock retention: then the
    document is the oldest version, and it was not written by the anchoring step."""

    document: dict[str, Any]
    where: str  # the copy itself: a path, or a bucket, key and version id
    place: str  # the anchor in an operator's words: "bucket archive-anchors"
    later_writes: tuple[LaterWrite, ...] = ()
    locked: bool = True


class Anchor(Protocol):
    name: str

    def put(self, document: dict[str, Any]) -> str:
        """Store the document once; the same document again is a no-op, a different one for the
        same checkpoint raises :class:`AnchorConflict`. Returns where it is."""

    def get(self, *, tenant_id: int, time: str, size: int) -> AnchoredCopy | None:
        """The anchored copy of that checkpoint, or None. Raises :class:`AnchorUnreadable`."""

    def latest(self, *, tenant_id: int) -> AnchoredCopy | None:
        """The tenant's most recent anchored checkpoint, or None. Raises
        :class:`AnchorUnreadable`."""


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

    def get(self, *, tenant_id: int, time: str, size: int) -> AnchoredCopy | None:
        path = self._path(tenant_id, time, size)
        return self._copy(path) if path.exists() else None

    def _copy(self, path: Path) -> AnchoredCopy:
        return AnchoredCopy(json.loads(path.read_bytes()), str(path), f"folder {self.root}")

    def latest(self, *, tenant_id: int) -> AnchoredCopy | None:
        folder = self.root / str(tenant_id)
        return self._newest(folder, depth=3)

    def _newest(self, folder: Path, depth: int) -> AnchoredCopy | None:
        if not folder.is_dir():
            return None
        if depth == 0:
            files = sorted(p.name for p in folder.iterdir() if p.suffix == ".json")
            if not files:
                return None
            return self._copy(folder / files[-1])
        for child in sorted((p for p in folder.iterdir() if p.is_dir()), reverse=True):
            found = self._newest(child, depth - 1)
            if found is not None:
                return found
        return None


class S3ObjectLockAnchor:
    """``s3://<bucket>/<prefix><tenant id>/<YYYY>/<MM>/<DD>/<time>-<size>.json``, one object per
    checkpoint, written with Object Lock in COMPLIANCE mode until now + ``retention_days``: not
    even the bucket's root account can delete or overwrite it before then. The bucket must have
    been created with Object Lock enabled (the put fails otherwise). ``If-None-Match: *`` makes
    the write create-only, so a second writer can never replace a document either.

    Object Lock protects versions, not keys: whoever may write the bucket can still put a new
    version over a locked key, or a delete marker, and a plain GET then answers with that. So
    the reader lists the key's versions and reads the original by its version id: the oldest
    version carrying our COMPLIANCE retention. Anything written after it comes back in
    :attr:`AnchoredCopy.later_writes`, for verify_archive to report. Reading needs
    s3:ListBucketVersions, s3:GetObjectVersion and s3:GetObjectRetention (without the last, S3
    leaves out the lock headers and every copy would look unprotected): docs/operations.md.

    ``endpoint_url`` points at an S3-compatible service (and at the fake one in tests);
    credentials come from boto3's usual chain (environment, instance role)."""

    name = "s3"

    def __init__(
        self, *, bucket: str, prefix: str, retention_days: int, endpoint_url: str = ""
    ) -> None:
        if not bucket:
            raise ImproperlyConfigured("LEDGER_ANCHORS includes s3 but LEDGER_S3_BUCKET is empty")
        if retention_days < 1:
            raise ImproperlyConfigured("LEDGER_S3_RETENTION_DAYS must be at least 1")
        self.bucket, self.prefix, self.retention_days = bucket, prefix, retention_days
        self.endpoint_url = endpoint_url or None
        self._client = None

    @property
    def client(self):
        if self._client is None:
            import boto3  # installed with django-storages[s3]; only this anchor needs it
            from botocore.config import Config

            self._client = boto3.client(
                "s3",
                endpoint_url=self.endpoint_url,
                config=Config(
                    retries={"max_attempts": 3, "mode": "standard"},
                    connect_timeout=5,
                    read_timeout=10,
                ),
            )
        return self._client

    def _key(self, tenant_id: int, time: str, size: int) -> str:
        return (
            f"{self.prefix}{tenant_id}/{time[0:4]}/{time[5:7]}/{time[8:10]}/"
            f"{_compact_time(time)}-{size}.json"
        )

    def put(self, document: dict[str, Any]) -> str:
        from botocore.exceptions import ClientError

        key = self._key(document["tenant_id"], document["time"], document["size"])
        data = json.dumps(document, sort_keys=True, indent=2).encode() + b"\n"
        retain_until = datetime.now(UTC) + timedelta(days=self.retention_days)
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType="application/json",
                # S3's integrity header, required with Object Lock: a checksum, not security.
                ContentMD5=base64.b64encode(
                    hashlib.md5(data, usedforsecurity=False).digest()
                ).decode(),
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=retain_until,
                IfNoneMatch="*",
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code not in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise
            existing = self.get(
                tenant_id=document["tenant_id"], time=document["time"], size=document["size"]
            )
            if existing is None or existing.document != document:
                raise AnchorConflict(
                    f"s3://{self.bucket}/{key} already holds a different checkpoint"
                ) from None
        return f"s3://{self.bucket}/{key}"

    def get(self, *, tenant_id: int, time: str, size: int) -> AnchoredCopy | None:
        return self._read(self._key(tenant_id, time, size))

    def _read(self, key: str) -> AnchoredCopy | None:
        versions, markers = self._versions_of(key)
        if not versions:
            return None
        for version in versions:
            answer = self._version(key, version)
            if answer.get("ObjectLockMode") == "COMPLIANCE":
                return self._copy(key, version, answer, versions, markers, locked=True)
        # No version carries our retention, so the anchoring step wrote none of them: the
        # oldest is compared all the same, and the copy is reported as unprotected.
        oldest = versions[0]
        return self._copy(key, oldest, self._version(key, oldest), versions, markers, locked=False)

    def _version(self, key: str, version: dict[str, Any]) -> dict[str, Any]:
        return self._call(
            "read",
            key,
            lambda: self.client.get_object(
                Bucket=self.bucket, Key=key, VersionId=version["VersionId"]
            ),
        )

    def _copy(
        self,
        key: str,
        original: dict[str, Any],
        answer: dict[str, Any],
        versions: list[dict[str, Any]],
        markers: list[dict[str, Any]],
        *,
        locked: bool,
    ) -> AnchoredCopy:
        after = versions.index(original)
        later = [LaterWrite(v["LastModified"], delete_marker=False) for v in versions[after + 1 :]]
        # A delete marker older than the original hid nothing (the key did not exist yet); one
        # from the same second is counted as later: S3's listing times are only that precise.
        later += [
            LaterWrite(m["LastModified"], delete_marker=True)
            for m in markers
            if m["LastModified"] >= original["LastModified"]
        ]
        return AnchoredCopy(
            json.loads(answer["Body"].read()),
            f"s3://{self.bucket}/{key}?versionId={original['VersionId']}",
            f"bucket {self.bucket}",
            later_writes=tuple(sorted(later, key=lambda write: write.written_at)),
            locked=locked,
        )

    def _versions_of(self, key: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The key's versions, oldest first, and its delete markers. Listed with the key as the
        prefix, so entries of longer keys are dropped (exact key only)."""
        versions: list[dict[str, Any]] = []
        markers: list[dict[str, Any]] = []
        for page in self._pages(key, Prefix=key):
            versions += [v for v in page.get("Versions", []) if v["Key"] == key]
            markers += [m for m in page.get("DeleteMarkers", []) if m["Key"] == key]
        # S3 lists a key's versions newest first; the time decides, the listing breaks ties.
        ordered = list(reversed(versions))
        ordered.sort(key=lambda version: version["LastModified"])
        return ordered, markers

    def _pages(self, where: str, **arguments: Any) -> list[dict[str, Any]]:
        paginator = self.client.get_paginator("list_object_versions")
        return self._call(
            "list the versions of",
            where,
            lambda: list(paginator.paginate(Bucket=self.bucket, **arguments)),
        )

    def _call(self, doing: str, where: str, request: Callable[[], T]) -> T:
        """One request to the bucket; a refusal or an unreachable bucket becomes
        :class:`AnchorUnreadable` with words an operator can act on."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return request()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "") or "an error"
            hint = (
                " (the deployment's credentials need s3:ListBucketVersions, s3:GetObjectVersion"
                " and s3:GetObjectRetention on the bucket: see the operations guide)"
                if code in ("AccessDenied", "403", "AllAccessDisabled")
                else ""
            )
            raise AnchorUnreadable(
                f"bucket {self.bucket} refused to {doing} {where} ({code}){hint}"
            ) from error
        except BotoCoreError as error:
            raise AnchorUnreadable(
                f"bucket {self.bucket} could not be reached to {doing} {where}: {error}"
            ) from error

    def latest(self, *, tenant_id: int) -> AnchoredCopy | None:
        # Year, month and day are "folders" (common prefixes): the newest is found by walking
        # down the greatest of each, never by listing a tenant's every checkpoint. Versions are
        # listed, not objects: a delete marker must not hide a checkpoint from the walk.
        return self._newest(f"{self.prefix}{tenant_id}/", depth=3)

    def _newest(self, prefix: str, depth: int) -> AnchoredCopy | None:
        folders: list[str] = []
        keys: set[str] = set()
        for page in self._pages(prefix, Prefix=prefix, Delimiter="/"):
            folders += [entry["Prefix"] for entry in page.get("CommonPrefixes", [])]
            keys |= {entry["Key"] for entry in page.get("Versions", [])}
        if depth == 0:
            newest = sorted(k for k in keys if k.endswith(".json"))
            return self._read(newest[-1]) if newest else None
        for folder in sorted(set(folders), reverse=True):
            found = self._newest(folder, depth - 1)
            if found is not None:
                return found
        return None


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
                    endpoint_url=settings.LEDGER_S3_ENDPOINT_URL,
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
