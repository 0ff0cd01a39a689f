"""Input and output shapes of the alerts API. Output serializers read rows the views prepared;
input serializers check types and sizes only (the workflow's rules are the services').

How a person appears (the employee, the client on the other side) is decided in ONE place,
:func:`people_of`, so that pseudonymised review can replace it without touching the rest.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from archive.models import Direction
from compliance_hub.digits import MAX_ID, parse_id
from policies.api.serializers import FindingSerializer, TextField
from policies.documents.schema import SEVERITIES

from ..bulk import check_selection
from ..masking import Masking
from ..models import Alert, Disposition, Status
from ..selectors import SORTS
from ..services import COMMENT_MAX_LENGTH, RATIONALE_MAX_LENGTH, AlertError

# --- people -------------------------------------------------------------------------------------


def people_of(alert: Alert, masking: Masking) -> dict[str, Any]:
    """The employee and the counterparty of ``alert`` as every answer of the API shows them:
    the one place that decides how people are rendered. A firm that pseudonymises its review
    (alerts/masking.py) gets the same pseudonyms as its pages, and no id or number that would
    name the person; nor the conversation's id (the archive names them: the page withholds
    its link too)."""
    if masking.masks(alert):
        shown = masking.people(alert)
        return {
            "employee": {"id": None, "name": shown["employee"], "employee_id": ""},
            "counterparty": {"name": shown["counterparty"], "wa_id": ""},
            "conversation": None,
        }
    employee = alert.employee
    conversation = alert.conversation
    return {
        "employee": {
            "id": employee.pk,
            "name": employee.full_name,
            "employee_id": employee.employee_id,
        },
        "counterparty": {
            "name": conversation.counterparty_name,
            "wa_id": conversation.counterparty_wa_id,
        },
        "conversation": conversation.pk,
    }


class AlertEmployeeSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        allow_null=True, help_text="Null while the review is pseudonymised"
    )
    name = serializers.CharField(help_text="The employee's name")
    employee_id = serializers.CharField(help_text="The firm's own id for the employee")


class AlertCounterpartySerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True, help_text="WhatsApp profile name")
    wa_id = serializers.CharField(allow_blank=True, help_text="WhatsApp id (usually the number)")


# --- alerts -------------------------------------------------------------------------------------


class AlertPolicySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AlertMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    whatsapp_id = serializers.CharField(source="wamid", help_text="The message's wamid")
    direction = serializers.ChoiceField(choices=Direction.choices)
    sent_at = serializers.DateTimeField(source="whatsapp_timestamp", help_text="WhatsApp's time")


@extend_schema_field(
    {"type": "string", "format": "email", "nullable": True, "description": "Their email"}
)
class PersonField(serializers.Field):
    def to_representation(self, value: Any) -> str:
        return value.email


class AlertSerializer(serializers.Serializer):
    """One alert as the queue lists it (the view attaches ``people``)."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Status.choices)
    level = serializers.IntegerField(help_text="1: first-level review; 2: senior (escalated)")
    severity = serializers.ChoiceField(choices=list(SEVERITIES))
    score = serializers.FloatField(help_text="The detectors' highest confidence")
    risk = serializers.FloatField(help_text="Severity weight x score: the queue's default order")
    policy = AlertPolicySerializer()
    categories = serializers.ListField(child=serializers.CharField())
    message = AlertMessageSerializer()
    employee = AlertEmployeeSerializer(source="people.employee")
    counterparty = AlertCounterpartySerializer(source="people.counterparty")
    assignee = PersonField(allow_null=True)
    claimed_by = PersonField(allow_null=True, help_text="Who is reviewing it now")
    due_at = serializers.DateTimeField(help_text="When the review is due (SLA)")
    overdue = serializers.BooleanField()
    disposition = serializers.ChoiceField(
        choices=Disposition.choices, allow_blank=True, help_text="Empty until it is closed"
    )
    rationale = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField(
        help_text="Changes with every change; send it back as expected_version"
    )


class AlertPolicyVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    note = serializers.CharField(allow_blank=True)


class LineSerializer(serializers.Serializer):
    """A message of the conversation around an alert, read from its line (alerts.selectors.
    ContextLine: the rule the alert page draws by), so page and API agree on edits and
    deletions."""

    id = serializers.IntegerField(source="message.pk")
    whatsapp_id = serializers.CharField(source="message.wamid", help_text="The message's wamid")
    direction = serializers.ChoiceField(source="message.direction", choices=Direction.choices)
    sent_at = serializers.DateTimeField(
        source="message.whatsapp_timestamp", help_text="WhatsApp's time"
    )
    type = serializers.CharField(source="message.type", help_text="text, image, audio, ...")
    edited = serializers.BooleanField(help_text="Edited by its sender since it was sent")
    deleted = serializers.BooleanField(
        help_text="Deleted for everyone by its sender (the archive keeps it)"
    )


NOW_HELP = (
    "Its text after its last edit; for media without a caption, what it is in words (Photo, "
    "Voice message, ...)"
)


class ContextLineSerializer(LineSerializer):
    """A message before or after the flagged one, as it stands now."""

    text = serializers.CharField(allow_blank=True, help_text=NOW_HELP)


class FlaggedMessageSerializer(LineSerializer):
    """The flagged message: its text as it was scanned (the findings' spans point into it),
    and as it stands now."""

    text = serializers.CharField(
        source="message.text", allow_blank=True, help_text="As it was scanned"
    )
    text_now = serializers.CharField(source="text", allow_blank=True, help_text=NOW_HELP)


class AlertContextSerializer(serializers.Serializer):
    conversation = serializers.IntegerField(
        allow_null=True,
        help_text="Conversation id (/api/v1/conversations/); null while the review is "
        "pseudonymised (the archive names people)",
    )
    before = ContextLineSerializer(many=True, help_text="Messages before it, oldest first")
    after = ContextLineSerializer(many=True, help_text="Messages after it, oldest first")


class AlertEventSerializer(serializers.Serializer):
    action = serializers.CharField()
    actor = serializers.CharField(source="actor_label")
    from_status = serializers.CharField(allow_blank=True)
    to_status = serializers.CharField(allow_blank=True)
    details = serializers.DictField(
        source="details_shown",
        help_text="What changed; while the review is pseudonymised, without what names the "
        "employee (a notice's address and text)",
    )
    at = serializers.DateTimeField()


class AlertDetailSerializer(AlertSerializer):
    """One alert with what its page shows (the view attaches ``people``, ``context``,
    ``events`` and ``group``)."""

    message = FlaggedMessageSerializer(source="around.flagged")  # type: ignore[assignment]
    findings = FindingSerializer(many=True, source="hit.findings")
    explanation = serializers.CharField(source="hit.explanation", allow_blank=True)
    policy_version = AlertPolicyVersionSerializer()
    # A field named like Field.context: SerializerMetaclass would otherwise shadow it.
    conversation_context = AlertContextSerializer(source="around")
    group = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="The other alerts of the same conversation and time window",
    )
    history = AlertEventSerializer(many=True, source="events_shown")


class AlertCommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.CharField(source="author_label")
    body = serializers.CharField(help_text="As typed (escape it when you show it in HTML)")
    mentions = serializers.ListField(child=serializers.IntegerField(), help_text="User ids")
    created_at = serializers.DateTimeField()


# --- input --------------------------------------------------------------------------------------


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdField(serializers.Field):
    """An id in ASCII digits (JSON number or query-string text); anything else is refused."""

    default_error_messages = {"invalid": "Give an id: a whole number from 1."}

    def to_internal_value(self, data: object) -> int:
        if isinstance(data, bool):
            self.fail("invalid")
        number = parse_id(str(data).strip() if isinstance(data, int | str) else None)
        if number is None:
            self.fail("invalid")
        return number

    def to_representation(self, value: int) -> int:
        return value


def _version_field(**kwargs: Any) -> IdField:
    return IdField(
        help_text="The alert's version you saw: refused (409) if it changed since", **kwargs
    )


SORT_HELP = "risk: riskiest first (default); newest: newest first; due: due soonest first"


class QueueQuerySerializer(serializers.Serializer):
    """The queue's filters (alerts.selectors.QueueFilters) and its keyset cursor."""

    status = serializers.ChoiceField(
        choices=[*Status.values, "all"], required=False, allow_blank=True,
        help_text="Empty: still to review (open, in review, escalated); all: any status",
    )  # fmt: skip
    severity = serializers.ChoiceField(choices=list(SEVERITIES), required=False, allow_blank=True)
    policy = IdField(required=False, help_text="Policy id")
    category = serializers.CharField(max_length=64, required=False, allow_blank=True)
    employee = IdField(required=False, help_text="Employee id")
    team = IdField(required=False, help_text="Team id")
    assignee = serializers.RegexField(
        r"^(none|[0-9]{1,19})$", required=False, allow_blank=True,
        help_text="A user id, or none: nobody assigned",
    )  # fmt: skip
    older_than_days = serializers.IntegerField(
        min_value=1, max_value=3650, required=False, help_text="Raised at least this many days ago"
    )
    overdue = serializers.BooleanField(required=False, help_text="true: only overdue alerts")
    sort = serializers.ChoiceField(
        choices=list(SORTS), required=False, allow_blank=True, help_text=SORT_HELP
    )
    whatsapp_id = serializers.CharField(
        max_length=255, required=False, allow_blank=True, help_text="The flagged message's wamid"
    )
    after = IdField(
        required=False, help_text="Keyset: the last alert of the page before (the `next` link)"
    )
    page_size = serializers.IntegerField(min_value=1, max_value=200, required=False)


class TransitionInputSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Status.choices)
    disposition = serializers.ChoiceField(
        choices=Disposition.choices, required=False, allow_blank=True, default="",
        help_text="Needed to close, and only then",
    )  # fmt: skip
    rationale = TextField(
        max_length=RATIONALE_MAX_LENGTH, required=False, allow_blank=True, default="",
        help_text="Why: needed to close and to reopen a closed alert",
    )  # fmt: skip
    expected_version = _version_field(required=False, allow_null=True)
    with_group = serializers.BooleanField(
        required=False, default=False,
        help_text="When closing: also close the other open alerts of its group (same "
        "conversation, close in time) with the same decision; those another officer holds "
        "are left",
    )  # fmt: skip


class TransitionOutcomeSerializer(AlertSerializer):
    """The alert after the move, and the other alerts of its group closed with it."""

    group_closed = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of the group's alerts closed with it (with_group); empty otherwise",
    )


class VersionInputSerializer(serializers.Serializer):
    expected_version = _version_field(required=False, allow_null=True)


class AssignInputSerializer(serializers.Serializer):
    assignee = IdField(
        allow_null=True, help_text="User id of an officer or admin of the firm; null: nobody"
    )
    expected_version = _version_field(required=False, allow_null=True)


class CommentInputSerializer(serializers.Serializer):
    body = TextField(
        max_length=COMMENT_MAX_LENGTH, help_text="Name a colleague with @ and their email address"
    )


class BulkChoiceSerializer(serializers.Serializer):
    id = IdField()
    expected_version = _version_field(required=False, allow_null=True)


class ChosenListField(serializers.ListField):
    """The selection, its size checked (alerts.bulk's cap) before any item is parsed."""

    child = BulkChoiceSerializer()

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        if isinstance(data, list):
            try:
                check_selection(len(data))
            except AlertError as error:
                raise serializers.ValidationError(str(error)) from None
        return super().to_internal_value(data)


class BulkTransitionInputSerializer(TransitionInputSerializer):
    alerts = ChosenListField(help_text="The alerts to change, each with the version you saw")
    expected_version = None  # type: ignore[assignment]
    with_group = None  # type: ignore[assignment]


class BulkSkippedSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="alert_id")
    reason = serializers.CharField(help_text="Why it was left as it was")


class BulkOutcomeSerializer(serializers.Serializer):
    message = serializers.CharField(source="summary")
    changed = serializers.ListField(child=serializers.IntegerField())
    skipped = BulkSkippedSerializer(many=True)
