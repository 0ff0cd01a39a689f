"""``/api/v1/legal-holds/``: the tenant's legal holds. List and read for officers, auditors and
admins; place, correct (matter and reason only) and release (with a reason) for officers and
admins.

Who writes: the issue gives holds to "auditors and officers", and DESIGN.md's roles settle it.
Compliance officers run the firm's matters (they escalate what they find to legal), and admins
run the tenant; both place and release holds. Auditors search and export the archive: they read
holds (and search what a hold freezes) but do not decide what the firm keeps, so a hold they
could lift would let the reviewer change what is under review.
"""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from compliance_hub.api.base import TenantViewSet
from compliance_hub.api.errors import Conflict
from compliance_hub.api.permissions import request_wall
from compliance_hub.api.responses import INVALID, NOT_FOUND, error_response
from compliance_hub.tenancy.roles import REVIEWER_ROLES
from consent.pseudonymised import PeopleLens, people_lens

from ..selectors import READ_ROLES
from .models import LegalHold
from .selectors import describe_holds, hold_counts, legal_holds
from .services import HoldError, place_hold, release_hold, update_hold

WRITE_ROLES = REVIEWER_ROLES


class InstantField(serializers.DateTimeField):
    """An ISO 8601 time with its UTC offset: one without would be read in the server's zone,
    which is nobody's, so it is refused rather than guessed."""

    def to_internal_value(self, value):
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is not None and parsed.utcoffset() is None:
            raise serializers.ValidationError("Give the time with its UTC offset (Z or +01:00).")
        return super().to_internal_value(value)


class SavedSearchScopeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="saved_search_id")
    version = serializers.IntegerField(source="number", help_text="The version the hold keeps")
    name = serializers.CharField()
    query = serializers.CharField(allow_blank=True)
    filters = serializers.DictField(child=serializers.CharField())


class ScopeSerializer(serializers.Serializer):
    """For a masked reader (the context's ``masked``) the client and the saved search's words
    are left empty, as the alerts API leaves a client's number: they may name a person."""

    employees = serializers.ListField(
        child=serializers.IntegerField(), source="employee_ids", help_text="Employee ids"
    )
    conversations = serializers.ListField(
        child=serializers.IntegerField(), source="conversation_ids", help_text="Conversation ids"
    )
    counterparty = serializers.CharField(
        allow_blank=True, help_text="The client's number, user id or part of their name"
    )
    since = serializers.DateTimeField(allow_null=True, help_text="From (UTC, inclusive)")
    until = serializers.DateTimeField(allow_null=True, help_text="Before (UTC, exclusive)")
    saved_search = SavedSearchScopeSerializer(
        source="saved_search_version", allow_null=True, help_text="At the version chosen"
    )

    def to_representation(self, instance: LegalHold) -> dict:
        data = super().to_representation(instance)
        if self.context.get("masked"):
            data["counterparty"] = ""
            if data.get("saved_search"):
                data["saved_search"] = {**data["saved_search"], "query": "", "filters": {}}
        return data


class LegalHoldSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    matter = serializers.CharField()
    reason = serializers.CharField()
    status = serializers.ChoiceField(choices=LegalHold.Status.choices)
    scope = ScopeSerializer(
        source="*", help_text="Conditions that all apply; messages captured later match too"
    )
    covers = serializers.ListField(
        child=serializers.CharField(), help_text="The scope in words, one line per condition"
    )
    created_by = serializers.CharField(source="created_by_label")
    created_at = serializers.DateTimeField()
    released_by = serializers.CharField(source="released_by_label", allow_blank=True)
    released_at = serializers.DateTimeField(allow_null=True)
    release_reason = serializers.CharField(allow_blank=True)


class LegalHoldDetailSerializer(LegalHoldSerializer):
    message_count = serializers.IntegerField(help_text="Messages the scope names now")


class LegalHoldInputSerializer(serializers.Serializer):
    matter = serializers.CharField(max_length=200)
    reason = serializers.CharField()
    employees = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list,
        help_text="Employee ids: their messages (any of them)",
    )  # fmt: skip
    conversations = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list,
        help_text="Conversation ids (any of them)",
    )  # fmt: skip
    counterparty = serializers.CharField(
        max_length=300, required=False, default="", allow_blank=True,
        help_text="The client's number, user id or part of their name, as in search",
    )  # fmt: skip
    since = InstantField(
        required=False, default=None, allow_null=True, help_text="From (with its UTC offset)"
    )
    until = InstantField(
        required=False, default=None, allow_null=True,
        help_text="Before this time, exclusive (with its UTC offset)",
    )  # fmt: skip
    saved_search = serializers.IntegerField(
        min_value=1, required=False, default=None, allow_null=True, help_text="Saved search id"
    )
    saved_search_version = serializers.IntegerField(
        min_value=1, required=False, default=None, allow_null=True,
        help_text="Its version to keep (default: the current one)",
    )  # fmt: skip


class LegalHoldPatchSerializer(serializers.Serializer):
    matter = serializers.CharField(max_length=200, required=False)
    reason = serializers.CharField(required=False)


class ReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the hold ends (kept in the audit trail)")


# Service field names to the API's.
_FIELDS = {"employees": "employees", "conversations": "conversations", "scope": "non_field_errors"}


def _refused(error: HoldError) -> ValidationError:
    return ValidationError({_FIELDS.get(error.field, error.field or "non_field_errors"): [
        error.message
    ]})  # fmt: skip


@extend_schema_view(
    list=extend_schema(responses={200: LegalHoldSerializer(many=True)}),
    retrieve=extend_schema(responses={200: LegalHoldDetailSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        request=LegalHoldInputSerializer,
        responses={
            201: LegalHoldDetailSerializer,
            400: INVALID,
            403: error_response("Auditors read holds; officers and admins place them"),
        },
    ),
    partial_update=extend_schema(
        request=LegalHoldPatchSerializer,
        responses={200: LegalHoldDetailSerializer, 400: INVALID, 404: NOT_FOUND},
    ),
    release=extend_schema(
        request=ReleaseSerializer,
        responses={
            200: LegalHoldDetailSerializer,
            400: INVALID,
            404: NOT_FOUND,
            409: error_response("The hold was released already"),
        },
    ),
)
class LegalHoldViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    TenantViewSet,
):
    """The tenant's legal holds, active first: what each freezes against disposition and
    erasure (conditions, so messages captured later are held too). Officers and admins place,
    correct (matter and reason; a new scope is a release and a new hold) and release them, with
    a reason; auditors read. Every change is audited."""

    allowed_roles = READ_ROLES
    write_roles = WRITE_ROLES
    model = LegalHold
    serializer_class = LegalHoldSerializer
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def tenant_queryset(self):
        return legal_holds(tenant=self.tenant)

    def lens(self) -> PeopleLens:
        """How this reader reads the firm's people (pseudonyms when the wall masks them)."""
        return people_lens(tenant=self.tenant, masked=request_wall(self.request).closed)

    def get_serializer_context(self) -> dict:
        context = dict(super().get_serializer_context())
        if getattr(self, "swagger_fake_view", False):  # schema generation: no reader
            return context
        return {**context, "masked": request_wall(self.request).closed}

    def _described(self, holds: list[LegalHold], *, counted: bool) -> list[LegalHold]:
        covers = describe_holds(tenant=self.tenant, holds=holds, lens=self.lens())
        counts = hold_counts(tenant=self.tenant, holds=holds) if counted else {}
        for hold in holds:
            # Read by the serializers only: a page's values, not columns.
            setattr(hold, "covers", covers[hold.pk])  # noqa: B010
            if counted:
                setattr(hold, "message_count", counts[hold.pk])  # noqa: B010
        return holds

    def _answer(self, hold: LegalHold, code: int = status.HTTP_200_OK) -> Response:
        hold = self.tenant_queryset().get(pk=hold.pk)
        [hold] = self._described([hold], counted=True)
        answer = LegalHoldDetailSerializer(hold, context=self.get_serializer_context())
        return Response(answer.data, status=code)

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = self._described(list(page or []), counted=False)
        answer = LegalHoldSerializer(rows, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(answer.data)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return self._answer(self.get_object())

    def create(self, request: Request, *args, **kwargs) -> Response:
        incoming = LegalHoldInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        try:
            hold = place_hold(
                tenant=self.tenant, actor=self.actor, employee_ids=data.pop("employees"),
                conversation_ids=data.pop("conversations"), **data,
            )  # fmt: skip
        except HoldError as error:
            raise _refused(error) from None
        return self._answer(hold, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        hold = self.get_object()
        incoming = LegalHoldPatchSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            hold = update_hold(
                tenant=self.tenant, actor=self.actor, hold=hold, **incoming.validated_data
            )
        except HoldError as error:
            raise _refused(error) from None
        return self._answer(hold)

    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        """End the hold: what it held follows its retention again. A reason is required."""
        hold = self.get_object()
        incoming = ReleaseSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            hold = release_hold(
                tenant=self.tenant, actor=self.actor, hold=hold,
                reason=incoming.validated_data["reason"],
            )  # fmt: skip
        except HoldError as error:
            if error.field == "hold":
                raise Conflict(error.message) from None
            raise _refused(error) from None
        return self._answer(hold)
