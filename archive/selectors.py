"""Reads of the archive: conversations and messages with what happened to them.

Every function takes ``tenant=`` and returns rows of that tenant only. Reading content is a
human act the audit trail must hold: callers that show content record it (archive/api.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.core.files.storage import default_storage
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from compliance_hub.tenancy.models import Tenant
from compliance_hub.tenancy.roles import READER_ROLES

from .ledger.models import LogLeaf
from .media_kinds import HEAD_SIZE, Preview, sniff
from .models import Attachment, Conversation, Message, MessageEvent

# Who may read the archive's content, through the API and the pages alike.
READ_ROLES = READER_ROLES


class OriginalFields(TypedDict):
    """What :func:`message_events` annotates on each event."""

    message_id: int | None
    original_seen: bool


if TYPE_CHECKING:
    # For the type checker only (the alias does not subscript at run time on Python 3.11).
    from django_stubs_ext import WithAnnotations

    EventWithOriginal = WithAnnotations[MessageEvent, OriginalFields]

# How an event kind is named to readers: a revoke is what people call a deletion.
EVENT_NAMES = {
    MessageEvent.Kind.EDIT: "edit",
    MessageEvent.Kind.REVOKE: "delete",
    MessageEvent.Kind.REACTION: "reaction",
    MessageEvent.Kind.STATUS: "status",
}


def counterparty_q(value: str, *, prefix: str = "") -> Q:
    """The client named by ``value``: their wa_id (phone number as WhatsApp gives it), their
    business-scoped user id (BSUID), or part of their profile name or username."""
    value = value.strip()
    digits = value.lstrip("+")
    return (
        Q(**{f"{prefix}counterparty_wa_id": digits})
        | Q(**{f"{prefix}counterparty_user_id": value})
        | Q(**{f"{prefix}counterparty_key": value})
        | Q(**{f"{prefix}counterparty_name__icontains": value})
        | Q(**{f"{prefix}counterparty_username__iexact": value})
    )


def message_conditions(
    *,
    direction: str = "",
    type: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    whatsapp_id: str = "",
    prefix: str = "",
) -> Q:
    """Conditions on a message (``since`` inclusive, ``until`` exclusive, WhatsApp's time)."""
    condition = Q()
    if direction:
        condition &= Q(**{f"{prefix}direction": direction})
    if type:
        condition &= Q(**{f"{prefix}type": type})
    if since is not None:
        condition &= Q(**{f"{prefix}whatsapp_timestamp__gte": since})
    if until is not None:
        condition &= Q(**{f"{prefix}whatsapp_timestamp__lt": until})
    if whatsapp_id:
        condition &= Q(**{f"{prefix}wamid": whatsapp_id})
    return condition


def messages(*, tenant: Tenant) -> QuerySet[Message]:
    """The tenant's messages, oldest first by WhatsApp's time, with their conversation and
    attachments loaded (two queries for any page). Events: :func:`events_by_target`."""
    return (
        Message.objects.filter(tenant=tenant)
        .select_related("conversation")
        .prefetch_related(
            Prefetch(
                "attachments",
                queryset=Attachment.objects.filter(tenant=tenant)
                .select_related("stored_file")
                .order_by("id"),
            )
        )
        .order_by("whatsapp_timestamp", "id")
    )


def events_by_target(*, tenant: Tenant, wamids: Iterable[str]) -> dict[str, list[MessageEvent]]:
    """The edits, deletions, reactions and statuses of these messages, in one query, in the
    order they happened. Linked by WhatsApp id, since an event may have come before its
    message."""
    wamids = list(dict.fromkeys(wamids))
    grouped: dict[str, list[MessageEvent]] = defaultdict(list)
    if not wamids:
        return grouped
    for event in MessageEvent.objects.filter(tenant=tenant, target_wamid__in=wamids).order_by(
        "whatsapp_timestamp", "id"
    ):
        grouped[event.target_wamid].append(event)
    return grouped


def message_events(*, tenant: Tenant) -> QuerySet[EventWithOriginal]:
    """The tenant's edits, deletions, reactions and statuses, oldest first by WhatsApp's time,
    each with ``message_id`` and ``original_seen``: whether the message it changes is in the
    archive. Meta guarantees no order, so an event may come first and its message later; one
    whose message never comes (sent before capture began, or lost upstream) is kept all the
    same, and this is how a reader finds it."""
    return (
        MessageEvent.objects.filter(tenant=tenant)
        .annotate(
            message_id=Subquery(
                Message.objects.filter(tenant=tenant, wamid=OuterRef("target_wamid")).values("pk")[
                    :1
                ]
            ),
            original_seen=ExpressionWrapper(
                Q(message_id__isnull=False), output_field=BooleanField()
            ),
        )
        .order_by("whatsapp_timestamp", "id")
    )


def unseen_originals(*, tenant: Tenant, received_before: datetime) -> int:
    """How many edits and deletions (received before ``received_before``: the others may still
    see their message arrive) change a message the archive does not hold."""
    return (
        message_events(tenant=tenant)
        .filter(
            kind__in=[MessageEvent.Kind.EDIT, MessageEvent.Kind.REVOKE],
            received_at__lt=received_before,
            original_seen=False,
        )
        .count()
    )


def conversations(*, tenant: Tenant) -> QuerySet[Conversation]:
    """The tenant's conversations, newest first, with how many messages each holds and when
    the last one was sent."""
    thread = Message.objects.filter(tenant=tenant, conversation=OuterRef("pk"))
    count = thread.order_by().values("conversation").annotate(n=Count("pk")).values("n")
    last = thread.order_by("-whatsapp_timestamp").values("whatsapp_timestamp")[:1]
    return (
        Conversation.objects.filter(tenant=tenant)
        .select_related("employee")
        .annotate(message_count=Coalesce(Subquery(count[:1]), 0), last_message_at=Subquery(last))
        .order_by("-started_at", "-id")
    )


def holding_a_message(
    rows: QuerySet[Conversation], *, tenant: Tenant, condition: Q
) -> QuerySet[Conversation]:
    """Only the conversations of ``rows`` holding at least one message that matches
    ``condition`` (see :func:`message_conditions`)."""
    thread = Message.objects.filter(tenant=tenant, conversation=OuterRef("pk"))
    return rows.filter(Exists(thread.filter(condition)))


def conversation_list(
    *,
    tenant: Tenant,
    employee_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Conversation]:
    """The archive page's conversations: the most recently active first, those of one employee
    and those with a message in [``since``, ``until``) when asked."""
    rows = conversations(tenant=tenant)
    if employee_id is not None:
        rows = rows.filter(employee_id=employee_id)
    condition = message_conditions(since=since, until=until)
    if condition:
        rows = holding_a_message(rows, tenant=tenant, condition=condition)
    return rows.order_by(F("last_message_at").desc(nulls_last=True), "-id")


def conversation_messages(*, tenant: Tenant, conversation: Conversation) -> list[Message]:
    """Every message of one conversation, oldest first, each with ``archive_events`` (its edits,
    deletions, reactions and statuses, in order) and ``log_index`` (its leaf in the tenant's
    Merkle log, ``None`` while it waits for one): four queries whatever the length."""
    rows = list(messages(tenant=tenant).filter(conversation=conversation))
    grouped = events_by_target(tenant=tenant, wamids=[row.wamid for row in rows])
    leaves = dict(
        LogLeaf.objects.filter(
            tenant=tenant,
            record_table=Message._meta.label_lower,
            record_id__in=[row.pk for row in rows],
        ).values_list("record_id", "leaf_index")
    )
    for row in rows:
        row.archive_events = grouped.get(row.wamid, [])  # type: ignore[attr-defined]
        row.log_index = leaves.get(row.pk)  # type: ignore[attr-defined]
    return rows


def preview_kinds(attachments: Iterable[Attachment]) -> dict[int, Preview]:
    """How the page may show each stored attachment, by the first bytes of its stored file (never
    the declared type): the ones missing here are shown as their name and a download. Reads only
    a file's head, unverified: this picks an element, and the preview itself is served through
    the verified read (:func:`archive.services.preview_attachment`), which decides again."""
    shown: dict[int, Preview] = {}
    for attachment in attachments:
        proof = getattr(attachment, "stored_file", None)
        if attachment.status != Attachment.Status.STORED or proof is None:
            continue
        try:
            with default_storage.open(proof.storage_name, "rb") as stored:
                head = stored.read(HEAD_SIZE)
        except (OSError, ValueError):
            continue  # a file that cannot be read is offered as a download, which says why
        if (preview := sniff(head)) is not None:
            shown[attachment.pk] = preview
    return shown


def attachment_conversation(*, tenant: Tenant, attachment_id: int) -> int | None:
    """The conversation an attachment belongs to (None: no such attachment of this firm); what
    the pseudonymised-review wall asks before a download."""
    return (
        Attachment.objects.filter(tenant=tenant, pk=attachment_id)
        .values_list("message__conversation_id", flat=True)
        .first()
    )
