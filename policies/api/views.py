"""``/api/v1/policies/``: the firm's policies and every version of their documents; officers and
admins create them, save new versions, switch them on and off, and anyone who may read them can
try a document on a text (``/test/``). ``/api/v1/policy-packs/``: the built-in packs, and copying
one into the firm. ``/api/v1/policy-hits/``: what the scan raised, read-only.

Views parse and call: the services check documents and audit every change; a document with
errors is a 400 whose ``details.problems`` say where and what."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, MethodNotAllowed, NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from archive.selectors import READ_ROLES
from archive.services import record_archive_read
from compliance_hub.api.base import TenantAPIMixin, TenantViewSet
from compliance_hub.api.filters import BooleanFilter, IdFilter, TimeFilter
from compliance_hub.api.pagination import StrictCursorPagination
from compliance_hub.api.permissions import request_wall
from compliance_hub.api.responses import INVALID, NOT_FOUND, error_response
from compliance_hub.api.throttling import TenantRateThrottle
from compliance_hub.digits import parse_id
from compliance_hub.tenancy.roles import REVIEWER_ROLES

from ..detectors.classifier import classify
from ..documents.evaluate import MessageContext
from ..documents.schema import SEVERITIES, Problem
from ..models import Policy, PolicyHit
from ..packs import packs
from ..scope_people import PeopleLens, document_as_read, document_as_written, lens_for
from ..selectors import (
    latest_versions,
    policies,
    policy_hits,
    policy_version,
    policy_versions,
    with_severity,
)
from ..services import (
    PolicyDocumentError,
    UnknownPackPolicy,
    create_policy,
    enable_pack,
    save_version,
    set_active,
)
from ..trial import try_document
from .serializers import (
    DocumentErrorSerializer,
    PackEnabledSerializer,
    PackSerializer,
    PolicyDetailSerializer,
    PolicyHitSerializer,
    PolicyInputSerializer,
    PolicyPatchSerializer,
    PolicySavedSerializer,
    PolicySerializer,
    PolicyVersionDetailSerializer,
    PolicyVersionSerializer,
    SavedTrialInputSerializer,
    TrialInputSerializer,
    TrialSerializer,
)

WRITE_ROLES = REVIEWER_ROLES
BAD_DOCUMENT = OpenApiResponse(
    DocumentErrorSerializer,
    description="The document has errors (details.problems: where and what), or the input is "
    "not valid; nothing changed",
)
FORBIDDEN = error_response("Auditors read policies; officers and admins change them")
PACK_SLUG = OpenApiParameter(
    "slug", str, OpenApiParameter.PATH, enum=[p.slug for p in packs()], description="The pack"
)
NO_DELETE = error_response(
    "Policies are never deleted (their versions are kept: hits remember them); switch one off"
)


class TrialRateThrottle(TenantRateThrottle):
    """Trying a text runs every detector over up to 100,000 characters (about a second of CPU
    at the limit): a tighter rate per key than the API's, so one client cannot keep the
    workers busy with trials."""

    scope = "policy_trial"


class InvalidDocument(APIException):
    status_code = 400
    default_code = "invalid_document"
    default_detail = "The policy document has errors; nothing was saved."

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__()
        self.details = {"problems": [_problem(p) for p in problems]}


def _problem(problem: Problem) -> dict[str, Any]:
    return {"where": problem.where, "message": problem.message, "warning": problem.warning}


def _finding_rows(findings) -> list[dict[str, object]]:
    return [finding.as_dict() for finding in findings]


# --- filters -----------------------------------------------------------------------------------


class PolicyFilter(django_filters.FilterSet):
    active = BooleanFilter(help_text="true: only policies switched on")
    pack = django_filters.CharFilter(
        max_length=64, help_text="The built-in pack a policy was copied from (slug)"
    )
    severity = django_filters.ChoiceFilter(
        choices=[(s, s) for s in SEVERITIES], method="filter_severity",
        help_text="The latest version's severity",
    )  # fmt: skip
    search = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", max_length=200, help_text="Part of the name"
    )

    class Meta:
        model = Policy
        fields = ["active", "pack", "severity", "search"]

    def filter_severity(self, queryset, name: str, value: str):
        return with_severity(queryset, value)


class PolicyHitFilter(django_filters.FilterSet):
    policy = IdFilter(field_name="policy_id", help_text="Policy id")
    message = IdFilter(field_name="message_id", help_text="Message id")
    severity = django_filters.ChoiceFilter(choices=[(s, s) for s in SEVERITIES])
    category = django_filters.CharFilter(
        method="filter_category", max_length=64,
        help_text="Hits with at least one finding of this category (pii, off_channel, ...)",
    )  # fmt: skip
    lookback = BooleanFilter(help_text="true: only raised by a run over earlier messages")
    since = TimeFilter(field_name="created_at", lookup_expr="gte", help_text="Raised from")
    until = TimeFilter(field_name="created_at", lookup_expr="lt", help_text="Raised before")

    class Meta:
        model = PolicyHit
        fields = ["policy", "message", "severity", "category", "lookback", "since", "until"]

    def filter_category(self, queryset, name: str, value: str):
        return queryset.filter(findings__contains=[{"category": value}])


# --- policies ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: PolicySerializer(many=True)}),
    retrieve=extend_schema(responses={200: PolicyDetailSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        request=PolicyInputSerializer,
        responses={201: PolicySavedSerializer, 400: BAD_DOCUMENT, 403: FORBIDDEN},
    ),
    update=extend_schema(
        request=PolicyInputSerializer,
        responses={200: PolicySavedSerializer, 400: BAD_DOCUMENT, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        request=PolicyPatchSerializer,
        responses={200: PolicySavedSerializer, 400: BAD_DOCUMENT, 404: NOT_FOUND},
    ),
    destroy=extend_schema(responses={405: NO_DELETE}),
    activate=extend_schema(request=None, responses={200: PolicyDetailSerializer, 404: NOT_FOUND}),
    deactivate=extend_schema(request=None, responses={200: PolicyDetailSerializer, 404: NOT_FOUND}),
    versions=extend_schema(
        responses={200: PolicyVersionSerializer(many=True), 404: NOT_FOUND}, filters=False
    ),
    version=extend_schema(responses={200: PolicyVersionDetailSerializer, 404: NOT_FOUND}),
    test_draft=extend_schema(
        operation_id="v1_policies_test_draft",
        request=TrialInputSerializer,
        responses={200: TrialSerializer, 400: INVALID},
    ),
    test=extend_schema(
        request=SavedTrialInputSerializer,
        responses={200: TrialSerializer, 400: INVALID, 404: NOT_FOUND},
    ),
)
class PolicyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    TenantViewSet,
):
    """The firm's policies, each as its latest version says. Every save of a document is a new
    version (the earlier ones stay: hits remember the version that fired); a save that changes
    nothing adds none and says so. A new policy is off until switched on. Officers and admins
    write; auditors read. Every change is in the audit trail."""

    allowed_roles = READ_ROLES
    write_roles = WRITE_ROLES
    model = Policy
    serializer_class = PolicySerializer
    filterset_class = PolicyFilter

    def tenant_queryset(self):
        return policies(tenant=self.tenant)

    def lens(self) -> PeopleLens:
        """How this reader reads the scope's people (pseudonyms when the wall masks them);
        asked once per request."""
        if not hasattr(self, "_lens"):
            self._lens = lens_for(tenant=self.tenant, wall=request_wall(self.request))
        return self._lens

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if getattr(self, "swagger_fake_view", False):  # schema generation: no reader
            return context
        return {**context, "lens": self.lens()}

    def _written(self, document: object, saved: object = None) -> object:
        """A document this reader submitted, as it is stored (their pseudonyms resolved)."""
        stored, refused = document_as_written(document, self.lens(), saved=saved)
        if refused:
            raise InvalidDocument(refused)
        return stored

    def get_serializer_class(self):
        # Only the schema's fallback reads this: every handler names its serializers.
        return PolicyDetailSerializer if self.detail else PolicySerializer

    def _with_latest(self, rows: list[Policy]) -> list[Policy]:
        latest = latest_versions(tenant=self.tenant, chosen=rows)
        for policy in rows:
            # Read by the serializers only: the version that scans, not a column.
            setattr(policy, "latest", latest[policy.pk])  # noqa: B010
        return rows

    def _detail(self, policy: Policy) -> Policy:
        [policy] = self._with_latest([self.tenant_queryset().get(pk=policy.pk)])
        return policy

    def _saved(
        self, policy: Policy, *, changed: bool, warnings: list[Problem], message: str, code: int
    ) -> Response:
        policy = self._detail(policy)
        setattr(policy, "changed", changed)  # noqa: B010
        setattr(policy, "message", message)  # noqa: B010
        setattr(policy, "warnings", [_problem(w) for w in warnings])  # noqa: B010
        answer = PolicySavedSerializer(policy, context=self.get_serializer_context())
        return Response(answer.data, status=code)

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = self._with_latest(list(page or []))
        return self.get_paginated_response(PolicySerializer(rows, many=True).data)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        policy = self._detail(self.get_object())
        return Response(PolicyDetailSerializer(policy, context=self.get_serializer_context()).data)

    def create(self, request: Request, *args, **kwargs) -> Response:
        incoming = PolicyInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            policy, warnings = create_policy(
                tenant=self.tenant, actor=self.actor,
                document=self._written(incoming.validated_data["document"]),
                note=incoming.validated_data["note"],
            )  # fmt: skip
        except PolicyDocumentError as error:
            raise InvalidDocument(error.problems) from None
        return self._saved(
            policy, changed=True, warnings=warnings, message="Policy created as version 1 (off).",
            code=status.HTTP_201_CREATED,
        )  # fmt: skip

    def _save(self, policy: Policy, document: object, note: str) -> Response:
        before = policy.version  # save_version refreshes the policy it is given
        try:
            version, warnings = save_version(
                policy=policy, actor=self.actor, document=document, note=note
            )
        except PolicyDocumentError as error:
            raise InvalidDocument(error.problems) from None
        changed = version.number != before
        message = (
            f"Saved as version {version.number}; the earlier versions are kept."
            if changed
            else f"The document is the same as version {version.number}: no version added."
        )
        return self._saved(
            policy, changed=changed, warnings=warnings, message=message, code=status.HTTP_200_OK
        )

    def update(self, request: Request, *args, **kwargs) -> Response:
        policy = self.get_object()
        if kwargs.get("partial"):
            return self._patch(request, policy)
        incoming = PolicyInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        [policy] = self._with_latest([policy])
        saved = policy.latest.document  # type: ignore[attr-defined]
        return self._save(policy, self._written(data["document"], saved), data["note"])

    def _patch(self, request: Request, policy: Policy) -> Response:
        incoming = PolicyPatchSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        [policy] = self._with_latest([policy])
        saved = policy.latest.document  # type: ignore[attr-defined]
        if "document" not in data:
            return self._save(policy, dict(saved), data["note"])
        # The fields are the reader's: patched into the document as they read it, then turned
        # back, so a masked reader's pseudonyms and the stored firm ids never mix.
        current: dict[str, Any] = dict(document_as_read(saved, self.lens()))
        fields = data["document"]
        if not isinstance(fields, dict):
            raise InvalidDocument([Problem("", "give the fields to change as a JSON object")])
        for key, value in fields.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
        return self._save(policy, self._written(current, saved), data["note"])

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        raise MethodNotAllowed(
            "DELETE",
            detail="Policies are never deleted: their versions are kept, and hits remember the "
            "version that fired. Switch it off instead (POST .../deactivate/).",
        )

    def _switch(self, active: bool) -> Response:
        policy = set_active(policy=self.get_object(), actor=self.actor, active=active)
        answer = PolicyDetailSerializer(self._detail(policy), context=self.get_serializer_context())
        return Response(answer.data)

    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk: str | None = None) -> Response:
        """Switch scanning with the latest version on (already on: nothing changes)."""
        return self._switch(True)

    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str | None = None) -> Response:
        """Switch scanning off (already off: nothing changes). Versions and hits stay."""
        return self._switch(False)

    @action(detail=True, methods=["get"], filter_backends=[])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        """Every version of the policy, newest first (without their documents)."""
        policy = self.get_object()
        page = self.paginate_queryset(policy_versions(tenant=self.tenant, policy=policy))
        return self.get_paginated_response(PolicyVersionSerializer(page, many=True).data)

    @action(
        detail=True, methods=["get"], url_path=r"versions/(?P<number>[0-9]+)", filter_backends=[]
    )
    def version(self, request: Request, pk: str | None = None, number: str = "") -> Response:
        """One version's document, as it was saved."""
        policy = self.get_object()
        wanted = parse_id(number)
        if wanted is None:
            raise NotFound()
        found = policy_version(tenant=self.tenant, policy=policy, number=wanted)
        if found is None:
            raise NotFound()
        answer = PolicyVersionDetailSerializer(found, context=self.get_serializer_context())
        return Response(answer.data)

    def _trial(self, document: object, data: dict[str, Any]) -> Response:
        # Counted here, once the input is good and the policy found: only runs cost CPU, and a
        # 404 or a 400 must stay a 404 or a 400 (a walk over other firms' ids sees no 429).
        throttle = TrialRateThrottle()
        if not throttle.allow_request(self.request, self):
            self.throttled(self.request, throttle.wait() or 60.0)
        context = MessageContext(**data["context"]) if data.get("context") else None
        trial = try_document(document, data["text"], context=context, classify=classify)
        verdict = trial.verdict
        answer = {
            "runnable": trial.runnable,
            "fired": bool(verdict and verdict.fired),
            "reason": verdict.reason if verdict else "The document has errors: see problems.",
            "problems": [_problem(p) for p in trial.problems],
            "findings": _finding_rows(trial.findings),
        }
        return Response(TrialSerializer(answer).data)

    # Trying changes nothing, so whoever reads policies may (auditors too).
    @action(
        detail=False, methods=["post"], url_path="test", write_roles=READ_ROLES,
        filter_backends=[],
    )  # fmt: skip
    def test_draft(self, request: Request) -> Response:
        """Run a document (saved or not) over one text as the scan would: whether it fires,
        why, and every finding of the detectors it uses. A document with errors is not run:
        `problems` say what to fix."""
        incoming = TrialInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        return self._trial(incoming.validated_data["document"], incoming.validated_data)

    @action(
        detail=True, methods=["post"], write_roles=READ_ROLES, filter_backends=[],
    )  # fmt: skip
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Run the policy's latest version over one text as the scan would."""
        [policy] = self._with_latest([self.get_object()])
        incoming = SavedTrialInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        # Tried as its reader reads it: a masked reader's context names people by pseudonym.
        document = document_as_read(policy.latest.document, self.lens())  # type: ignore[attr-defined]
        return self._trial(document, incoming.validated_data)


# --- packs -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: PackSerializer(many=True)}),
    enable=extend_schema(
        parameters=[PACK_SLUG],
        request=None,
        responses={
            200: PackEnabledSerializer,
            403: error_response("Auditors read packs; officers and admins switch them on"),
            404: error_response("No built-in pack of this name"),
        },
    ),
)
class PolicyPackViewSet(TenantAPIMixin, viewsets.ViewSet):
    """The built-in policy packs. Switching one on copies its policies into the firm (each its
    own policy, switched on, that the firm may then edit or switch off) and switches on its
    earlier copies that were off; a second time adds nothing and lists what was already there."""

    allowed_roles = READ_ROLES
    write_roles = WRITE_ROLES
    lookup_field = "slug"
    lookup_value_regex = "[a-z_]+"

    def list(self, request: Request) -> Response:
        rows = [
            {"slug": p.slug, "name": p.name, "description": p.description, "documents": p.documents}
            for p in packs()
        ]
        return Response(PackSerializer(rows, many=True).data)

    @action(detail=True, methods=["post"])
    def enable(self, request: Request, slug: str = "") -> Response:
        """Copy the pack's policies the firm does not have (by name) into it, switched on, and
        switch on earlier copies that were off (idempotent)."""
        try:
            outcome = enable_pack(tenant=self.tenant, actor=self.actor, slug=slug)
        except UnknownPackPolicy:
            raise NotFound("No built-in pack of this name.") from None
        shown = [*outcome.added, *outcome.switched_on, *outcome.unchanged]
        latest = latest_versions(tenant=self.tenant, chosen=shown)
        for policy in shown:
            setattr(policy, "latest", latest[policy.pk])  # noqa: B010
        answer = {
            "pack": slug,
            "added": outcome.added,
            "switched_on": outcome.switched_on,
            "unchanged": outcome.unchanged,
        }
        return Response(PackEnabledSerializer(answer).data)


# --- hits --------------------------------------------------------------------------------------


class PolicyHitPagination(StrictCursorPagination):
    """Stable pages while the scan adds hits: newest first."""

    ordering = ("-created_at", "-id")
    page_size = 50


@extend_schema_view(
    list=extend_schema(responses={200: PolicyHitSerializer(many=True), 400: INVALID}),
    retrieve=extend_schema(responses={200: PolicyHitSerializer, 404: NOT_FOUND}),
)
class PolicyHitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """What policies found in messages: the version that fired, its findings (with the matched
    text of personal data) and why. Findings quote message content, so each read is in the audit
    trail as a read of the archive."""

    allowed_roles = READ_ROLES
    model = PolicyHit
    serializer_class = PolicyHitSerializer
    filterset_class = PolicyHitFilter
    pagination_class = PolicyHitPagination

    def tenant_queryset(self):
        return policy_hits(tenant=self.tenant)

    def _audited(self, request: Request, endpoint: str, ids: list[int]) -> None:
        filters = {
            key: str(value)
            for key, value in request.query_params.items()
            if key not in {"cursor", "page_size"}
        }
        record_archive_read(
            tenant=self.tenant, actor=self.actor, endpoint=endpoint, kind="policy_hit", ids=ids,
            filters=filters,
        )  # fmt: skip

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = list(self.paginate_queryset(self.filter_queryset(self.get_queryset())) or [])
        self._audited(request, "/api/v1/policy-hits/", [hit.pk for hit in page])
        return self.get_paginated_response(PolicyHitSerializer(page, many=True).data)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        hit = self.get_object()
        self._audited(request, f"/api/v1/policy-hits/{hit.pk}/", [hit.pk])
        return Response(PolicyHitSerializer(hit).data)
