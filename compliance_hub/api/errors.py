"""One JSON error format for the whole API:

{"error": {"status": 404, "code": "not_found", "message": "Not found.", "details": {...}}}
"""

from __future__ import annotations

import logging

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    ValidationError,
)
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from compliance_hub.tenancy.context import TenantNotSet

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    """An action the current state forbids (a service's refusal that is not about the input):
    409 with the service's message."""

    status_code = 409
    default_code = "conflict"
    default_detail = "The current state does not allow this."


class InvalidSearch(exceptions.APIException):
    """A search that cannot be run (a malformed query, a page link of another search): 400 with
    what is wrong as the message and ``details`` (e.g. the character position) for clients."""

    status_code = 400
    default_code = "invalid_query"
    default_detail = "The search is not valid."

    def __init__(self, message: str, *, details: dict | None = None) -> None:
        super().__init__(message)
        self.details = details


def conflict(error: ValidationError) -> Conflict:
    return Conflict(" ".join(error.messages))


def error_body(status_code: int, code: str, message: str, details=None) -> dict:
    body = {"status": status_code, "code": code, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def exception_handler(exc, context):
    if isinstance(exc, ValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, RequestDataTooBig):
        # Raised when the view first reads the body: a client's mistake, not ours.
        return Response(
            error_body(413, "too_large", "The request body is too large."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("The request could not be read.")
    if isinstance(exc, TenantNotSet):
        exc = exceptions.PermissionDenied("You are not a member of an active tenant.")
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(
            error_body(500, "server_error", "Something went wrong on our side."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, Http404):
        code, message, details = "not_found", "Not found.", None
    elif isinstance(exc, PermissionDenied):
        code, message, details = "permission_denied", "You may not do this.", None
    elif isinstance(exc, exceptions.ValidationError):
        code, message, details = "invalid", "The request is not valid.", response.data
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        message = str(detail) if isinstance(detail, str) else str(exc.default_detail)
        details = getattr(exc, "details", None) if isinstance(detail, str) else response.data
    else:
        code, message, details = "error", "Error.", None
    response.data = error_body(response.status_code, code, message, details)
    return response


def json_error(status_code: int, code: str, message: str) -> JsonResponse:
    """The same format for the API's URLs that DRF never sees (404 for an unknown path, 500)."""
    return JsonResponse(error_body(status_code, code, message), status=status_code)
