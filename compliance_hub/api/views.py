"""Platform endpoints: who am I, memberships, invitations, the audit trail."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from compliance_hub.accounts import services as account_services
from compliance_hub.accounts.models import Invitation
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.models import Membership, Role
from compliance_hub.tenancy.selectors import active_memberships, tenant_members

from .base import TenantGenericAPIView, TenantViewSet
from .filters import IPAddressFilter, TimeFilter
from .permissions import request_role
from .serializers import (
    AuditEventSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    MembershipSerializer,
    MembershipUpdateSerializer,
    MeSerializer,
)


def _tenant_dict(tenant) -> dict:
    return {"id": tenant.pk, "slug": tenant.slug, "name": tenant.name}


class MeView(TenantGenericAPIView):
    """The caller: a person (with all their memberships) or an API key, and the active tenant."""

    serializer_class = MeSerializer

    def get(self, request):
        api_key = request._request.api_key
        person = None if api_key is not None else request.user
        memberships = (
            []
            if person is None
            else [
                {"tenant": _tenant_dict(m.tenant), "role": m.role}
                for m in active_memberships(person)
            ]
        )
        data = {
            "kind": "api_key" if api_key is not None else "user",
            "email": getattr(person, "email", None),
            "full_name": getattr(person, "full_name", None),
            "api_key": api_key.prefix if api_key is not None else None,
            "tenant": _tenant_dict(self.tenant),
            "role": request_role(request),
            "memberships": memberships,
        }
        return Response(MeSerializer(data).data)


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The tenant's members (admins only). PATCH changes the role or deactivates."""

    allowed_roles = (Role.ADMIN,)
    model = Membership
    serializer_class = MembershipSerializer
    filterset_fields = ["role", "is_active"]

    def tenant_queryset(self):
        return tenant_members(tenant=self.tenant)

    @extend_schema(request=MembershipUpdateSerializer, responses=MembershipSerializer)
    def partial_update(self, request, *args, **kwargs):
        membership = self.get_object()
        incoming = MembershipUpdateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        account_services.change_membership(
            membership=membership,
            actor=self.actor,
            **incoming.validated_data,
        )
        return Response(MembershipSerializer(membership).data)


class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Invitations (admins only). POST invites; DELETE withdraws a pending invitation. The link
    goes to the invitee by email and is never returned here."""

    allowed_roles = (Role.ADMIN,)
    model = Invitation
    serializer_class = InvitationSerializer
    filterset_fields = ["role", "email"]

    def tenant_queryset(self):
        return Invitation.objects.filter(tenant=self.tenant).select_related("invited_by")

    @extend_schema(request=InvitationCreateSerializer, responses={201: InvitationSerializer})
    def create(self, request, *args, **kwargs):
        incoming = InvitationCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        invitation, _link = account_services.invite_user(
            tenant=self.tenant,
            actor=self.actor,
            base_url=request.build_absolute_uri("/"),
            **incoming.validated_data,
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        invitation = self.get_object()
        try:
            account_services.revoke_invitation(invitation=invitation, actor=self.actor)
        except ValidationError as error:
            return Response(
                {"error": {"status": 409, "code": "conflict", "message": " ".join(error.messages)}},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(field_name="action", lookup_expr="startswith")
    actor = django_filters.CharFilter(field_name="actor_label", lookup_expr="icontains")
    target = django_filters.CharFilter(field_name="target_label", lookup_expr="icontains")
    ip_address = IPAddressFilter(field_name="ip_address")
    since = TimeFilter(field_name="occurred_at", lookup_expr="gte")
    until = TimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "target", "ip_address", "since", "until"]


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The audit trail, newest first (auditors and admins)."""

    allowed_roles = (Role.AUDITOR, Role.ADMIN)
    model = AuditEvent
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter

    def tenant_queryset(self):
        return AuditEvent.objects.filter(tenant=self.tenant).order_by("-occurred_at", "-id")
