"""Error responses for an operation's ``@extend_schema(responses=...)``, in the one error format.

compliance_hub/api/schema.py already documents, for every operation, the errors the plumbing can
answer (401, 403, 404, 429, and 400/415 where there is input) with generic words. Use these where an
operation says more: its own reason for a 400/403/404, or a 409 (which the plumbing never answers).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse

from .serializers import ApiErrorSerializer


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ApiErrorSerializer, description=description)


INVALID = error_response("Invalid input; nothing changed")
NOT_FOUND = error_response("No such object in your tenant")
CONFLICT = error_response("The current state forbids this")
FORBIDDEN = error_response("Not an admin of the tenant")
