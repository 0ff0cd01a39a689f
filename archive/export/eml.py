"""EML: one e-mail per conversation per UTC day, the way chat is journaled into e-mail archives
(Microsoft Purview's third-party connectors, Global Relay, Smarsh), so tools that only read
mail still load it.

Headers, following what those archives use:

- ``From`` the employee (the custodian: archives file the item in that mailbox), ``To`` the
  client(s); ``Date`` the first message's time; a ``Subject`` in the exporters' convention
  "WhatsApp, N Users, N Messages, N Minutes" followed by the chat's name and day;
- ``X-GlobalRelay-MsgType: WhatsApp`` (Global Relay files the item by it);
- ``X-WhatsApp-ChatID`` / ``ChatName`` / ``ChatType``, as Mattermost's compliance export writes
  ``X-Mattermost-Channel*``; ``Auto-Submitted: auto-generated`` and ``Precedence: bulk`` so no
  mail system replies to it;
- ``X-ComplianceHub-*``: tenant, conversation, custodian, day, counts, first/last times.

The body is ``multipart/alternative`` (the plain transcript, and the HTML transcript whose media
point at the attached parts by ``cid:``), then each captured media file once, under its original
name. Deterministic: boundaries and the Message-ID derive from the content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import UTC, date
from email.message import EmailMessage
from email.utils import format_datetime

from . import mailpolicy, plain, transcript
from .media import distinct_media, media_name, read_media
from .names import collection_id, file_stem, mail_address, one_line
from .records import (
    Attachment,
    Conversation,
    ConversationSlice,
    ExportFile,
    Message,
    Role,
    utc_text,
)

# Raw UTF-8 headers (RFC 6532), written unfolded: names and subjects read back exactly. RFC 2047
# encoded words were tried and read back with a stray space next to the "↔" of a chat name.
POLICY, HEADER_POLICY = mailpolicy.POLICY, mailpolicy.HEADER_POLICY


def eml_files(selection: ConversationSlice, *, generator: str) -> Iterator[ExportFile]:
    """One ``.eml`` per UTC day of the conversation."""
    for day, messages in selection.days():
        yield ExportFile(
            name=f"{file_stem(selection.conversation)}_{day.isoformat()}.eml",
            content=eml_document(selection.conversation, messages, day=day, generator=generator),
        )


def eml_document(
    conversation: Conversation, messages: Sequence[Message], *, day: date, generator: str
) -> bytes:
    if not messages:
        raise ValueError("an e-mail needs at least one message")
    first = min(m.sent_at for m in messages)
    last = max(m.sent_at for m in messages)
    people = {p.key for p in conversation.participants if p.role is not Role.SYSTEM}
    senders = {m.sender for m in messages} & people
    minutes = max(1, round((last - first).total_seconds() / 60))
    text = plain.transcript(conversation, messages, heading=day.isoformat())
    html = transcript.render(conversation, messages, media_link=_cid)
    files = distinct_media(messages)

    headers: list[tuple[str, object]] = [
        ("From", mail_address(conversation.custodian)),
        (
            "To",
            [mail_address(p) for p in conversation.others]
            or [mail_address(conversation.custodian)],
        ),
        (
            "Subject",
            f"WhatsApp, {len(senders)} Users, {len(messages)} Messages, {minutes} Minutes:"
            f" {one_line(conversation.title)} ({day.isoformat()})",
        ),
        ("Date", format_datetime(first.astimezone(UTC))),
    ]
    key = f"eml|{collection_id(conversation)}|{day.isoformat()}"
    headers += [
        (
            "Message-ID",
            f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@eml.compliance-hub.invalid>",
        ),
        ("Auto-Submitted", "auto-generated"),
        ("Precedence", "bulk"),
        ("X-GlobalRelay-MsgType", "WhatsApp"),
        ("X-WhatsApp-ChatID", one_line(conversation.chat_id) or conversation.conversation_id),
        ("X-WhatsApp-ChatName", one_line(conversation.title) or "WhatsApp chat"),
        ("X-WhatsApp-ChatType", conversation.kind.value),
        ("X-ComplianceHub-Tenant", conversation.tenant),
        ("X-ComplianceHub-ConversationID", conversation.conversation_id),
        ("X-ComplianceHub-Custodian", one_line(conversation.custodian.display_name)),
        ("X-ComplianceHub-Day", day.isoformat()),
        ("X-ComplianceHub-MessageCount", str(len(messages))),
        ("X-ComplianceHub-AttachmentCount", str(len(files))),
        ("X-ComplianceHub-BeginDate", utc_text(first)),
        ("X-ComplianceHub-EndDate", utc_text(last)),
        ("X-ComplianceHub-Generator", one_line(generator)),
    ]
    seed = text + html + "".join(name for name, _ in files)
    if not files:  # the common case, written directly (attachments: the email package)
        return alternative_document(headers, text, html, _boundary(seed, 0))
    mail = EmailMessage(policy=POLICY)
    for name, value in headers:
        mail[name] = value
    mail.set_content(text, charset="utf-8", cte="quoted-printable")
    mail.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    for name, attachment in files:
        maintype, _, subtype = (attachment.mime_type.split(";", 1)[0].strip() or "/").partition("/")
        if not maintype or not subtype:
            maintype, subtype = "application", "octet-stream"
        mail.add_attachment(
            read_media(attachment),
            maintype=maintype,
            subtype=subtype,
            filename=attachment.file_name or name,
            cid=f"<{name}>",
        )
    _set_boundaries(mail, seed=seed)
    return mail.as_bytes(policy=HEADER_POLICY)


def alternative_document(
    headers: Sequence[tuple[str, object]], text: str, html: str, boundary: str
) -> bytes:
    """An e-mail without attachments: ``headers``, then a multipart/alternative of the plain
    and the HTML transcripts in quoted-printable, written directly; the same bytes as the
    ``email`` package's generator writes (:func:`alternative_document_by_email`, compared on
    awkward input by tests/archive/test_export_eml_direct.py), at a fraction of its cost.
    Headers are still parsed and folded by the ``email`` policy (cached: .mailpolicy)."""
    nl = b"\r\n"
    dash = f"--{boundary}".encode("ascii")
    out = [mailpolicy.header_bytes(name, value) for name, value in headers]
    out += [
        b"MIME-Version: 1.0\r\n",
        mailpolicy.header_bytes("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
        nl, dash, nl,
        b'Content-Type: text/plain; charset="utf-8"\r\n',
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        nl, mailpolicy.quoted_printable(text),
        nl, dash, nl,
        b'Content-Type: text/html; charset="utf-8"\r\n',
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"MIME-Version: 1.0\r\n",
        nl, mailpolicy.quoted_printable(html),
        nl, dash, b"--", nl,
    ]  # fmt: skip
    return b"".join(out)


def alternative_document_by_email(
    headers: Sequence[tuple[str, object]], text: str, html: str, boundary: str
) -> bytes:
    """:func:`alternative_document` by the ``email`` package: the reference it is tested
    against."""
    mail = EmailMessage(policy=POLICY)
    for name, value in headers:
        mail[name] = value
    mail.set_content(text, charset="utf-8", cte="quoted-printable")
    mail.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    mail.set_boundary(boundary)
    return mail.as_bytes(policy=HEADER_POLICY)


def _boundary(seed: str, number: int) -> str:
    digest = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]
    boundary = f"eml-{digest}-{number}"
    while boundary in seed:
        boundary += "x"
    return boundary


def _cid(attachment: Attachment) -> str:
    return f"cid:{media_name(attachment)}"


def _set_boundaries(mail: EmailMessage, *, seed: str) -> None:
    """A boundary per multipart derived from the content; never one the text itself contains
    (attachments are base64 and the texts quoted-printable, which cannot hold ``-``-runs like
    these, but a plain text could quote one)."""
    for number, part in enumerate(p for p in mail.walk() if p.is_multipart()):
        part.set_boundary(_boundary(seed, number))
