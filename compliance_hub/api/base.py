"""Base classes for tenant API views: the tenant is resolved by authentication, once."""

from __future__ import annotations

from rest_framework import generics, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.views import APIView

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Tenant


class TenantAPIMixin(APIView):
    """For DRF views: gives them ``self.tenant`` (from the API key or the session's membership;
    never from the URL or body), ``self.actor`` and the role lists that HasTenantRole reads."""

    allowed_roles: tuple[str, ...]

    @property
    def tenant(self) -> Tenant:
        # Authentication put it on Django's request inside DRF's: ApiKeyAuthentication for a
        # key, TenantMiddleware for the session.
        tenant = getattr(self.request._request, "tenant", None)
        if tenant is None:
            raise PermissionDenied("You are not a member of an active tenant.")
        return tenant

    @property
    def actor(self) -> Actor:
        """Who calls: the API key or the signed-in person (authentication has run by the time a
        handler asks), with the client's address; what the services audit."""
        return Actor.from_request(self.request._request)


class TenantGenericAPIView(TenantAPIMixin, generics.GenericAPIView):
    pass


class TenantViewSet(TenantAPIMixin, viewsets.GenericViewSet):
    """Subclasses set ``model`` and implement ``tenant_queryset()``."""

    model: type
    # Ids in the path are ASCII digits (compliance_hub/digits.py): the router's default accepts a
    # fullwidth one (U+FF11), which the database reads as 1. Anything else is the JSON 404.
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no tenant, no rows
            return self.model._default_manager.none()
        return self.tenant_queryset()

    def tenant_queryset(self):
        raise NotImplementedError
