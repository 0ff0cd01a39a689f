"""``/api/v1/exports/``: exports of the archive for auditors and admins. POST defines one by a
search (the query language and filters of ``/api/v1/messages/``) or by a legal hold, and
formats; a worker prepares the bag; ``/api/v1/exports/{id}/`` tells how far it is and, once
ready, gives a download link that is signed, bound to the caller and good for
settings.EXPORT_LINK_MAX_AGE seconds.

Kept beside the exports rather than in archive/api.py, which is already the longest module of
the app; routed from archive/api_urls.py with the rest of the archive.
"""

from __future__ import annotations

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.response import Response

from compliance_hub.api.base import TenantViewSet
from compliance_hub.api.errors import Conflict
from compliance_hub.api.responses import NOT_FOUND, error_response

from ..api import _refuse_naive_times
from ..export.payload import FORMATS as EXPORT_FORMATS
from ..models import Direction
from ..search.query import MAX_QUERY_LENGTH
from ..search.selectors import SearchFilters
from .links import LinkExpired, LinkRefused, check_download_token, download_token
from .models import Export
from .responses import export_response
from .selectors import EXPORT_ROLES, status_text, tenant_exports
from .services import (
    MAX_MATTER,
    ExportNotDownloadable,
    ExportRefused,
    download_export,
    export_progress,
    request_export,
)


class Gone(APIException):
    status_code = 410
    default_code = "gone"
    default_detail = "This is no longer available."


# --- serializers -------------------------------------------------------------------------------


class ExportInputSerializer(serializers.Serializer):
    query = serializers.CharField(
        allow_blank=True, required=False, default="", max_length=MAX_QUERY_LENGTH,
        trim_whitespace=False,
        help_text="The query language of /api/v1/messages/?q= (blank: every message the "
        "filters allow)",
    )  # fmt: skip
    formats = serializers.ListField(
        child=serializers.CharField(),
        allow_empty=True,
        help_text=f"At least one of: {', '.join(EXPORT_FORMATS)} (html brings media along)",
    )
    matter = serializers.CharField(
        allow_blank=True, required=False, default="", max_length=MAX_MATTER,
        help_text="The matter or case it is for (written into the bag)",
    )  # fmt: skip
    legal_hold = serializers.IntegerField(
        required=False, allow_null=True, min_value=1,
        help_text="Export the messages this legal hold covers (its id; active or released) "
        "instead of a search: then give no query and no filters. Its matter is the export's "
        "unless matter is given.",
    )  # fmt: skip
    employee = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    team = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    counterparty = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text="The client's wa_id or user id (BSUID), or part of their name",
    )  # fmt: skip
    direction = serializers.ChoiceField(
        choices=Direction.choices, required=False, allow_blank=True, default=""
    )
    conversation = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    type = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Meta's type name"
    )
    has_attachment = serializers.BooleanField(required=False, allow_null=True, default=None)
    edited = serializers.BooleanField(required=False, allow_null=True, default=None)
    deleted = serializers.BooleanField(required=False, allow_null=True, default=None)
    since = serializers.DateTimeField(
        required=False, allow_null=True, help_text="From (inclusive; ISO 8601 with UTC offset)"
    )
    until = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Before (exclusive; ISO 8601 with UTC offset)"
    )

    def validate(self, attrs: dict) -> dict:
        # DRF reads a time without an offset in the server's zone: refuse it, as the search does.
        if hasattr(self.initial_data, "get"):
            _refuse_naive_times(
                {
                    k: self.initial_data.get(k)
                    for k in ("since", "until")
                    if self.initial_data.get(k)
                }
            )
        return attrs

    def search_filters(self) -> SearchFilters:
        data = self.validated_data
        return SearchFilters(
            employee=data.get("employee"),
            team=data.get("team"),
            counterparty=data.get("counterparty") or "",
            direction=data.get("direction") or "",
            conversation=data.get("conversation"),
            message_type=data.get("type") or "",
            has_attachment=data.get("has_attachment"),
            edited=data.get("edited"),
            deleted=data.get("deleted"),
            since=data.get("since"),
            until=data.get("until"),
        )


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(help_text="Messages written so far")
    total = serializers.IntegerField(help_text="Messages the export holds")
    percent = serializers.IntegerField(help_text="0 to 100")


class ExportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.SerializerMethodField(
        help_text="queued, running, ready, failed or expired"
    )
    status_text = serializers.SerializerMethodField(help_text="Where it stands, in words")
    progress = serializers.SerializerMethodField()
    matter = serializers.CharField()
    query = serializers.CharField()
    legal_hold = serializers.IntegerField(
        source="legal_hold_id", allow_null=True,
        help_text="The legal hold it exports (its id); null for an export by a search",
    )  # fmt: skip
    filters = serializers.JSONField(help_text="The search's filters; times in ISO UTC")
    formats = serializers.ListField(child=serializers.CharField())
    requester = serializers.CharField(help_text="Who asked, as the audit trail names them")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When the file is deleted (set once ready)"
    )
    counts = serializers.JSONField(help_text="conversations, messages, events, attachments")
    size = serializers.IntegerField(allow_null=True, help_text="Bytes of the zip")
    tag_manifest_sha256 = serializers.CharField(
        help_text="SHA-256 of the bag's tagmanifest-sha256.txt (signed inside the bag)"
    )
    checkpoint = serializers.IntegerField(
        source="checkpoint_id", allow_null=True, help_text="The log checkpoint it was cut at"
    )
    error = serializers.CharField(help_text="Why it failed; empty otherwise")
    download_url = serializers.SerializerMethodField(
        help_text="When ready: a link for you alone, good for an hour; null otherwise"
    )

    def get_status(self, export: Export) -> str:
        return Export.Status.EXPIRED if export.is_expired else export.status

    def get_status_text(self, export: Export) -> str:
        return status_text(export)

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, export: Export) -> dict:
        progress = export_progress(export)
        return {"done": progress.done, "total": progress.total, "percent": progress.percent}

    def get_download_url(self, export: Export) -> str | None:
        view = self.context.get("view")
        request = self.context.get("request")
        if not export.downloadable or view is None or request is None:
            return None
        token = download_token(export=export, actor=view.actor)
        url = reverse("export-download", args=[export.pk]) + f"?token={token}"
        return request.build_absolute_uri(url)


# --- the viewset -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: ExportSerializer(many=True)}),
    retrieve=extend_schema(responses={200: ExportSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        request=ExportInputSerializer,
        responses={
            201: ExportSerializer,
            400: error_response(
                "Invalid input, a malformed query, an unknown legal hold, a hold together with a "
                "search, or nothing to export; nothing queued"
            ),
        },
    ),
    download=extend_schema(
        parameters=[
            OpenApiParameter(
                "token", str, required=True, description="From the export's download_url"
            )
        ],
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The bag, zipped, as a download (audited)"
            ),
            403: error_response("The link was altered, or made for another export or person"),
            404: NOT_FOUND,
            409: error_response("The export is not ready"),
            410: error_response("The link, or the export itself, has expired"),
        },
    ),
)
class ExportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, TenantViewSet
):
    """Exports of the archive (auditors and admins), newest first. Creating one checks the
    search and queues it; ``progress`` and ``status_text`` say how far it is; once ready,
    ``download_url`` is a signed link for the caller only, valid for an hour, and every
    download is audited with the bag's tag-manifest hash. Files are deleted after
    ``expires_at``."""

    allowed_roles = EXPORT_ROLES
    model = Export
    serializer_class = ExportSerializer
    filter_backends: list = []

    def tenant_queryset(self):
        return tenant_exports(tenant=self.tenant)

    def create(self, request, *args, **kwargs):
        incoming = ExportInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            export = request_export(
                tenant=self.tenant, actor=self.actor, query=data["query"],
                filters=incoming.search_filters(), formats=data["formats"], matter=data["matter"],
                legal_hold=data.get("legal_hold"),
            )  # fmt: skip
        except ExportRefused as error:
            raise ValidationError({error.field or "non_field_errors": [error.message]}) from None
        return Response(self.get_serializer(export).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"], pagination_class=None)
    def download(self, request, pk=None) -> FileResponse:
        export = self.get_object()
        try:
            check_download_token(
                request.query_params.get("token", ""), export=export, actor=self.actor
            )
        except LinkExpired as error:
            raise Gone(error.message) from None
        except LinkRefused as error:
            raise PermissionDenied(error.message) from None
        try:
            download = download_export(tenant=self.tenant, actor=self.actor, export=export)
        except ExportNotDownloadable as error:
            if export.is_expired:
                raise Gone(error.message) from None
            raise Conflict(error.message) from None
        return export_response(download)
