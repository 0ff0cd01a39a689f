"""The database rows of an export as the plain records its writers read
(:mod:`archive.export.records`), streamed one conversation at a time.

Messages are read in conversation order through a server-side cursor (``iterator``); their
events, attachments, quoted texts and log leaves are fetched per chunk of messages (a few queries
per chunk, never one per message), so memory holds one chunk plus the conversation being built,
whatever the export's size. Every record the export carries (messages, their edits, deletions and
reactions, their stored files) is noted with its leaf of the tenant's Merkle log in a
:class:`ProvenRecords`, from which :mod:`archive.exporting.proofs` writes the inclusion proofs.

Attachments are read from storage lazily, when the writer copies them; the writer checks the
bytes against the SHA-256 and size of the attachment's stored-file record (the leaf of the log),
as downloads do, and refuses a changed file (:func:`archive.export.media.copy_media`).
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import IO

from django.core.files.storage import default_storage
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Lookup, QuerySet
from django.db.models.sql.compiler import SQLCompiler

from compliance_hub.digits import is_digits
from compliance_hub.tenancy.models import Tenant

from ..export import records as export
from ..ledger.canonical import canonical_bytes
from ..ledger.models import LogLeaf
from ..ledger.services import record_rows
from ..models import Attachment, AttachmentFile, Conversation, Message, MessageEvent
from ..thread import details as type_details

CHUNK = 2000
EXPORTED_KINDS = (MessageEvent.Kind.EDIT, MessageEvent.Kind.REVOKE, MessageEvent.Kind.REACTION)
MESSAGE = Message._meta.label_lower
EVENT = MessageEvent._meta.label_lower
STORED_FILE = AttachmentFile._meta.label_lower
TABLES = (MESSAGE, EVENT, STORED_FILE)  # the code of each in ProvenRecords.tables
SYSTEM = export.Participant(
    key="system", display_name="WhatsApp (system notice)", role=export.Role.SYSTEM
)


class NotLogged(RuntimeError):
    """An exported record is not covered by the checkpoint the export proves against."""


@dataclass
class ProvenRecords:
    """The exported records' leaves, compactly (a million records take ~20 MB, not ~300):
    parallel arrays of table code, record id and leaf index; plus each stored file's canonical
    bytes (short, and few: verify.py recomputes their leaf hash)."""

    tree_size: int
    tables: array = field(default_factory=lambda: array("b"))
    ids: array = field(default_factory=lambda: array("q"))
    indexes: array = field(default_factory=lambda: array("q"))
    records: dict[int, str] = field(default_factory=dict)  # stored file id -> canonical text

    def add(self, table: str, record_id: int, leaf_index: int, record: str = "") -> None:
        self.tables.append(TABLES.index(table))
        self.ids.append(record_id)
        self.indexes.append(leaf_index)
        if record:
            self.records[record_id] = record

    def __len__(self) -> int:
        return len(self.ids)


def conversation_slices(
    *, tenant: Tenant, messages: QuerySet[Message], proven: ProvenRecords, chunk_size: int = CHUNK
) -> Iterator[export.ConversationSlice]:
    """The tenant's messages among ``messages`` (scoped here: a queryset naming another tenant's
    rows yields none of them), one :class:`ConversationSlice` per conversation, conversations
    in id order. Run inside the tenant's scope (a transaction: the cursor is server-side)."""
    # Re-selected by id so the caller's ordering, annotations or joins never reach the cursor.
    rows = (
        Message.objects.filter(tenant=tenant, pk__in=messages.order_by().values("pk"))
        .order_by("conversation_id", "whatsapp_timestamp", "id")
        # Never read here: the raw webhook payload (JSON decoded per row) and the flags.
        .defer("raw", "flags")
        .iterator(chunk_size=chunk_size)
    )
    builder = _SliceBuilder(tenant=tenant, proven=proven)
    current: int | None = None
    pending: list[export.Message] = []
    for chunk in _chunks(rows, chunk_size):
        for row, message in builder.messages(chunk):
            if row.conversation_id != current:
                if current is not None:
                    yield builder.slice(current, pending)
                current, pending = row.conversation_id, []
            pending.append(message)
    if current is not None:
        yield builder.slice(current, pending)


class _AnyOf(Lookup):
    """``column = ANY(%s)`` with the values as one array parameter: the same rows as ``__in``,
    without Django preparing and placing each of a chunk's 2,000 values as a parameter of its
    own (5% of an export's CPU by py-spy of bench/export.py, 2026-12-07). PostgreSQL reads
    ``IN (...)`` as this very ``= ANY(ARRAY[...])`` (EXPLAIN shows both so). Used as a filter
    expression, not registered; the list must not be empty (no element type to infer)."""

    lookup_name = "any_of"
    prepare_rhs = False  # the list goes to the driver as it is

    def as_sql(  # type: ignore[override]  # a list among the parameters: the stubs say str | int
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[object, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, list(self.rhs))


def _chunks(rows: Iterable[Message], size: int) -> Iterator[list[Message]]:
    chunk: list[Message] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def employee_key(employee_id: int) -> str:
    return f"employee:{employee_id}"


def counterparty_key(conversation: Conversation) -> str:
    return f"wa:{conversation.counterparty_key}"


class _SliceBuilder:
    def __init__(self, *, tenant: Tenant, proven: ProvenRecords) -> None:
        self.tenant = tenant
        self.proven = proven
        self.conversations: dict[int, Conversation] = {}

    def messages(self, chunk: list[Message]) -> Iterator[tuple[Message, export.Message]]:
        ids = [row.pk for row in chunk]
        wamids = [row.wamid for row in chunk]
        self._load_conversations({row.conversation_id for row in chunk})
        events: dict[str, list[MessageEvent]] = defaultdict(list)
        for event in (
            MessageEvent.objects.filter(
                _AnyOf(F("target_wamid"), wamids), tenant=self.tenant, kind__in=EXPORTED_KINDS
            )
            .defer("raw")
            .order_by("whatsapp_timestamp", "id")
        ):
            found = events[event.target_wamid]
            # WhatsApp may repeat a revoke: the first is the deletion, the rest are not exported.
            if event.kind != MessageEvent.Kind.REVOKE or all(
                e.kind != MessageEvent.Kind.REVOKE for e in found
            ):
                found.append(event)
        attachments: dict[int, list[Attachment]] = defaultdict(list)
        for attachment in (
            Attachment.objects.filter(_AnyOf(F("message_id"), ids), tenant=self.tenant)
            .select_related("stored_file")
            .order_by("id")
        ):
            attachments[attachment.message_id].append(attachment)
        quoted = self._quoted_texts(chunk)
        event_ids = [e.pk for found in events.values() for e in found]
        files = [a.stored_file for found in attachments.values() for a in found if _stored(a)]
        leaves = self._leaves(ids, event_ids, [f.pk for f in files])
        canonical = self._canonical_files([f.pk for f in files])
        for row in chunk:
            leaf = self._prove(leaves, MESSAGE, row.pk, label=row.wamid)
            for event in events.get(row.wamid, ()):
                self._prove(leaves, EVENT, event.pk)
            for attachment in attachments.get(row.pk, ()):
                if _stored(attachment):
                    file_id = attachment.stored_file.pk
                    self._prove(leaves, STORED_FILE, file_id, label=canonical[file_id])
            yield row, self._message(row, leaf, events.get(row.wamid, []),
                                     attachments.get(row.pk, []), quoted)  # fmt: skip

    def _prove(
        self, leaves: dict[tuple[str, int], tuple[int, bytes]], table: str, pk: int, label: str = ""
    ) -> bytes:
        found = leaves.get((table, pk))
        if found is None or found[0] >= self.proven.tree_size:
            what = {MESSAGE: "message", EVENT: "event", STORED_FILE: "stored file"}[table]
            raise NotLogged(
                f"The {what} {label or pk} is not in the signed log yet (it arrived after the "
                "export's checkpoint). Export again in a minute."
            )
        self.proven.add(table, pk, found[0], label if table == STORED_FILE else "")
        return found[1]

    def _leaves(
        self, message_ids: list[int], event_ids: list[int], file_ids: list[int]
    ) -> dict[tuple[str, int], tuple[int, bytes]]:
        found: dict[tuple[str, int], tuple[int, bytes]] = {}
        for table, ids in ((MESSAGE, message_ids), (EVENT, event_ids), (STORED_FILE, file_ids)):
            if not ids:
                continue
            for record_id, index, leaf_hash in LogLeaf.objects.filter(
                _AnyOf(F("record_id"), ids), tenant=self.tenant, record_table=table
            ).values_list("record_id", "leaf_index", "leaf_hash"):
                found[(table, record_id)] = (index, bytes(leaf_hash))
        return found

    def _canonical_files(self, file_ids: list[int]) -> dict[int, str]:
        if not file_ids:
            return {}
        files = AttachmentFile.objects.filter(tenant=self.tenant, pk__in=file_ids)
        rows = record_rows(STORED_FILE, files)
        return {
            row["pk"]: canonical_bytes(
                tenant_id=self.tenant.pk, table=STORED_FILE, record_id=row["pk"], values=row
            ).decode("utf-8")
            for row in rows
        }

    def _quoted_texts(self, chunk: list[Message]) -> dict[str, str]:
        texts = {row.wamid: row.text for row in chunk}
        wanted = {_reply_to(row) for row in chunk} - set(texts) - {""}
        if wanted:
            texts.update(
                Message.objects.filter(tenant=self.tenant, wamid__in=wanted).values_list(
                    "wamid", "text"
                )
            )
        return texts

    def _load_conversations(self, ids: set[int]) -> None:
        missing = ids - set(self.conversations)
        if missing:
            for conversation in Conversation.objects.filter(
                tenant=self.tenant, pk__in=missing
            ).select_related("employee"):
                self.conversations[conversation.pk] = conversation

    def _message(
        self,
        row: Message,
        leaf_hash: bytes,
        events: list[MessageEvent],
        attachments: list[Attachment],
        quoted: dict[str, str],
    ) -> export.Message:
        conversation = self.conversations[row.conversation_id]
        client, employee = counterparty_key(conversation), employee_key(row.employee_id)
        sender = "system" if row.type == "system" else (
            client if row.direction == "inbound" else employee
        )  # fmt: skip

        def actor(event: MessageEvent) -> str:
            if event.direction == "inbound":
                return client
            if event.direction == "outbound":
                return employee
            return sender

        edits, reactions, deletion = [], [], None
        for event in events:
            at = event.whatsapp_timestamp
            if event.kind == MessageEvent.Kind.EDIT:
                new = (event.payload or {}).get("message") or {}
                edits.append(export.Edit(at=at, by=actor(event), new_text=str(new.get("text", ""))))
            elif event.kind == MessageEvent.Kind.REACTION:
                emoji = str((event.payload or {}).get("emoji") or "")
                reactions.append(export.Reaction(at=at, by=actor(event), emoji=emoji))
            else:  # the revoke (only the first is fetched)
                deletion = export.Deletion(at=at, by=actor(event))
        reply_to = _reply_to(row)
        details = [*type_details(row.type, row.structured or {})]
        details.append(("Archived at", export.utc_text(row.received_at)))
        return export.Message(
            message_id=row.wamid,
            type=row.type,
            sender=sender,
            direction=export.Direction(row.direction),
            sent_at=row.whatsapp_timestamp,
            text=row.text,
            attachments=tuple(_attachment(a) for a in attachments),
            quote=export.Quote(reply_to, quoted.get(reply_to, "")) if reply_to else None,
            edits=tuple(edits),
            reactions=tuple(reactions),
            deletion=deletion,
            forwarded=bool((row.context or {}).get("forwarded")),
            record_hash=leaf_hash.hex(),
            details=tuple(details),
        )

    def slice(
        self, conversation_id: int, messages: list[export.Message]
    ) -> export.ConversationSlice:
        row = self.conversations[conversation_id]
        employee = row.employee
        custodian = export.Participant(
            key=employee_key(employee.pk),
            display_name=employee.full_name,
            role=export.Role.EMPLOYEE,
            phone=employee.phone_number,
            wa_id=employee.phone_number.lstrip("+"),
            email=employee.email,
        )
        wa_id = row.counterparty_wa_id
        client = export.Participant(
            key=counterparty_key(row),
            display_name=row.counterparty_name or row.counterparty_username or wa_id
            or row.counterparty_key,
            role=export.Role.COUNTERPARTY,
            phone=f"+{wa_id}" if is_digits(wa_id) else "",
            wa_id=wa_id or row.counterparty_user_id,
        )  # fmt: skip
        others = (client, SYSTEM) if any(m.sender == "system" for m in messages) else (client,)
        conversation = export.Conversation(
            conversation_id=str(row.pk),
            tenant=self.tenant.slug,
            title=f"{client.display_name} and {employee.full_name}",
            kind=export.ConversationKind.DIRECT,
            custodian=custodian,
            others=others,
            chat_id=wa_id or row.counterparty_key,
        )
        return export.ConversationSlice(conversation=conversation, messages=tuple(messages))


def _stored(attachment: Attachment) -> bool:
    return (
        attachment.status == Attachment.Status.STORED
        and getattr(attachment, "stored_file", None) is not None
    )


def _reply_to(row: Message) -> str:
    return str(((row.context or {}).get("reply_to") or {}).get("id") or "")


def _open_stored(storage_name: str) -> IO[bytes]:
    opened: IO[bytes] = default_storage.open(storage_name, "rb")
    return opened


def _attachment(row: Attachment) -> export.Attachment:
    if _stored(row):
        proof = row.stored_file
        return export.Attachment(
            file_name=row.filename,
            mime_type=row.mime_type or proof.mime_type,
            size=proof.size,
            sha256=proof.sha256,
            open=partial(_open_stored, proof.storage_name),
        )
    # Never captured (expired at Meta, failed): named as missing, no bytes invented.
    return export.Attachment(
        file_name=row.filename, mime_type=row.mime_type, size=row.size or 0, sha256=row.sha256
    )
