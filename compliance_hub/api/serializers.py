from __future__ import annotations

from rest_framework import serializers

from compliance_hub.accounts.models import Invitation
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.models import Membership, Role


class ApiErrorBodySerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField(required=False)


class ApiErrorSerializer(serializers.Serializer):
    """The one error format of the API (compliance_hub/api/errors.py)."""

    error = ApiErrorBodySerializer()


class TenantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


class MeMembershipSerializer(serializers.Serializer):
    tenant = TenantSerializer()
    role = serializers.CharField()


class MeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["user", "api_key"])
    email = serializers.EmailField(allow_null=True)
    full_name = serializers.CharField(allow_null=True)
    api_key = serializers.CharField(allow_null=True, help_text="Key prefix, for API keys")
    tenant = TenantSerializer()
    role = serializers.CharField()
    memberships = MeMembershipSerializer(many=True)


class MembershipSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "full_name", "role", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "email", "full_name", "created_at", "updated_at"]


class MembershipUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class InvitationSerializer(serializers.ModelSerializer):
    state = serializers.CharField(read_only=True)
    invited_by = serializers.EmailField(source="invited_by.email", read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "state",
            "invited_by",
            "created_at",
            "expires_at",
            "accepted_at",
        ]
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label")
    target = serializers.CharField(source="target_label")

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor",
            "action",
            "target_type",
            "target_id",
            "target",
            "ip_address",
            "user_agent",
            "details",
        ]
        read_only_fields = fields
