"""Names and bytes of exported media: one content-addressed name per file, shared by every
format (the RSMF zip, the e-mail attachments, the HTML links, the bag's media folder), and a copy
that checks the bytes against the archived SHA-256 on the way out."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable
from typing import IO

from .records import Attachment, Message, RecordError

# A fixed table, not ``mimetypes``: that module reads the machine's /etc/mime.types, so the same
# export could name a file differently on two machines (determinism). These are the types
# WhatsApp sends.
EXTENSIONS = {
    "application/msword": ".doc",
    "application/pdf": ".pdf",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "audio/aac": ".aac",
    "audio/amr": ".amr",
    "audio/mp4": ".m4a",
    "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "text/plain": ".txt",
    "text/vcard": ".vcf",
    "video/3gpp": ".3gp",
    "video/mp4": ".mp4",
}
_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}\Z")
CHUNK = 1 << 20


def media_name(attachment: Attachment) -> str:
    """``<sha256><.ext>``: unique per content, safe in any zip or file system, and keeps an
    extension so viewers know the type (RSMF shows .png/.jpg/.gif inline)."""
    suffix = _SAFE_SUFFIX.search(attachment.file_name)
    if suffix:
        extension = suffix.group(0).lower()
    else:
        mime = attachment.mime_type.split(";", 1)[0].strip().lower()
        extension = EXTENSIONS.get(mime, ".bin")
    return attachment.sha256.lower() + extension


def copy_media(attachment: Attachment, out: IO[bytes]) -> int:
    """Stream the attachment's bytes into ``out``; raise :class:`RecordError` when they are not
    the archived bytes (a changed or truncated file must never be exported as if it were the
    record). Returns the number of bytes copied."""
    if attachment.open is None:
        raise RecordError(f"attachment {attachment.file_name!r} was never captured")
    digest = hashlib.sha256()
    copied = 0
    with attachment.open() as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            copied += len(chunk)
    if digest.hexdigest() != attachment.sha256.lower() or copied != attachment.size:
        raise RecordError(
            f"attachment {attachment.file_name!r}: the stored bytes do not match the archive"
        )
    return copied


def read_media(attachment: Attachment) -> bytes:
    """The attachment's verified bytes (for formats that embed them, like e-mail)."""
    buffer = io.BytesIO()
    copy_media(attachment, buffer)
    return buffer.getvalue()


def distinct_media(messages: Iterable[Message]) -> list[tuple[str, Attachment]]:
    """Each captured attachment once, by content-addressed name, sorted by name: the same photo
    sent twice is one file that both messages name."""
    files: dict[str, Attachment] = {}
    for message in messages:
        for attachment in message.attachments:
            if attachment.captured:
                files.setdefault(media_name(attachment), attachment)
    return sorted(files.items())
