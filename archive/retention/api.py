"""``/api/v1/retention-policies/`` (admins change them; officers and auditors read them) and
``/api/v1/erasure-requests/`` (admins record them, and see them with auditors). Views parse and
call the services, which check the rules and audit every change."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from compliance_hub.api.base import TenantViewSet
from compliance_hub.api.responses import INVALID, NOT_FOUND
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.roles import READER_ROLES

from .erasure import ErasureInputError, record_erasure_request
from .models import ErasureRequest, RetentionPolicy, SubjectKind
from .rules import MAX_YEARS, PRESETS, RetentionRuleError
from .selectors import retention_policies
from .services import change_policy, create_policy, delete_policy

READ_ROLES = READER_ROLES
ADMINS = (Role.ADMIN,)


class RetentionPolicySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    preset = serializers.CharField(help_text=f"One of: {', '.join(PRESETS)}")
    preset_name = serializers.SerializerMethodField()
    regulation = serializers.SerializerMethodField(help_text="The rule the preset follows")
    floor_years = serializers.SerializerMethodField(help_text="The policy may not be shorter")
    accessible_years = serializers.SerializerMethodField(
        help_text="Years the rule wants the records easily accessible (all years are, here)"
    )
    years = serializers.IntegerField(help_text="Kept this many years from the WhatsApp time")
    scope = serializers.CharField(help_text="tenant, team or region")
    team = serializers.IntegerField(source="team_id", allow_null=True)
    team_name = serializers.SerializerMethodField()
    region = serializers.CharField(help_text="ISO 3166-1 alpha-2, for a region policy")
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by_label")
    updated_at = serializers.DateTimeField()

    def get_preset_name(self, policy) -> str:
        return PRESETS[policy.preset].name

    def get_regulation(self, policy) -> str:
        return PRESETS[policy.preset].regulation

    def get_floor_years(self, policy) -> int:
        return PRESETS[policy.preset].floor_years

    def get_accessible_years(self, policy) -> int:
        return PRESETS[policy.preset].accessible_years

    def get_team_name(self, policy) -> str:
        return policy.team.name if policy.team_id else ""


class RetentionPolicyInputSerializer(serializers.Serializer):
    preset = serializers.ChoiceField(choices=sorted(PRESETS))
    years = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_YEARS,
        help_text="Default: the preset's; never below its floor",
    )  # fmt: skip
    scope = serializers.ChoiceField(choices=RetentionPolicy.ScopeChoice.values, default="tenant")
    team = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    region = serializers.CharField(required=False, allow_blank=True, max_length=10)


class RetentionPolicyPatchSerializer(RetentionPolicyInputSerializer):
    preset = serializers.ChoiceField(choices=sorted(PRESETS), required=False)
    scope = serializers.ChoiceField(choices=RetentionPolicy.ScopeChoice.values, required=False)


def _refused(error: RetentionRuleError | ErasureInputError) -> ValidationError:
    return ValidationError({error.field: [error.message]})


@extend_schema_view(
    list=extend_schema(responses={200: RetentionPolicySerializer(many=True)}),
    retrieve=extend_schema(responses={200: RetentionPolicySerializer, 404: NOT_FOUND}),
    create=extend_schema(
        request=RetentionPolicyInputSerializer,
        responses={201: RetentionPolicySerializer, 400: INVALID},
    ),
    partial_update=extend_schema(
        request=RetentionPolicyPatchSerializer,
        responses={200: RetentionPolicySerializer, 400: INVALID, 404: NOT_FOUND},
    ),
    destroy=extend_schema(responses={204: None, 404: NOT_FOUND}),
)
class RetentionPolicyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """How long the firm keeps messages: regulation presets with their floors, for the whole
    firm, a team or a country. When several apply to a message the longest wins; a message no
    policy applies to is kept for ever. A period below the preset's floor is refused (400,
    naming the floor and the regulation). Every change is audited with before and after."""

    allowed_roles = READ_ROLES
    write_roles = ADMINS
    model = RetentionPolicy
    serializer_class = RetentionPolicySerializer
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def tenant_queryset(self):
        return retention_policies(tenant=self.tenant)

    def _answer(self, policy: RetentionPolicy, code: int = status.HTTP_200_OK) -> Response:
        policy = self.tenant_queryset().get(pk=policy.pk)
        return Response(self.get_serializer(policy).data, status=code)

    def create(self, request, *args, **kwargs):
        incoming = RetentionPolicyInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            policy = create_policy(
                tenant=self.tenant, actor=self.actor, preset=data["preset"],
                years=data.get("years"), scope=data["scope"], team_id=data.get("team"),
                region=data.get("region", ""),
            )  # fmt: skip
        except RetentionRuleError as error:
            raise _refused(error) from None
        return self._answer(policy, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        policy = self.get_object()
        incoming = RetentionPolicyPatchSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            policy = change_policy(
                policy=policy, actor=self.actor, preset=data.get("preset"),
                years=data.get("years"), scope=data.get("scope"), team_id=data.get("team"),
                region=data.get("region"),
            )  # fmt: skip
        except RetentionRuleError as error:
            raise _refused(error) from None
        return self._answer(policy)

    def destroy(self, request, *args, **kwargs):
        delete_policy(policy=self.get_object(), actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ErasureRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject_kind = serializers.CharField(help_text="counterparty or employee")
    subject = serializers.CharField(source="subject_label")
    counterparty_wa_id = serializers.CharField(help_text="The client's number, digits")
    employee = serializers.IntegerField(source="employee_id", allow_null=True)
    law = serializers.CharField(help_text="gdpr or lgpd")
    requested_by = serializers.CharField()
    requested_on = serializers.DateField()
    recorded_by = serializers.CharField(source="recorded_by_label")
    recorded_at = serializers.DateTimeField()
    decision = serializers.CharField(help_text="refused (data restricted) or carried_out")
    basis = serializers.SerializerMethodField(help_text="Why it was refused, one line a reason")
    message_count = serializers.IntegerField(help_text="The subject's messages at the time")
    disposed = serializers.DictField(
        child=serializers.IntegerField(), help_text="Records erased (tombstoned), per table"
    )

    def get_basis(self, request) -> list[str]:
        return [line for line in request.basis.splitlines() if line]


class ErasureRequestInputSerializer(serializers.Serializer):
    subject_kind = serializers.ChoiceField(choices=SubjectKind.values)
    counterparty_number = serializers.CharField(required=False, allow_blank=True, max_length=40)
    employee = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    law = serializers.ChoiceField(choices=ErasureRequest.Law.values)
    requested_by = serializers.CharField(max_length=200, help_text="Who asked")
    requested_on = serializers.DateField(help_text="When they asked")


@extend_schema_view(
    list=extend_schema(responses={200: ErasureRequestSerializer(many=True)}),
    retrieve=extend_schema(responses={200: ErasureRequestSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        request=ErasureRequestInputSerializer,
        responses={201: ErasureRequestSerializer, 400: INVALID},
    ),
)
class ErasureRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, TenantViewSet
):
    """Data subjects' erasure requests (GDPR Art. 17, LGPD Art. 18), recorded by admins and
    decided at once: refused with the legal basis while a retention policy or a legal hold
    applies to any of the subject's messages (the subject's data are then restricted), else
    carried out with tombstones. Admins and auditors read them; every decision is audited."""

    allowed_roles = (Role.AUDITOR, Role.ADMIN)
    write_roles = ADMINS
    model = ErasureRequest
    serializer_class = ErasureRequestSerializer
    filter_backends: list = []

    def tenant_queryset(self):
        return ErasureRequest.objects.filter(tenant=self.tenant).select_related("employee")

    def create(self, request, *args, **kwargs):
        incoming = ErasureRequestInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            decided = record_erasure_request(
                tenant=self.tenant, actor=self.actor, subject_kind=data["subject_kind"],
                law=data["law"], requested_by=data["requested_by"],
                requested_on=data["requested_on"],
                counterparty_number=data.get("counterparty_number", ""),
                employee_id=data.get("employee"),
            )  # fmt: skip
        except ErasureInputError as error:
            raise _refused(error) from None
        decided = self.tenant_queryset().get(pk=decided.pk)
        return Response(self.get_serializer(decided).data, status=status.HTTP_201_CREATED)
