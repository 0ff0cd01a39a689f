"""API of backtests and lookbacks: ``/api/v1/policies/{id}/backtests/`` (GET the policy's, POST
start one of a draft) and ``/api/v1/backtests/{id}/`` (GET, ``cancel/`` POST); the same for
lookbacks. Dates are whole UTC days unless ``time_zone`` says otherwise. Officers and admins
start and cancel; auditors read. Routed from policies/run_api_urls.py.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from archive.services import record_archive_read
from compliance_hub.accounts.time_zones import DEFAULT_TIME_ZONE
from compliance_hub.api.base import TenantViewSet
from compliance_hub.api.errors import Conflict
from compliance_hub.api.permissions import request_wall
from compliance_hub.api.responses import NOT_FOUND, error_response

from .api.serializers import DocumentAsRead
from .backtests import request_backtest, sample_as_read
from .lookback import request_lookback
from .models import Policy, ScanJob
from .run_selectors import READ_ROLES, RUN_ROLES, scan_jobs, status_text, tenant_policy
from .runs import ScanJobRefused, cancel_job
from .scope_people import document_as_written, lens_for

# --- serializers -------------------------------------------------------------------------------


class RangeInputSerializer(serializers.Serializer):
    date_from = serializers.DateField(help_text="First day (included), YYYY-MM-DD")
    date_to = serializers.DateField(help_text="Last day (included), YYYY-MM-DD; today at latest")
    time_zone = serializers.CharField(
        required=False, default=DEFAULT_TIME_ZONE, max_length=64,
        help_text="The IANA time zone the days are in (default UTC)",
    )  # fmt: skip


class BacktestInputSerializer(RangeInputSerializer):
    document = serializers.JSONField(
        help_text="The draft policy document (not saved), as the policy editor holds it"
    )


class LookbackInputSerializer(RangeInputSerializer):
    version = serializers.IntegerField(
        required=False, allow_null=True, min_value=1,
        help_text="The policy's version number to run (default: its latest)",
    )  # fmt: skip


class RunProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(help_text="Messages read so far")
    total = serializers.IntegerField(help_text="Messages in the range when it was asked")
    percent = serializers.IntegerField(help_text="0 to 100")


class ScanJobSerializer(DocumentAsRead):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="backtest or lookback")
    policy = serializers.IntegerField(source="policy_id")
    version = serializers.SerializerMethodField(
        help_text="Lookback: the version run. Backtest: the saved version it is compared with "
        "(null when none)"
    )
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    time_zone = serializers.CharField()
    starts_at = serializers.DateTimeField(help_text="The range's first instant (included)")
    ends_at = serializers.DateTimeField(help_text="The range's last instant (excluded)")
    status = serializers.CharField(help_text="queued, running, done, failed or cancelled")
    status_text = serializers.SerializerMethodField(help_text="Where it stands, in words")
    progress = serializers.SerializerMethodField()
    results = serializers.SerializerMethodField(
        help_text="Backtest: scanned, skipped, flagged, share, saved_flagged, categories, "
        "sample (on one run's own address only), precision, saved_precision. Lookback: "
        "scanned, hits"
    )
    document = serializers.JSONField(help_text="Backtest: the draft it ran; {} for a lookback")
    error = serializers.CharField(help_text="Why it failed; empty otherwise")
    requested_by = serializers.CharField(
        source="requested_by_label", help_text="Who asked, as the audit trail names them"
    )
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_version(self, job: ScanJob) -> int | None:
        return job.version.number if job.version is not None else None

    def get_status_text(self, job: ScanJob) -> str:
        return status_text(job)

    @extend_schema_field(RunProgressSerializer)
    def get_progress(self, job: ScanJob) -> dict[str, int]:
        return {"done": job.progress_done, "total": job.progress_total, "percent": job.percent}

    @extend_schema_field(serializers.JSONField())
    def get_results(self, job: ScanJob) -> dict[str, Any]:
        results = dict(job.results or {})
        if not self.context.get("with_sample"):
            results.pop("sample", None)  # message content: shown (and audited) one run at a time
        return results


REFUSED = error_response(
    "Invalid input (a reversed, too long or future range, an unknown time zone, too many "
    "messages, a draft with errors); nothing queued"
)
CONFLICT = error_response("A run of this kind is already open for the policy; nothing queued")


def _refusal(error: ScanJobRefused) -> Exception:
    if error.conflict:
        return Conflict(error.message)
    if error.problems:
        return ValidationError({"document": [str(problem) for problem in error.problems]})
    return ValidationError({error.field or "non_field_errors": [error.message]})


# --- a policy's runs ---------------------------------------------------------------------------


class _PeopleAsRead:
    """Every answer of these views gives a backtest's draft as its reader reads people."""

    def lens(self: Any) -> Any:
        return lens_for(tenant=self.tenant, wall=request_wall(self.request))

    def get_serializer_context(self: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_serializer_context()  # type: ignore[misc]
        if getattr(self, "swagger_fake_view", False):  # schema generation: no reader
            return context
        return {**context, "lens": self.lens()}


class _PolicyRunsViewSet(_PeopleAsRead, mixins.ListModelMixin, TenantViewSet):
    allowed_roles = READ_ROLES
    write_roles = RUN_ROLES
    model = ScanJob
    serializer_class = ScanJobSerializer
    filter_backends: list = []
    kind: str

    def policy(self) -> Policy:
        policy = tenant_policy(tenant=self.tenant, pk=int(self.kwargs["policy_pk"]))
        if policy is None:
            raise Http404("No such policy.")
        return policy

    def tenant_queryset(self) -> Any:
        return scan_jobs(tenant=self.tenant, policy=self.policy(), kind=self.kind)


@extend_schema_view(
    list=extend_schema(responses={200: ScanJobSerializer(many=True), 404: NOT_FOUND}),
    create=extend_schema(
        request=BacktestInputSerializer,
        responses={201: ScanJobSerializer, 400: REFUSED, 404: NOT_FOUND, 409: CONFLICT},
    ),
)
class PolicyBacktestViewSet(mixins.CreateModelMixin, _PolicyRunsViewSet):
    """A policy's backtests, newest first; POST runs a draft document over a date range of the
    archive (nothing is raised): one open backtest per policy at a time."""

    kind = ScanJob.Kind.BACKTEST

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        policy = self.policy()
        incoming = BacktestInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        latest = policy.versions.filter(number=policy.version).first()
        draft, refused = document_as_written(
            data["document"], self.lens(), saved=latest.document if latest else None
        )
        if refused:
            raise ValidationError({"document": [str(problem) for problem in refused]})
        try:
            job = request_backtest(
                tenant=self.tenant, actor=self.actor, policy=policy, document=draft,
                date_from=data["date_from"], date_to=data["date_to"],
                time_zone=data["time_zone"],
            )  # fmt: skip
        except ScanJobRefused as error:
            raise _refusal(error) from None
        return Response(self.get_serializer(job).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(responses={200: ScanJobSerializer(many=True), 404: NOT_FOUND}),
    create=extend_schema(
        request=LookbackInputSerializer,
        responses={201: ScanJobSerializer, 400: REFUSED, 404: NOT_FOUND, 409: CONFLICT},
    ),
)
class PolicyLookbackViewSet(mixins.CreateModelMixin, _PolicyRunsViewSet):
    """A policy's lookbacks, newest first; POST runs a saved version over a date range of earlier
    messages and RAISES REAL ALERTS (marked lookback; never twice for a message and policy)."""

    kind = ScanJob.Kind.LOOKBACK

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        policy = self.policy()
        incoming = LookbackInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        version = None
        if data.get("version") is not None:
            version = policy.versions.filter(number=data["version"]).first()
            if version is None:
                raise ValidationError({"version": ["This policy has no such version."]})
        try:
            job = request_lookback(
                tenant=self.tenant, actor=self.actor, policy=policy, version=version,
                date_from=data["date_from"], date_to=data["date_to"],
                time_zone=data["time_zone"],
            )  # fmt: skip
        except ScanJobRefused as error:
            raise _refusal(error) from None
        return Response(self.get_serializer(job).data, status=status.HTTP_201_CREATED)


# --- one run -----------------------------------------------------------------------------------


class _RunViewSet(_PeopleAsRead, mixins.RetrieveModelMixin, TenantViewSet):
    allowed_roles = READ_ROLES
    write_roles = RUN_ROLES
    model = ScanJob
    serializer_class = ScanJobSerializer
    filter_backends: list = []
    kind: str

    def tenant_queryset(self) -> Any:
        return scan_jobs(tenant=self.tenant, kind=self.kind)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        job = self.get_object()
        data = ScanJobSerializer(job, context={"with_sample": True, "lens": self.lens()}).data
        sample = data["results"].get("sample") or []
        if sample:
            sample = sample_as_read(tenant=self.tenant, sample=sample, wall=request_wall(request))
            data["results"]["sample"] = sample
        if sample:
            # The sample shows what employees wrote: a read of the archive like any other.
            record_archive_read(
                tenant=self.tenant, actor=self.actor, endpoint=request.path, kind="message",
                ids=[entry["message_id"] for entry in sample], filters={"run": str(job.pk)},
            )  # fmt: skip
        return Response(data)

    @extend_schema(
        request=None,
        responses={200: ScanJobSerializer, 404: NOT_FOUND, 409: error_response(
            "It has already finished, failed or been cancelled")},
    )  # fmt: skip
    @action(detail=True, methods=["post"], pagination_class=None)
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Stop it: a queued run never starts; a running one stops at its next batch, keeping
        what it had done (a lookback's alerts so far stay raised)."""
        job = self.get_object()
        try:
            job = cancel_job(tenant=self.tenant, actor=self.actor, job=job)
        except ScanJobRefused as error:
            raise _refusal(error) from None
        return Response(self.get_serializer(job).data)


@extend_schema_view(retrieve=extend_schema(responses={200: ScanJobSerializer, 404: NOT_FOUND}))
class BacktestViewSet(_RunViewSet):
    """One backtest: where it stands and what the draft would have done (counts, share, by
    category, up to 50 would-be alerts with the matched spans, precision and recall on decided
    messages, the saved version's counts beside)."""

    kind = ScanJob.Kind.BACKTEST


@extend_schema_view(retrieve=extend_schema(responses={200: ScanJobSerializer, 404: NOT_FOUND}))
class LookbackViewSet(_RunViewSet):
    """One lookback: where it stands, messages read and new alerts raised."""

    kind = ScanJob.Kind.LOOKBACK
