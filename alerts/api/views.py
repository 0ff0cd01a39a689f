"""``/api/v1/alerts/``: the alert queue and the review's actions, as the pages offer them.

The list takes the queue's filters (alerts.selectors: the one rule) plus ``whatsapp_id``, riskiest
first by default, in keyset pages (``after``: no OFFSET, no COUNT). Reading one alert shows its
findings, the policy version that fired and the conversation around it, and is an
``archive.read`` in the audit trail, as opening its page is. Every action goes through
alerts.services (or alerts.bulk): conflicts (someone else holds it, it changed since you read it)
are 409 with the service's sentence, bad input 400, another firm's alert 404. Auditors read;
officers and admins act. Claiming, releasing and moving an alert is a person's work (the
services refuse anyone else): a key issued for a member (``create_api_key --for``) acts as that
member, with their masking; a key acting for nobody gets a 403 there, and may read, assign and
comment.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from archive.selectors import READ_ROLES
from archive.services import record_archive_read
from compliance_hub.accounts.models import User
from compliance_hub.api.base import TenantViewSet
from compliance_hub.api.errors import Conflict
from compliance_hub.api.permissions import request_person, request_role
from compliance_hub.api.responses import INVALID, NOT_FOUND, error_response
from compliance_hub.digits import parse_id
from compliance_hub.tenancy.models import Tenant

from ..bulk import Chosen, bulk_transition
from ..masking import SMALL_TEAM, masking_for, named_teams
from ..models import Alert, AlertComment, AlertEvent, Status
from ..selectors import (
    QueueFilters,
    after_cursor,
    alert_context,
    alert_for,
    alert_queue,
    group_of,
)
from ..services import (
    REVIEWER_ROLES,
    AlertError,
    ClaimConflict,
    NotAReviewer,
    StaleAlert,
    add_comment,
    assign_alert,
    claim_alert,
    close_group,
    release_alert,
    transition_alert,
)
from .serializers import (
    AlertCommentSerializer,
    AlertDetailSerializer,
    AlertSerializer,
    AssignInputSerializer,
    BulkOutcomeSerializer,
    BulkTransitionInputSerializer,
    CommentInputSerializer,
    QueueQuerySerializer,
    TransitionInputSerializer,
    TransitionOutcomeSerializer,
    VersionInputSerializer,
    people_of,
)

PAGE_SIZE = 50
FORBIDDEN = error_response(
    "Auditors read alerts; officers and admins act on them. Claiming, releasing and moving an "
    "alert is a person's work: signed in, or through a key an admin issued for them"
)
ACTED = {
    200: AlertSerializer,
    400: INVALID,
    403: FORBIDDEN,
    404: NOT_FOUND,
    409: error_response(
        "Someone else holds the alert, or changed it since you read it (the message says which)"
    ),
}


class AlertKeysetPagination(BasePagination):
    """The queue's keyset pages (alerts.selectors.after_cursor, the page's rule): ``after`` the
    last alert of the page before, in the chosen sort; no OFFSET, no COUNT. Reads the query
    the view checked (``queue_query``, ``queue_sort``)."""

    following: str | None = None

    def paginate_queryset(self, queryset, request, view=None):
        assert isinstance(view, AlertViewSet)
        query = view.queue_query
        if query.get("after") is not None:
            last = Alert.objects.filter(tenant=view.tenant, pk=query["after"]).first()
            if last is None:
                raise ValidationError({"after": "No alert of yours to continue after."})
            queryset = after_cursor(queryset, sort=view.queue_sort, last=last)
        size = query.get("page_size") or PAGE_SIZE
        page = list(queryset[: size + 1])
        if len(page) > size:
            page = page[:size]
            self.following = replace_query_param(request.build_absolute_uri(), "after", page[-1].pk)
        return page

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self.following, "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "format": "uri",
                    "nullable": True,
                    "description": "The next page; null on the last",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return []  # after and page_size are among the queue's parameters


class RefusedChange(APIException):
    """A change the workflow refuses for this input (400, with the service's sentence)."""

    status_code = 400
    default_code = "refused"
    default_detail = "The alert cannot change this way."


def refused(error: AlertError) -> APIException:
    """The service's refusal as the API answers it: a conflict with another officer's work is
    409, anything else is the caller's input (400); the sentence is the service's."""
    if isinstance(error, ClaimConflict | StaleAlert):
        return Conflict(str(error))
    return RefusedChange(str(error))


def _viewer(request: Request) -> User | AnonymousUser:
    """Whose unmaskings count: the signed-in person, or the member a key acts for; a key acting
    for nobody unmasked nothing."""
    return request_person(request) or AnonymousUser()


def _team_filter_allowed(request: Request, *, tenant: Tenant, team_id: int) -> bool:
    """The queue page's rule (alerts.masking.mask_team_choices): a masked reviewer filters by
    the teams named to them only."""
    masking = masking_for(tenant=tenant, viewer=_viewer(request), role=request_role(request))
    return not masking.on or named_teams(tenant).filter(pk=team_id).exists()


def with_people(alerts: list[Alert], *, tenant: Tenant, request: Request) -> list[Alert]:
    masking = masking_for(
        tenant=tenant, viewer=_viewer(request), role=request_role(request), alerts=alerts
    )
    for alert in alerts:
        # Read by the serializers only (source="people..."): how people are shown.
        setattr(alert, "people", people_of(alert, masking))  # noqa: B010
    return alerts


@extend_schema_view(
    list=extend_schema(
        parameters=[QueueQuerySerializer],
        responses={200: AlertSerializer(many=True), 400: INVALID},
    ),
    retrieve=extend_schema(responses={200: AlertDetailSerializer, 404: NOT_FOUND}),
    claim=extend_schema(request=None, responses=ACTED),
    release=extend_schema(request=VersionInputSerializer, responses=ACTED),
    transition=extend_schema(
        request=TransitionInputSerializer, responses={**ACTED, 200: TransitionOutcomeSerializer}
    ),
    assign=extend_schema(request=AssignInputSerializer, responses=ACTED),
    comments=extend_schema(
        methods=["GET"],
        request=None,
        responses={200: AlertCommentSerializer(many=True), 404: NOT_FOUND},
    ),
    bulk_transition=extend_schema(
        request=BulkTransitionInputSerializer,
        responses={
            200: BulkOutcomeSerializer,
            400: error_response(
                "Not valid for any alert (closing without a disposition or rationale, an unknown "
                "status), or more alerts than one bulk change may move; nothing changed"
            ),
            403: FORBIDDEN,
        },
    ),
)
class AlertViewSet(TenantViewSet):
    """The firm's alerts. Officers and admins claim, release, move, assign and comment;
    auditors read. Each change is in the alert's history and in the audit trail."""

    allowed_roles = READ_ROLES
    write_roles = REVIEWER_ROLES
    model = Alert
    serializer_class = AlertSerializer
    filter_backends: list[type] = []
    pagination_class = AlertKeysetPagination
    queue_query: dict[str, Any]
    queue_sort: str

    def tenant_queryset(self):
        return Alert.objects.filter(tenant=self.tenant)

    def _alert(self) -> Alert:
        pk = parse_id(self.kwargs.get("pk"))
        role = request_role(self.request)
        # A second-level alert is, for a first-level officer, as if it did not exist.
        alert = alert_for(tenant=self.tenant, pk=pk, role=role) if pk is not None else None
        if alert is None:
            raise NotFound("No such alert.")
        return alert

    def _person_only(self) -> None:
        if self.actor.user is None:
            raise PermissionDenied(
                "Claiming, releasing and moving an alert is a person's decision, and this key "
                "acts for nobody. Ask an admin for a key issued for you (the API keys page, or "
                "create_api_key SLUG --role ROLE --for EMAIL): it acts as you."
            )

    def _answer(self, alert: Alert) -> Response:
        fresh = alert_for(tenant=self.tenant, pk=alert.pk, role=request_role(self.request)) or alert
        return Response(
            AlertSerializer(with_people([fresh], tenant=self.tenant, request=self.request)[0]).data
        )

    # --- reads -------------------------------------------------------------------------------

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The queue: still to review unless ``status`` says otherwise, riskiest first."""
        query = QueueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        assignee = data.get("assignee") or ""
        assignee_id = parse_id(assignee)
        if assignee and assignee != "none" and assignee_id is None:
            raise ValidationError({"assignee": "A user id, or none."})
        if data.get("team") is not None and not _team_filter_allowed(
            request, tenant=self.tenant, team_id=data["team"]
        ):
            raise ValidationError(
                {
                    "team": "In this firm reviews are pseudonymised: a team of fewer than "
                    f"{SMALL_TEAM} active employees is not a filter (it would name its members)."
                }
            )
        filters = QueueFilters(
            status=data.get("status") or "",
            severity=data.get("severity") or "",
            policy_id=data.get("policy"),
            category=(data.get("category") or "").strip(),
            employee_id=data.get("employee"),
            team_id=data.get("team"),
            unassigned=assignee == "none",
            assignee_id=assignee_id,
            older_than=_days(data.get("older_than_days")),
            overdue=bool(data.get("overdue")),
            sort=data.get("sort") or "risk",
        )
        rows = alert_queue(
            tenant=self.tenant, filters=filters, role=request_role(request)
        ).select_related("message", "conversation")
        if data.get("whatsapp_id"):
            rows = rows.filter(message__wamid=data["whatsapp_id"])
        self.queue_query, self.queue_sort = data, filters.sort
        page = list(self.paginate_queryset(rows) or [])
        return self.get_paginated_response(
            AlertSerializer(with_people(page, tenant=self.tenant, request=request), many=True).data
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One alert with its findings, the policy version that fired, the conversation around
        the message and its history. Recorded in the audit trail as a read of the archive."""
        alert = self._alert()
        role = request_role(request)
        masking = masking_for(
            tenant=self.tenant, viewer=_viewer(request), role=role, alerts=[alert]
        )
        people = people_of(alert, masking)
        # The page's rule for the conversation (edits, deletions, media in words).
        context = alert_context(tenant=self.tenant, alert=alert)
        around = {
            "conversation": people["conversation"],
            "before": context.before,
            "flagged": context.flagged,
            "after": context.after,
        }
        group = group_of(tenant=self.tenant, alert=alert, role=role)
        events = list(
            AlertEvent.objects.filter(tenant=self.tenant, alert=alert).order_by("at", "id")
        )
        for event in events:
            setattr(event, "details_shown", masking.event_details(alert, event.details))  # noqa: B010
        # Read by the serializers only (source=...): what the view prepared.
        for name, value in (
            ("people", people), ("around", around), ("group", [g.pk for g in group]),
            ("events_shown", events),
        ):  # fmt: skip
            setattr(alert, name, value)
        record_archive_read(
            tenant=self.tenant, actor=self.actor, endpoint=f"/api/v1/alerts/{alert.pk}/",
            kind="message", ids=context.message_ids, filters={"alert": str(alert.pk)},
        )  # fmt: skip
        return Response(AlertDetailSerializer(alert).data)

    # --- actions -----------------------------------------------------------------------------

    @action(detail=True, methods=["post"])
    def claim(self, request: Request, pk: str | None = None) -> Response:
        """Hold the alert for review (an open alert moves to in review). 409 when another
        officer holds it."""
        alert = self._alert()
        self._person_only()
        try:
            claim_alert(alert=alert, actor=self.actor)
        except AlertError as error:
            raise refused(error) from None
        return self._answer(alert)

    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        """Give the alert back to the queue (its holder, or an admin)."""
        alert = self._alert()
        self._person_only()
        incoming = VersionInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            release_alert(
                alert=alert, actor=self.actor,
                expected_version=incoming.validated_data.get("expected_version"),
            )  # fmt: skip
        except AlertError as error:
            raise refused(error) from None
        return self._answer(alert)

    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """Move the alert under the workflow's rules: closing needs a disposition and a
        rationale; reopening a closed alert needs a reason (rationale)."""
        alert = self._alert()
        self._person_only()
        incoming = TransitionInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            moved = transition_alert(
                alert=alert, actor=self.actor, to=data["to"], disposition=data["disposition"],
                rationale=data["rationale"], expected_version=data.get("expected_version"),
            )  # fmt: skip
        except AlertError as error:
            raise refused(error) from None
        closed = []
        if moved.status == Status.CLOSED and data["with_group"]:
            # As the page's "also close the other open alerts of this group".
            closed = close_group(
                alert=moved, actor=self.actor, disposition=data["disposition"],
                rationale=data["rationale"],
            )  # fmt: skip
        fresh = alert_for(tenant=self.tenant, pk=alert.pk, role=request_role(request)) or alert
        shown = with_people([fresh], tenant=self.tenant, request=request)[0]
        setattr(shown, "group_closed", [c.pk for c in closed])  # noqa: B010
        return Response(TransitionOutcomeSerializer(shown).data)

    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Make an officer or admin of the firm responsible for the alert (null: nobody)."""
        alert = self._alert()
        incoming = AssignInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        assignee = None
        if data["assignee"] is not None:
            assignee = User.objects.filter(pk=data["assignee"]).first()
            if assignee is None:
                # The service's sentence: whether the id exists elsewhere stays unsaid.
                raise refused(
                    NotAReviewer(
                        "Alerts can be assigned only to this firm's compliance officers and admins."
                    )
                )
        try:
            assign_alert(
                alert=alert, actor=self.actor, assignee=assignee,
                expected_version=data.get("expected_version"),
            )  # fmt: skip
        except AlertError as error:
            raise refused(error) from None
        return self._answer(alert)

    @extend_schema(
        methods=["POST"],
        request=CommentInputSerializer,
        responses={201: AlertCommentSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def comments(self, request: Request, pk: str | None = None) -> Response:
        """The officers' comments, oldest first; POST adds one (stored as typed: escape it
        when you show it)."""
        alert = self._alert()
        if request.method == "GET":
            rows = AlertComment.objects.filter(tenant=self.tenant, alert=alert).order_by(
                "created_at", "id"
            )
            return Response(AlertCommentSerializer(rows, many=True).data)
        incoming = CommentInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            body = incoming.validated_data["body"]
            comment = add_comment(alert=alert, actor=self.actor, body=body)
        except AlertError as error:
            raise refused(error) from None
        return Response(AlertCommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @action(detail=False, methods=["post"], url_path="bulk-transition")
    def bulk_transition(self, request: Request) -> Response:
        """Move many alerts at once (at most settings.ALERTS_BULK_MAX), each under the same
        rules as one: those held by someone else, changed since you saw them, or for which the
        move is illegal are left as they were and listed with why."""
        self._person_only()
        incoming = BulkTransitionInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        chosen = [Chosen(c["id"], c.get("expected_version")) for c in data["alerts"]]
        try:
            outcome = bulk_transition(
                tenant=self.tenant, actor=self.actor, chosen=chosen, to=data["to"],
                disposition=data["disposition"], rationale=data["rationale"],
            )  # fmt: skip
        except AlertError as error:
            raise refused(error) from None
        return Response(BulkOutcomeSerializer(outcome).data)


def _days(count: int | None) -> timedelta | None:
    return timedelta(days=count) if count else None
