"""``/api/v1/whatsapp-settings/``: the tenant's Meta app connection, for admins.

Secrets are write-only: the answer shows only their hints (last four characters)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from compliance_hub.api.base import TenantGenericAPIView
from compliance_hub.api.responses import FORBIDDEN, INVALID
from compliance_hub.tenancy.models import Role, Tenant

from .forms import SECRET_MAX_LENGTH
from .models import WhatsAppSettings
from .services import save_whatsapp_settings, whatsapp_settings


class WhatsAppSettingsSerializer(serializers.Serializer):
    callback_path = serializers.CharField(
        help_text="Path of the tenant's webhook; prefix it with this server's address and "
        "paste it into Meta's App Dashboard as the Callback URL"
    )
    configured = serializers.BooleanField(
        help_text="True when the app secret and the verify token are saved (the webhook can be "
        "verified and its deliveries accepted); see missing for the rest"
    )
    missing = serializers.ListField(
        child=serializers.CharField(),
        help_text="The settings not saved yet, of app_secret, verify_token, access_token and "
        "waba_ids (without an access token media is not downloaded)",
    )
    app_secret_hint = serializers.CharField(help_text="Last four characters, or empty if unset")
    verify_token_hint = serializers.CharField(help_text="Last four characters, or empty if unset")
    access_token_hint = serializers.CharField(help_text="Last four characters, or empty if unset")
    waba_ids = serializers.ListField(
        child=serializers.CharField(), help_text="WhatsApp Business Account ids"
    )
    updated_at = serializers.DateTimeField(allow_null=True)


def _secret_field(what: str) -> serializers.CharField:
    # No trimming: a value with stray spaces is refused by the service, not silently altered.
    return serializers.CharField(
        write_only=True,
        required=False,
        trim_whitespace=False,
        max_length=SECRET_MAX_LENGTH,
        help_text=f"{what}; write-only, at least 8 characters",
    )


class WhatsAppSettingsInputSerializer(serializers.Serializer):
    """Any subset of the settings; what is left out keeps its saved value."""

    app_secret = _secret_field("The Meta app's secret (App settings → Basic)")
    verify_token = _secret_field("The verify token entered in WhatsApp → Configuration")
    access_token = _secret_field("A system user's access token (for media downloads)")
    waba_ids = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        max_length=100,
        help_text="WhatsApp Business Account ids (digits); replaces the saved list",
    )

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            # A misspelt secret name must not look like a successful save.
            raise serializers.ValidationError({name: "Unknown setting." for name in unknown})
        if not attrs:
            raise serializers.ValidationError(f"Give at least one of: {', '.join(self.fields)}.")
        return attrs


_EDGE = r"[^\s\x1c-\x1f\x85]"
SECRET_PATTERN = rf"^{_EDGE}(?:[\s\S]*{_EDGE})?$"


class WhatsAppSettingsInputSchema(OpenApiSerializerExtension):
    """The schema says what validate() enforces: at least one setting, no unknown ones."""

    target_class = WhatsAppSettingsInputSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        for name in ("app_secret", "verify_token", "access_token"):
            # save_whatsapp_settings: at least 8 characters, nothing that str.strip() removes
            # around the value (which also takes \x1c-\x1f and \x85, unlike the regex \s).
            schema["properties"][name].update(minLength=8, pattern=SECRET_PATTERN)
        schema["properties"]["waba_ids"]["items"].update(pattern="^[0-9]{1,32}$")
        return {**schema, "minProperties": 1, "additionalProperties": False}


def settings_body(*, tenant: Tenant, row: WhatsAppSettings | None) -> dict:
    app_secret = row.app_secret if row else ""
    verify_token = row.verify_token if row else ""
    access_token = row.access_token if row else ""
    return {
        "callback_path": reverse("ingestion:whatsapp_webhook", args=[tenant.slug]),
        "configured": bool(app_secret and verify_token),
        "missing": [
            name
            for name, value in (
                ("app_secret", app_secret),
                ("verify_token", verify_token),
                ("access_token", access_token),
                ("waba_ids", row.waba_ids if row else []),
            )
            if not value
        ],
        "app_secret_hint": WhatsAppSettings.hint(app_secret),
        "verify_token_hint": WhatsAppSettings.hint(verify_token),
        "access_token_hint": WhatsAppSettings.hint(access_token),
        "waba_ids": list(row.waba_ids) if row else [],
        "updated_at": row.updated_at if row else None,
    }


class WhatsAppSettingsView(TenantGenericAPIView):
    """The tenant's WhatsApp connection (admins only). PUT and PATCH both set what they are
    given (at least one setting) and keep the rest, since saved secrets cannot be read back to
    be sent again. Unknown keys are refused, so a misspelt name never passes for a save."""

    allowed_roles = (Role.ADMIN,)
    serializer_class = WhatsAppSettingsSerializer
    filter_backends: list = []
    pagination_class = None

    @extend_schema(responses={200: WhatsAppSettingsSerializer, 403: FORBIDDEN})
    def get(self, request):
        row = whatsapp_settings(tenant=self.tenant)
        return Response(WhatsAppSettingsSerializer(settings_body(tenant=self.tenant, row=row)).data)

    def _save(self, request) -> Response:
        incoming = WhatsAppSettingsInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        row = save_whatsapp_settings(
            tenant=self.tenant,
            actor=self.actor,
            **incoming.validated_data,
        )
        return Response(WhatsAppSettingsSerializer(settings_body(tenant=self.tenant, row=row)).data)

    @extend_schema(
        request=WhatsAppSettingsInputSerializer,
        responses={200: WhatsAppSettingsSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    def put(self, request):
        return self._save(request)

    @extend_schema(
        request=WhatsAppSettingsInputSerializer,
        responses={200: WhatsAppSettingsSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    def patch(self, request):
        return self._save(request)
