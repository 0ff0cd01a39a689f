"""``/api/v1/employees/``: the monitored people, their consent history, CSV import."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.fields import BooleanField
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from compliance_hub.api.base import TenantViewSet
from compliance_hub.api.errors import conflict, error_body
from compliance_hub.api.permissions import ALL_ROLES, BehindTheWall, HasTenantRole
from compliance_hub.api.responses import CONFLICT, INVALID, NOT_FOUND, error_response
from compliance_hub.tenancy.models import Role

from .. import services
from ..imports import ImportRejected, error_dicts, import_employees, read_upload, validate_import
from ..models import ConsentNotice, ConsentState, Employee
from ..selectors import consent_history, employee_list
from .serializers import (
    ConsentEventSerializer,
    ConsentRecordInputSerializer,
    DeactivateInputSerializer,
    EmployeeInputSerializer,
    EmployeeSerializer,
    ImportCheckSerializer,
    ImportInputSerializer,
    ImportResultSerializer,
    ReasonInputSerializer,
)

EMPLOYEE_FIELDS = (
    "full_name",
    "email",
    "employee_id",
    "team",
    "region",
    "language",
    "phone_number",
    "whatsapp_phone_number_id",
)


class EmployeeFilter(django_filters.FilterSet):
    team = django_filters.CharFilter(
        field_name="team__name", lookup_expr="iexact", help_text="Team name"
    )
    region = django_filters.CharFilter(method="filter_region", help_text="ISO 3166-1 alpha-2")
    consent_state = django_filters.ChoiceFilter(choices=ConsentState.choices)
    # A choice, not a BooleanFilter: that one quietly ignores "active=perhaps".
    active = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")], method="filter_active"
    )
    search = django_filters.CharFilter(
        method="filter_search", help_text="Part of the name, email, employee id or phone number"
    )

    class Meta:
        model = Employee
        fields = ["team", "region", "consent_state", "active", "search"]

    def filter_region(self, queryset, name: str, value: str):
        return queryset.filter(region=value.strip().upper())

    def filter_active(self, queryset, name: str, value: str):
        return queryset.filter(active=value == "true")

    def filter_search(self, queryset, name: str, value: str):
        value = value.strip()
        return queryset.filter(
            Q(full_name__icontains=value)
            | Q(email__icontains=value)
            | Q(employee_id__icontains=value)
            | Q(phone_number__icontains=value)
        )


class EmployeeViewSet(TenantViewSet):
    """Employees of the tenant with their consent state (computed in SQL). Everyone reads;
    admins add, change, deactivate, record and withdraw consent, and import CSV files."""

    allowed_roles = ALL_ROLES
    write_roles = (Role.ADMIN,)
    # Names and numbers: refused to a masked officer (pseudonymised review's wall); one
    # employee is looked up first (another firm's is a 404), then refused (no wall_conversation).
    permission_classes = [HasTenantRole, BehindTheWall]
    model = Employee
    serializer_class = EmployeeSerializer
    filterset_class = EmployeeFilter

    def tenant_queryset(self):
        return employee_list(tenant=self.tenant)

    def _fresh(self, employee: Employee) -> Employee:
        """Re-read with the consent state annotation after a change."""
        return employee_list(tenant=self.tenant).get(pk=employee.pk)

    # --- the employee ---------------------------------------------------------------------

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(EmployeeSerializer(page, many=True).data)

    @extend_schema(responses={200: EmployeeSerializer, 404: NOT_FOUND})
    def retrieve(self, request, *args, **kwargs):
        return Response(EmployeeSerializer(self.get_object()).data)

    @extend_schema(
        request=EmployeeInputSerializer, responses={201: EmployeeSerializer, 400: INVALID}
    )
    def create(self, request, *args, **kwargs):
        incoming = EmployeeInputSerializer(data=request.data, context={"tenant": self.tenant})
        incoming.is_valid(raise_exception=True)
        employee = services.create_employee(
            tenant=self.tenant,
            data=services.EmployeeData(**incoming.validated_data),
            actor=self.actor,
        )
        return Response(
            EmployeeSerializer(self._fresh(employee)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=EmployeeInputSerializer,
        responses={200: EmployeeSerializer, 400: INVALID, 404: NOT_FOUND, 409: CONFLICT},
    )
    def partial_update(self, request, *args, **kwargs):
        employee = self.get_object()
        incoming = EmployeeInputSerializer(
            data=request.data, partial=True, context={"tenant": self.tenant}
        )
        incoming.is_valid(raise_exception=True)
        fields = {name: getattr(employee, name) for name in EMPLOYEE_FIELDS}
        fields.update(incoming.validated_data)
        try:
            services.update_employee(
                employee=employee,
                data=services.EmployeeData(**fields),
                actor=self.actor,
            )
        except services.ConsentError as error:
            raise conflict(error) from None
        return Response(EmployeeSerializer(self._fresh(employee)).data)

    @extend_schema(
        request=DeactivateInputSerializer,
        responses={200: EmployeeSerializer, 400: INVALID, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def deactivate(self, request, pk=None):
        """Offboarding: capture stops, the number is released, the archive stays."""
        employee = self.get_object()
        incoming = DeactivateInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            services.deactivate_employee(
                employee=employee,
                actor=self.actor,
                reason=incoming.validated_data["reason"],
            )
        except services.ConsentError as error:
            raise conflict(error) from None
        return Response(EmployeeSerializer(self._fresh(employee)).data)

    # --- consent --------------------------------------------------------------------------

    @extend_schema(responses={200: ConsentEventSerializer(many=True), 404: NOT_FOUND})
    @action(detail=True, methods=["get"], filter_backends=[])
    def consents(self, request, pk=None):
        """The employee's consent history, oldest first: grants, declines, withdrawals, expiries."""
        employee = self.get_object()
        page = self.paginate_queryset(consent_history(employee=employee))
        return self.get_paginated_response(ConsentEventSerializer(page, many=True).data)

    @extend_schema(
        request={
            "multipart/form-data": ConsentRecordInputSerializer,
            "application/json": ConsentRecordInputSerializer,
        },
        responses={201: ConsentEventSerializer, 400: INVALID, 404: NOT_FOUND, 409: CONFLICT},
    )
    @consents.mapping.post
    def record_consent(self, request, pk=None):
        """Record an opt-in given on paper or elsewhere, with its evidence."""
        employee = self.get_object()
        if not employee.active:
            raise conflict(services.ConsentError("A deactivated employee cannot consent."))
        incoming = ConsentRecordInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        notice = None
        if data["notice"] != "current":
            notice = ConsentNotice.objects.filter(
                tenant=self.tenant,
                pk=int(data["notice"]),
                status=ConsentNotice.Status.PUBLISHED,
            ).first()
            if notice is None:
                raise services.ConsentError(
                    {"notice": "No published notice version with this id; use 'current'?"}
                )
        try:
            event = services.record_consent(
                employee=employee,
                actor=self.actor,
                notice=notice,
                evidence=data.get("evidence"),
                evidence_reference=data["evidence_reference"],
                occurred_at=data.get("occurred_at"),
                signature_name=data.get("signature_name", ""),
            )
        except services.AlreadyConsented as error:
            raise conflict(error) from None
        return Response(ConsentEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ReasonInputSerializer,
        responses={201: ConsentEventSerializer, 400: INVALID, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="consents/withdraw",
        url_name="consents-withdraw",
        filter_backends=[],
    )
    def withdraw(self, request, pk=None):
        """Withdraw the employee's consent on their behalf: capture stops at once."""
        employee = self.get_object()
        incoming = ReasonInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            event = services.withdraw_consent(
                employee=employee,
                actor=self.actor,
                reason=incoming.validated_data["reason"],
            )
        except services.ConsentError as error:
            raise conflict(error) from None
        return Response(ConsentEventSerializer(event).data, status=status.HTTP_201_CREATED)

    # --- import ---------------------------------------------------------------------------

    @extend_schema(
        request={"multipart/form-data": ImportInputSerializer},
        parameters=[
            OpenApiParameter(
                "dry_run",
                OpenApiTypes.BOOL,
                OpenApiParameter.QUERY,
                description="Only check the file and answer the row errors; store nothing",
            )
        ],
        responses={
            200: OpenApiResponse(ImportCheckSerializer, description="Dry run: the check"),
            201: ImportResultSerializer,
            400: error_response(
                "The file has errors (details.errors lists each row); nothing was imported"
            ),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[MultiPartParser, FormParser],
        filter_backends=[],
        pagination_class=None,
    )
    def import_csv(self, request):
        """Import employees from a CSV file: every row or none. With ``dry_run`` only check."""
        incoming = ImportInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        upload = incoming.validated_data["file"]
        data = read_upload(upload)
        dry_run = incoming.validated_data["dry_run"] or _truthy(request.query_params.get("dry_run"))
        create_teams = incoming.validated_data["create_teams"]
        if dry_run:
            result = validate_import(tenant=self.tenant, data=data, create_teams=create_teams)
            body = {
                "rows": result.total_lines,
                "valid_rows": len(result.rows),
                "errors": error_dicts(result),
                "ok": result.ok,
                "new_teams": list(result.new_teams),
            }
            return Response(ImportCheckSerializer(body).data)
        try:
            imported = import_employees(
                tenant=self.tenant,
                filename=upload.name or "upload.csv",
                data=data,
                actor=self.actor,
                create_teams=create_teams,
            )
        except ImportRejected as rejected:
            return Response(
                error_body(400, "invalid", rejected.messages[0], {"errors": rejected.row_errors}),
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response({"imported": imported}, status=status.HTTP_201_CREATED)


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in BooleanField.TRUE_VALUES
