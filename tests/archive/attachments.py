"""Messages carrying a stored (or pending) attachment, for the download and preview tests."""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import replace

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from archive.models import Attachment
from archive.services import add_attachments, archive_messages, mark_attachment_stored
from compliance_hub.tenancy.context import tenant_scope
from tests.archive.ledger_helpers import message_record


def attachment(
    tenant,
    employee,
    n: int,
    *,
    content: bytes | None,
    mime: str,
    filename: str,
    message_type: str = "document",
) -> Attachment:
    """A message of ``employee`` of ``message_type`` carrying a file; stored with ``content``
    unless None (then it stays pending, as if not fetched yet)."""
    record = replace(
        message_record(employee, n),
        type=message_type,
        structured={"media": {"id": f"media-{n}", "mime_type": mime, "sha256": "x",
                              "filename": filename}},
    )  # fmt: skip
    with tenant_scope(tenant):
        archive_messages(tenant=tenant, records=[record])
        [pending] = add_attachments(tenant=tenant, wamids=[record.wamid])
        Attachment.objects.filter(pk=pending).update(mime_type=mime, filename=filename)
    if content is not None:
        sha = hashlib.sha256(content).hexdigest()
        name = default_storage.save(
            f"attachments/{tenant.pk}/{sha[:2]}/{sha}", ContentFile(content)
        )
        mark_attachment_stored(
            tenant=tenant, attachment_id=pending, storage_name=name, sha256=sha,
            size=len(content), mime_type=mime,
        )  # fmt: skip
    with tenant_scope(tenant):
        return Attachment.objects.get(pk=pending)


def png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG of ``width`` x ``height`` grey pixels (one a browser decodes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )
