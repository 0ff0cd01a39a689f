"""DRF authentication: per-tenant API keys, and the browser session (which needs MFA)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions

from compliance_hub.tenancy.context import activate_in_transaction

from .keys import InvalidApiKey, authenticate_api_key


class ApiKeyUser(AnonymousUser):
    """The principal of an API-key request: authenticated, tied to the key, not a person."""

    def __init__(self, api_key) -> None:
        self.api_key = api_key

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True

    @property
    def is_anonymous(self) -> bool:  # type: ignore[override]
        return False

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Api-Key <key>``. Sets the key's tenant for the rest of the request."""

    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        if not key.strip():
            raise exceptions.AuthenticationFailed("No API key after 'Api-Key'.")
        try:
            api_key = authenticate_api_key(key)
        except InvalidApiKey as error:
            raise exceptions.AuthenticationFailed(str(error)) from None
        django_request = request._request
        django_request.tenant = api_key.tenant
        django_request.api_key = api_key
        django_request.membership = None
        activate_in_transaction(api_key.tenant_id)
        return ApiKeyUser(api_key), api_key

    def authenticate_header(self, request) -> str:
        return self.keyword


class TenantSessionAuthentication(authentication.SessionAuthentication):
    """The browser session: the tenant was set by TenantMiddleware from the membership. A user
    who has not set up MFA yet gets no API access."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        from allauth.mfa.utils import is_mfa_enabled

        if not is_mfa_enabled(result[0]):
            raise exceptions.PermissionDenied("Set up two-factor authentication first.")
        return result
