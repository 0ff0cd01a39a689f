"""OPTIONS answers: the methods and input fields the caller's role may use."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.metadata import SimpleMetadata
from rest_framework.request import clone_request


class RoleMetadata(SimpleMetadata):
    """DRF's SimpleMetadata also fetches the object for PUT (to check object permissions), which
    fails on a view of a single per-tenant resource (``/whatsapp-settings/`` has no queryset) and
    gave a 500. Our permissions depend on the role only, never on the object, so the role check
    is the whole check."""

    def determine_actions(self, request, view) -> dict:
        actions = {}
        for method in {"PUT", "POST"} & set(view.allowed_methods):
            view.request = clone_request(request, method)
            try:
                view.check_permissions(view.request)
                actions[method] = self.get_serializer_info(view.get_serializer())
            except (exceptions.APIException, PermissionDenied, Http404):
                pass
            finally:
                view.request = request
        return actions
