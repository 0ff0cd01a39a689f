"""``/api/v1/conversations/``, ``/api/v1/messages/`` and ``/api/v1/message-events/``: the
archive, read-only, for officers, auditors and admins (``/api/v1/messages/{id}/versions/``: one
message's original, every later version and its audit trail); ``/api/v1/ledger/checkpoints/``: a
checkpoint of the archive's log signed on request, for auditors and admins;
``/api/v1/saved-searches/``: named, versioned searches of the tenant's reviewers;
``/api/v1/attachments/{id}/download/``: a stored attachment's bytes, checked against their
recorded SHA-256 first, as a file to save (``archive.download`` in the audit trail).

``/api/v1/messages/?q=...`` (or with a search-only filter) is a search (archive/search/): newest
first or by relevance, an exact count, escaped snippets and signed page links.

Every request that reads content leaves one event in the audit trail, naming the endpoint, the
filters and the ids it returned (one event per request, not per message): ``archive.search``
for a search (with its query and exact count), ``archive.read`` for everything else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import django_filters
from django.http import QueryDict
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from compliance_hub.api.base import TenantViewSet
from compliance_hub.api.errors import Conflict, InvalidSearch
from compliance_hub.api.filters import BooleanFilter, IdFilter, TimeFilter
from compliance_hub.api.pagination import StrictCursorPagination
from compliance_hub.api.permissions import BehindTheWall, HasTenantRole, request_wall
from compliance_hub.api.responses import INVALID, NOT_FOUND, error_response
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Role, Tenant
from compliance_hub.tenancy.walls import REFUSAL

from . import services
from .downloads import attachment_response
from .history import message_history
from .ledger.canonical import timestamp
from .ledger.models import LogCheckpoint
from .ledger.services import LogIntegrityError, cut_checkpoint
from .models import Attachment, Conversation, Direction, Message, MessageEvent
from .search.cursors import open_cursor, seal_cursor
from .search.models import SavedSearch
from .search.query import MAX_QUERY_LENGTH, QueryError
from .search.selectors import MAX_PAGE_SIZE, search_messages
from .search.services import (
    SEARCH_FILTERS,
    NotYourSavedSearch,
    SavedSearchError,
    create_saved_search,
    delete_saved_search,
    record_search,
    update_saved_search,
)
from .selectors import (
    EVENT_NAMES,
    READ_ROLES,
    attachment_conversation,
    conversations,
    counterparty_q,
    events_by_target,
    holding_a_message,
    message_conditions,
    message_events,
    messages,
)

INVALID_FILTER = error_response("A filter is not valid")
NOT_YOURS = error_response("Only the person who saved it, or an admin, may change it")
# Query parameters that page through results rather than choose them.
PAGING_PARAMS = {"cursor", "page", "page_size"}


# --- output serializers ------------------------------------------------------------------------


class CounterpartySerializer(serializers.Serializer):
    key = serializers.CharField(
        source="counterparty_key", help_text="The BSUID when Meta sent one, else the wa_id"
    )
    wa_id = serializers.CharField(
        source="counterparty_wa_id", help_text="WhatsApp id (usually the phone number)"
    )
    user_id = serializers.CharField(
        source="counterparty_user_id", help_text="Business-scoped user id (BSUID), since 2026"
    )
    name = serializers.CharField(source="counterparty_name", help_text="WhatsApp profile name")
    username = serializers.CharField(source="counterparty_username")


class ConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    employee = serializers.IntegerField(source="employee_id", help_text="Employee id")
    employee_name = serializers.CharField(source="employee.full_name")
    business_phone_number_id = serializers.CharField(
        help_text="The employee's WhatsApp phone number id (Meta's metadata.phone_number_id)"
    )
    business_display_number = serializers.CharField()
    counterparty = CounterpartySerializer(source="*")
    started_at = serializers.DateTimeField(help_text="WhatsApp's time of the first message")
    message_count = serializers.IntegerField()
    last_message_at = serializers.DateTimeField(allow_null=True)


class MessageEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.SerializerMethodField(help_text="edit, delete, reaction or status")
    direction = serializers.CharField(help_text="inbound, outbound, or empty")
    timestamp = serializers.DateTimeField(source="whatsapp_timestamp", help_text="WhatsApp's time")
    received_at = serializers.DateTimeField()
    payload = serializers.JSONField(
        help_text="edit: the new message; reaction: emoji (empty or absent when removed); "
        "status: status, recipient and errors"
    )

    def get_kind(self, event) -> str:
        return EVENT_NAMES.get(event.kind, event.kind)


class StandaloneEventSerializer(MessageEventSerializer):
    """An event listed on its own: what it changes, and whether that message is archived."""

    target_whatsapp_id = serializers.CharField(
        source="target_wamid", help_text="The wamid of the message it changes"
    )
    message = serializers.IntegerField(
        source="message_id", allow_null=True, help_text="That message's id; null if never seen"
    )
    original_seen = serializers.BooleanField(
        help_text="false: the message it changes is not in the archive (sent before capture "
        "began, or not delivered to us yet): the event is kept all the same"
    )


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    mime_type = serializers.CharField()
    filename = serializers.CharField()
    sha256 = serializers.CharField(help_text="SHA-256 of the stored bytes; empty until stored")
    size = serializers.IntegerField(allow_null=True, help_text="Bytes; null until stored")
    status = serializers.CharField(
        help_text="pending, stored, missing or failed; once stored, the bytes are at "
        "/api/v1/attachments/{id}/download/"
    )


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    whatsapp_id = serializers.CharField(source="wamid", help_text="WhatsApp's message id (wamid)")
    direction = serializers.ChoiceField(choices=Direction.choices)
    type = serializers.CharField(help_text="Meta's type name: text, image, reaction, ...")
    text = serializers.CharField(help_text="The text body, or the caption of media")
    timestamp = serializers.DateTimeField(source="whatsapp_timestamp", help_text="WhatsApp's time")
    received_at = serializers.DateTimeField(help_text="When we received it")
    employee = serializers.IntegerField(source="employee_id")
    conversation = serializers.IntegerField(source="conversation_id")
    counterparty = CounterpartySerializer(source="conversation")
    is_history = serializers.BooleanField(help_text="Back-filled from before onboarding")
    flags = serializers.ListField(child=serializers.CharField())
    # A field named like Field.context: SerializerMetaclass moves declared fields into
    # _declared_fields, so it never shadows the attribute; the DRF stubs see one that does.
    context = serializers.JSONField(  # type: ignore[assignment]
        help_text="Reply, forward and referral context"
    )
    structured = serializers.JSONField(help_text="Type-specific fields (media, location, ...)")
    events = MessageEventSerializer(source="archive_events", many=True)
    attachments = AttachmentSerializer(many=True)


class MessageHitSerializer(MessageSerializer):
    """A message in a list: in a search's answer it also carries its snippet and rank."""

    snippet = serializers.CharField(
        required=False,
        help_text="Searches only: the text as HTML, escaped, the hits in <mark> (the first "
        "version, original or edit, that holds one; a window of it when it is long)",
    )
    rank = serializers.FloatField(
        required=False, allow_null=True, help_text="Searches ordered by relevance: the score"
    )


# --- filters -----------------------------------------------------------------------------------


class ArchiveFilter(django_filters.FilterSet):
    employee = IdFilter(field_name="employee_id", help_text="Employee id")
    counterparty = django_filters.CharFilter(
        method="filter_counterparty",
        help_text="The client's wa_id or user id (BSUID), or part of their name",
    )
    direction = django_filters.ChoiceFilter(choices=Direction.choices, method="filter_text")
    type = django_filters.CharFilter(method="filter_text", help_text="Meta's type name")
    since = TimeFilter(
        method="filter_time", help_text="From this time (WhatsApp's, inclusive; ISO 8601)"
    )
    until = TimeFilter(
        method="filter_time", help_text="Before this time (WhatsApp's, exclusive; ISO 8601)"
    )
    whatsapp_id = django_filters.CharFilter(
        method="filter_text", help_text="WhatsApp's message id (wamid)"
    )

    counterparty_prefix = ""
    message_prefix = ""

    def filter_counterparty(self, queryset, name: str, value: str):
        return queryset.filter(counterparty_q(value, prefix=self.counterparty_prefix))

    # Message conditions are applied together in filter_queryset: one message must match all.
    def filter_text(self, queryset, name: str, value: str):
        return queryset

    def filter_time(self, queryset, name: str, value: datetime):
        return queryset

    def message_filter(self):
        data = self.form.cleaned_data
        return message_conditions(
            direction=data.get("direction") or "",
            type=data.get("type") or "",
            since=data.get("since"),
            until=data.get("until"),
            whatsapp_id=data.get("whatsapp_id") or "",
            prefix=self.message_prefix,
        )


class MessageFilter(ArchiveFilter):
    conversation = IdFilter(field_name="conversation_id", help_text="Conversation id")
    # A search answers from archive/search/ (MessageViewSet.list): these only check and
    # document the parameters.
    q = django_filters.CharFilter(
        method="filter_text",
        help_text='A search in the reviewers\' query language: AND, OR, NOT, ( ), "phrase", '
        "invest*, buy w/3 shares, buy pre/3 shares, from:, to:, body:, filename: "
        f"(at most {MAX_QUERY_LENGTH} characters). With q or a search-only filter (team, "
        "has_attachment, edited, deleted, legal_hold, order) the list is a search: newest first "
        "(or by relevance), with an exact count and snippets; since and until then need a UTC "
        "offset",
    )
    team = IdFilter(method="filter_text", help_text="Search only: the employees of this team")
    has_attachment = BooleanFilter(method="filter_text", help_text="Search only")
    edited = BooleanFilter(method="filter_text", help_text="Search only")
    deleted = BooleanFilter(
        method="filter_text", help_text="Search only: deleted for everyone (the original is kept)"
    )
    legal_hold = IdFilter(
        method="filter_text",
        help_text="Search only: the messages this legal hold (/api/v1/legal-holds/) names now",
    )
    order = django_filters.ChoiceFilter(
        choices=[("newest", "newest"), ("relevance", "relevance")],
        method="filter_text",
        help_text="Search only: newest first (the default) or by relevance",
    )
    counterparty_prefix = "conversation__"

    class Meta:
        model = Message
        fields = [
            "employee",
            "conversation",
            "counterparty",
            "direction",
            "type",
            "since",
            "until",
            "whatsapp_id",
            "q",
            "team",
            "has_attachment",
            "edited",
            "deleted",
            "legal_hold",
            "order",
        ]

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset).filter(self.message_filter())


# Parameters that make the messages list a search (besides a non-blank q).
SEARCH_ONLY = ("team", "has_attachment", "edited", "deleted", "legal_hold", "order")


class ConversationFilter(ArchiveFilter):
    """Message filters choose conversations holding at least one message matching them all."""

    class Meta:
        model = Conversation
        fields = ["employee", "counterparty", "direction", "type", "since", "until", "whatsapp_id"]

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        condition = self.message_filter()
        if condition:
            # The tenant the API resolved at authentication (never one from the query).
            tenant = self.request._request.tenant
            queryset = holding_a_message(queryset, tenant=tenant, condition=condition)
        return queryset


class MessageEventFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        choices=[(name, name) for name in EVENT_NAMES.values()],
        method="filter_kind",
        help_text="edit, delete, reaction or status",
    )
    original_seen = BooleanFilter(
        help_text="false: only events whose message is not in the archive"
    )
    whatsapp_id = django_filters.CharFilter(
        field_name="target_wamid", help_text="The wamid of the message they change"
    )
    since = TimeFilter(
        field_name="whatsapp_timestamp", lookup_expr="gte", help_text="From (inclusive)"
    )
    until = TimeFilter(
        field_name="whatsapp_timestamp", lookup_expr="lt", help_text="Before (exclusive)"
    )

    class Meta:
        model = MessageEvent
        fields = ["kind", "original_seen", "whatsapp_id", "since", "until"]

    def filter_kind(self, queryset, name: str, value: str):
        kinds = {label: kind for kind, label in EVENT_NAMES.items()}
        return queryset.filter(kind=kinds[value])


class MessageCursorPagination(StrictCursorPagination):
    """Stable pages through a growing archive, oldest first by WhatsApp's time."""

    ordering = ("whatsapp_timestamp", "id")
    page_size = 50


class MessageListPagination(MessageCursorPagination):
    """The messages list's pages; a search's answer adds its exact ``count``."""

    def get_paginated_response_schema(self, schema: dict) -> dict:
        answer = super().get_paginated_response_schema(schema)
        answer["properties"]["count"] = {
            "type": "integer",
            "description": "Searches only: every message that matches (exact)",
        }
        return answer


# --- a record's re-creation --------------------------------------------------------------------


class RecordVersionSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="original, edit, delete (for everyone) or reaction")
    number = serializers.IntegerField(help_text="0 for the original, then 1, 2, ... in order")
    timestamp = serializers.DateTimeField(source="at", help_text="WhatsApp's time")
    received_at = serializers.DateTimeField(help_text="When we received it")
    text = serializers.CharField(help_text="original and edit: the text then; empty otherwise")
    type = serializers.CharField(
        help_text="original: the message's type; edit: the new message's type; else empty"
    )
    emoji = serializers.CharField(help_text="reaction: the emoji; empty when it was removed")
    direction = serializers.CharField(help_text="inbound, outbound, or empty")
    record = serializers.IntegerField(
        source="record_id", help_text="The message's id (original) or the event's id"
    )
    log_index = serializers.IntegerField(
        allow_null=True, help_text="Its leaf in the archive's log; null until the next checkpoint"
    )
    leaf_hash = serializers.CharField(help_text="The leaf's hash, hex; empty when not logged yet")
    raw_sha256 = serializers.CharField(
        help_text="SHA-256 of the payload WhatsApp sent, as canonical JSON (keys sorted, compact)"
    )


class TrailEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    occurred_at = serializers.DateTimeField(source="at")
    action = serializers.CharField(help_text="archive.read, archive.search, ...")
    action_label = serializers.CharField()
    actor = serializers.CharField(help_text="Who, as recorded at the time")
    target = serializers.CharField(help_text="What the event says it concerned")
    ip_address = serializers.IPAddressField(allow_null=True)
    endpoint = serializers.CharField(help_text="The page or API route; empty when none")


class MessageHistorySerializer(serializers.Serializer):
    message = serializers.IntegerField(source="message.pk")
    whatsapp_id = serializers.CharField(source="message.wamid")
    conversation = serializers.IntegerField(source="message.conversation_id")
    original = RecordVersionSerializer(help_text="The message as captured")
    versions = RecordVersionSerializer(
        many=True, source="changes", help_text="Every later edit, deletion and reaction, in order"
    )
    audit_trail = TrailEntrySerializer(
        many=True, source="trail", help_text="Every audit event naming it, oldest first"
    )


# --- the audit of reads ------------------------------------------------------------------------


def record_archive_read(
    *, tenant: Tenant, actor: Actor, request: Request, endpoint: str, kind: str, ids: list[int]
) -> None:
    """One ``archive.read`` event for one request: what was asked and which rows were shown."""
    filters = {
        key: str(value) for key, value in request.query_params.items() if key not in PAGING_PARAMS
    }
    services.record_archive_read(
        tenant=tenant, actor=actor, endpoint=endpoint, kind=kind, ids=ids, filters=filters
    )


# --- views -------------------------------------------------------------------------------------


class AuditedArchiveViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Read-only archive routes whose every read (a page, or one object) leaves one
    ``archive.read`` event naming ``read_endpoint`` and the ids shown."""

    allowed_roles = READ_ROLES
    # Pseudonymised review: a masked officer lists nothing and reads one object only in a
    # conversation they unmasked through an alert (compliance_hub/tenancy/walls.py).
    permission_classes = [HasTenantRole, BehindTheWall]
    read_endpoint = ""  # "/api/v1/messages/"
    read_kind = ""  # "message": the audit event's details say "message_ids"

    def loaded(self, rows: list) -> list:
        """The rows as the serializer needs them (a subclass may attach more)."""
        return rows

    def list(self, request, *args, **kwargs):
        page = self.loaded(self.paginate_queryset(self.filter_queryset(self.get_queryset())))
        record_archive_read(
            tenant=self.tenant, actor=self.actor, request=request, endpoint=self.read_endpoint,
            kind=self.read_kind, ids=[row.pk for row in page],
        )  # fmt: skip
        return self.get_paginated_response(self.get_serializer_class()(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        row = self.loaded([self.get_object()])[0]
        record_archive_read(
            tenant=self.tenant, actor=self.actor, request=request,
            endpoint=f"{self.read_endpoint}{row.pk}/", kind=self.read_kind, ids=[row.pk],
        )  # fmt: skip
        return Response(self.get_serializer_class()(row).data)


def _read_schema(serializer: type[serializers.Serializer]):
    return extend_schema_view(
        list=extend_schema(responses={200: serializer(many=True), 400: INVALID_FILTER}),
        retrieve=extend_schema(responses={200: serializer, 404: NOT_FOUND}),
    )


@_read_schema(ConversationSerializer)
class ConversationViewSet(AuditedArchiveViewSet):
    """Conversations of the archive, newest first (officers, auditors and admins). Every read is
    recorded in the audit trail."""

    model = Conversation
    serializer_class = ConversationSerializer
    filterset_class = ConversationFilter
    read_endpoint, read_kind = "/api/v1/conversations/", "conversation"

    def tenant_queryset(self):
        return conversations(tenant=self.tenant)

    def wall_conversation(self, conversation: Conversation) -> int:
        return conversation.pk


@extend_schema_view(
    list=extend_schema(
        responses={
            200: MessageHitSerializer(many=True),
            400: error_response(
                "A filter is not valid, or the search cannot be run: `message` says what is "
                "wrong; for a malformed query `details.position` is the character at fault "
                "(1-based; 0 for the whole query)"
            ),
        }
    ),
    retrieve=extend_schema(responses={200: MessageSerializer, 404: NOT_FOUND}),
    versions=extend_schema(
        filters=False, responses={200: MessageHistorySerializer, 404: NOT_FOUND}
    ),
)
class MessageViewSet(AuditedArchiveViewSet):
    """Archived messages, oldest first by WhatsApp's time, each with its edits, deletions,
    reactions and statuses and its attachments (officers, auditors and admins). An edit or a
    deletion never changes the message: it is listed among its events. Every read is recorded
    in the audit trail."""

    model = Message
    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    pagination_class = MessageListPagination
    read_endpoint, read_kind = "/api/v1/messages/", "message"
    wall_actions = ("retrieve", "versions")

    def tenant_queryset(self):
        return messages(tenant=self.tenant)

    def wall_conversation(self, message: Message) -> int:
        return message.conversation_id

    def loaded(self, rows: list[Message]) -> list[Message]:
        grouped = events_by_target(tenant=self.tenant, wamids=[row.wamid for row in rows])
        for row in rows:
            # Read by MessageSerializer (source="archive_events"); a page's value, not a column.
            setattr(row, "archive_events", grouped.get(row.wamid, []))  # noqa: B010
        return rows

    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def versions(self, request: Request, pk: str | None = None) -> Response:
        """The message's re-creation: its original as captured, every later edit, deletion and
        reaction in order with its log index, and its audit trail. The read is audited (after
        the trail is read: the trail shows the reads before this one)."""
        message = self.get_object()
        history = message_history(tenant=self.tenant, message=message)
        record_archive_read(
            tenant=self.tenant, actor=self.actor, request=request,
            endpoint=f"{self.read_endpoint}{message.pk}/versions/", kind=self.read_kind,
            ids=[message.pk],
        )  # fmt: skip
        return Response(MessageHistorySerializer(history).data)

    def list(self, request, *args, **kwargs):
        params = request.query_params
        if not (params.get("q", "").strip() or any(params.get(name) for name in SEARCH_ONLY)):
            return super().list(request, *args, **kwargs)
        return self.search(request)

    def search(self, request: Request) -> Response:
        """The list as a search (archive/search/): one ``archive.search`` event, no
        ``archive.read`` (the search event names the messages shown)."""
        self.filter_queryset(self.get_queryset())  # every parameter checked: a 400 otherwise
        filterset = self.filterset_class(
            request.query_params, queryset=self.get_queryset(), request=request
        )
        filterset.is_valid()
        data = filterset.form.cleaned_data
        _refuse_naive_times(request.query_params)
        if data.get("whatsapp_id"):
            raise ValidationError({"whatsapp_id": "Not with a search: list by it without q."})
        query = request.query_params.get("q", "")
        criteria: dict[str, Any] = {
            "employee": data.get("employee"),
            "team": data.get("team"),
            "counterparty": data.get("counterparty") or "",
            "direction": data.get("direction") or "",
            "conversation": data.get("conversation"),
            "message_type": data.get("type") or "",
            "has_attachment": data.get("has_attachment"),
            "edited": data.get("edited"),
            "deleted": data.get("deleted"),
            "since": data.get("since"),
            "until": data.get("until"),
            "legal_hold": data.get("legal_hold"),
            "order": data.get("order") or "newest",
        }
        given = {k: v for k, v in criteria.items() if v not in (None, "")}
        fingerprint = {"q": query, **given}
        page_size = MessageListPagination().get_page_size(request)
        # The pagination class sets a default size, so None means a misconfigured class.
        assert page_size is not None, "MessageListPagination has no default page size"
        if page_size > MAX_PAGE_SIZE:
            raise ValidationError({"page_size": f"A search page holds at most {MAX_PAGE_SIZE}."})
        try:
            token = request.query_params.get("cursor")
            cursor = open_cursor(token, search=fingerprint) if token else None
            found = search_messages(
                tenant=self.tenant, query=query, cursor=cursor, page_size=page_size, **criteria
            )
        except QueryError as error:
            raise InvalidSearch(error.message, details={"position": error.position}) from None

        ids = [hit.message.pk for hit in found.hits]
        loaded = {row.pk: row for row in self.loaded(list(self.get_queryset().filter(pk__in=ids)))}
        rows = []
        for hit in found.hits:
            row = loaded[hit.message.pk]
            # Read by the serializer only, like ``archive_events`` above: not model fields.
            setattr(row, "snippet", hit.snippet)  # noqa: B010
            setattr(row, "rank", hit.rank)  # noqa: B010
            rows.append(row)
        record_search(
            tenant=self.tenant,
            actor=self.actor,
            query=query,
            filters={
                key: value.isoformat() if isinstance(value, datetime) else value
                for key, value in given.items()
            },
            count=found.count,
            message_ids=ids,
            endpoint=self.read_endpoint,
        )
        next_link = None
        if found.next_cursor:
            next_link = replace_query_param(
                request.build_absolute_uri(),
                "cursor",
                seal_cursor(found.next_cursor, search=fingerprint),
            )
        return Response(
            {
                "count": found.count,
                "next": next_link,
                "previous": None,
                "results": MessageHitSerializer(rows, many=True).data,
            }
        )


def _refuse_naive_times(params) -> None:
    """A search's dates are instants: a time without its UTC offset would be read in the
    server's zone, which is nobody's, so it is refused rather than guessed."""
    for name in ("since", "until"):
        raw = params.get(name)
        parsed = parse_datetime(raw) if raw else None
        if parsed is not None and parsed.utcoffset() is None:
            raise ValidationError({name: "Give the time with its UTC offset (Z or +01:00)."})


@_read_schema(StandaloneEventSerializer)
class MessageEventViewSet(AuditedArchiveViewSet):
    """Edits, deletions, reactions and statuses on their own, oldest first by WhatsApp's time
    (officers, auditors and admins); ``?original_seen=false`` lists those whose message is not in
    the archive, which /api/v1/messages/ cannot show. Every read is recorded in the audit
    trail."""

    model = MessageEvent
    serializer_class = StandaloneEventSerializer
    filterset_class = MessageEventFilter
    pagination_class = MessageCursorPagination
    read_endpoint, read_kind = "/api/v1/message-events/", "event"

    def tenant_queryset(self):
        return message_events(tenant=self.tenant)


# --- saved searches ----------------------------------------------------------------------------


class SavedSearchVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    name = serializers.CharField()
    query = serializers.CharField(allow_blank=True)
    filters = serializers.DictField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by_label")


class SavedSearchSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    query = serializers.CharField(allow_blank=True)
    filters = serializers.DictField(
        child=serializers.CharField(),
        help_text="The messages search's filters, as its query parameters",
    )
    version = serializers.IntegerField(help_text="Each change adds one; earlier ones are kept")
    owner = serializers.CharField(source="owner_label", help_text="Who saved it")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    run = serializers.SerializerMethodField(
        help_text="Running it: the messages search with its query and filters (audited there)"
    )
    versions = SavedSearchVersionSerializer(many=True, help_text="Every version, oldest first")

    def get_run(self, saved) -> str:
        params = QueryDict(mutable=True)
        if saved.query.strip():
            params["q"] = saved.query
        params.update(saved.filters)
        url = reverse("message-list") + "?" + params.urlencode()
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class SavedSearchInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    query = serializers.CharField(
        allow_blank=True, required=False, default="", max_length=MAX_QUERY_LENGTH,
        trim_whitespace=False, help_text="The query language of /api/v1/messages/?q=",
    )  # fmt: skip
    filters = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        default=dict,
        help_text=f"Any of: {', '.join(sorted(SEARCH_FILTERS))} (values as in the URL)",
    )

    def validate_filters(self, filters: dict) -> dict:
        unknown = sorted(set(filters) - SEARCH_FILTERS)
        if unknown:
            raise serializers.ValidationError(f"Not a search filter: {', '.join(unknown)}.")
        # The same checks as the search itself, so a saved search always runs.
        form = MessageFilter(QueryDict(mutable=True) if not filters else _query_dict(filters))
        if not form.is_valid():
            raise serializers.ValidationError(
                {key: [str(e) for e in errors] for key, errors in form.errors.items()}
            )
        try:
            _refuse_naive_times(filters)
        except ValidationError as error:
            raise serializers.ValidationError(error.detail) from None
        return filters


class SavedSearchPatchSerializer(SavedSearchInputSerializer):
    name = serializers.CharField(max_length=200, required=False)
    query = serializers.CharField(
        allow_blank=True, required=False, max_length=MAX_QUERY_LENGTH, trim_whitespace=False
    )
    filters = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)


def _query_dict(values: dict) -> QueryDict:
    params = QueryDict(mutable=True)
    params.update(values)
    return params


def _saved_search_refused(error: QueryError | SavedSearchError) -> ValidationError:
    if isinstance(error, QueryError):
        where = f" (at character {error.position})" if error.position else ""
        return ValidationError({"query": [error.message + where]})
    return ValidationError({error.field: [error.message]})


@extend_schema_view(
    list=extend_schema(responses={200: SavedSearchSerializer(many=True)}),
    retrieve=extend_schema(responses={200: SavedSearchSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        request=SavedSearchInputSerializer, responses={201: SavedSearchSerializer, 400: INVALID}
    ),
    partial_update=extend_schema(
        request=SavedSearchPatchSerializer,
        responses={200: SavedSearchSerializer, 400: INVALID, 403: NOT_YOURS, 404: NOT_FOUND},
    ),
    destroy=extend_schema(responses={204: None, 403: NOT_YOURS, 404: NOT_FOUND}),
)
class SavedSearchViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """The tenant's saved searches (officers, auditors and admins): a name, a query and filters,
    versioned (a change keeps the earlier versions; a deleted one keeps them too). ``run`` is the
    messages search that runs it. Every change is audited."""

    allowed_roles = READ_ROLES
    # A search names people in its results: refused to a masked officer (no object is open).
    permission_classes = [HasTenantRole, BehindTheWall]
    wall_actions: tuple[str, ...] = ()
    model = SavedSearch
    serializer_class = SavedSearchSerializer
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def tenant_queryset(self):
        return (
            SavedSearch.objects.filter(tenant=self.tenant, deleted_at__isnull=True)
            .prefetch_related("versions")
            .order_by("name", "id")
        )

    def _answer(self, saved: SavedSearch, code: int = status.HTTP_200_OK) -> Response:
        saved = self.tenant_queryset().get(pk=saved.pk)
        return Response(self.get_serializer(saved).data, status=code)

    def create(self, request, *args, **kwargs):
        incoming = SavedSearchInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            saved = create_saved_search(
                tenant=self.tenant, actor=self.actor, **incoming.validated_data
            )
        except (QueryError, SavedSearchError) as error:
            raise _saved_search_refused(error) from None
        return self._answer(saved, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        saved = self.get_object()
        incoming = SavedSearchPatchSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            saved = update_saved_search(saved=saved, actor=self.actor, **incoming.validated_data)
        except (QueryError, SavedSearchError) as error:
            raise _saved_search_refused(error) from None
        except NotYourSavedSearch as error:
            raise PermissionDenied(str(error)) from None
        return self._answer(saved)

    def destroy(self, request, *args, **kwargs):
        try:
            delete_saved_search(saved=self.get_object(), actor=self.actor)
        except NotYourSavedSearch as error:
            raise PermissionDenied(str(error)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- checkpoints on request --------------------------------------------------------------------


class CheckpointInputSerializer(serializers.Serializer):
    force = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Sign a new checkpoint even when the latest one already covers every record",
    )


class CheckpointCutSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="checkpoint.pk")
    size = serializers.IntegerField(
        source="checkpoint.size", help_text="Leaves (records) the signed tree holds"
    )
    # A field named like Field.root: SerializerMetaclass moves declared fields into
    # _declared_fields, so it never shadows the attribute; the DRF stubs see one that does.
    root = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text="The tree's root hash, hex"
    )
    signed_at = serializers.SerializerMethodField(help_text="When it was signed (UTC)")
    key_id = serializers.CharField(source="checkpoint.key.key_id", help_text="The signing key")
    created = serializers.BooleanField(
        help_text="false: nothing was new, and this is the latest checkpoint, which already "
        "covers every record"
    )
    anchored = serializers.BooleanField(help_text="Copied outside the database")
    timestamped = serializers.BooleanField(help_text="Its anchored copy has an RFC 3161 token")
    anchor_error = serializers.CharField(
        help_text="Why it is not anchored yet (the next beat retries); empty when it is"
    )

    def get_root(self, outcome) -> str:
        return bytes(outcome.checkpoint.root_hash).hex()

    def get_signed_at(self, outcome) -> str:
        return timestamp(outcome.checkpoint.signed_at)


class AttachmentViewSet(TenantViewSet):
    """The stored bytes of an attachment (officers, auditors and admins), listed with its message
    in /api/v1/messages/: checked against the SHA-256 the archive recorded before they are sent,
    always as a file to save (``Content-Disposition: attachment``). Every download is in the
    audit trail; a file whose bytes changed is refused (409) and the refusal audited."""

    allowed_roles = READ_ROLES
    model = Attachment
    filter_backends: list = []
    pagination_class = None

    def tenant_queryset(self):
        return Attachment.objects.filter(tenant=self.tenant)

    @extend_schema(
        responses={
            (200, "*/*"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The stored bytes, with the attachment's MIME type, as a download; "
                "the X-Checksum-SHA256 header holds their SHA-256 (hex)",
            ),
            404: error_response("No such attachment in your tenant, or not stored yet"),
            409: error_response(
                "The stored file no longer matches its recorded SHA-256: not sent (audited)"
            ),
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        wall = request_wall(request)
        if wall.closed:
            conversation_id = attachment_conversation(
                tenant=self.tenant, attachment_id=int(pk or 0)
            )
            if conversation_id is not None and not wall.opens(conversation_id):
                raise PermissionDenied(REFUSAL)
        try:
            download = services.download_attachment(
                tenant=self.tenant, actor=self.actor, attachment_id=int(pk or 0),
                endpoint=f"/api/v1/attachments/{pk}/download/",
            )  # fmt: skip
        except services.AttachmentNotAvailable:
            raise NotFound() from None
        except services.AttachmentTampered:
            raise Conflict(
                "The stored file no longer matches the fingerprint recorded when it was "
                "captured, so it was not sent. The refusal is in the audit trail; an operator "
                "must run verify_archive."
            ) from None
        response = attachment_response(download)
        response["X-Checksum-SHA256"] = download.sha256
        return response


class LogCheckpointViewSet(TenantViewSet):
    """Checkpoints of the archive's Merkle log (auditors and admins): POST signs one now instead
    of at the next minute's beat, so every record archived so far has an inclusion proof and
    ``verify_archive`` covers it. 201 when a checkpoint was signed, 200 when nothing was new
    (the answer is the latest checkpoint). Audited."""

    allowed_roles = (Role.AUDITOR, Role.ADMIN)
    model = LogCheckpoint
    serializer_class = CheckpointCutSerializer
    filter_backends: list = []
    pagination_class = None

    def tenant_queryset(self):
        return LogCheckpoint.objects.filter(tenant=self.tenant)

    @extend_schema(
        request=CheckpointInputSerializer,
        responses={
            201: CheckpointCutSerializer,
            200: OpenApiResponse(
                CheckpointCutSerializer,
                description="Nothing new: the latest checkpoint already covers every record",
            ),
            400: INVALID,
            409: error_response(
                "The log no longer matches what it signed; run verify_archive (nothing signed)"
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        incoming = CheckpointInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            outcome = cut_checkpoint(
                tenant=self.tenant,
                force=incoming.validated_data["force"],
                actor=self.actor,
            )
        except LogIntegrityError:
            # The details name tables and indexes: for verify_archive's report, not the API.
            raise Conflict(
                "The archive log no longer matches what it signed, so nothing was signed. "
                "An operator must run verify_archive."
            ) from None
        return Response(
            CheckpointCutSerializer(outcome).data,
            status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK,
        )
