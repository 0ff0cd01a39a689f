"""How consent services' refusals reach API clients: bad input is a 400 through the project's
exception handler; an action the current state forbids is a 409 with the service's message."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse
from rest_framework.exceptions import APIException

from .serializers import ApiErrorSerializer


class Conflict(APIException):
    status_code = 409
    default_code = "conflict"
    default_detail = "The current state does not allow this."


def conflict(error: ValidationError) -> Conflict:
    return Conflict(" ".join(error.messages))


INVALID = OpenApiResponse(ApiErrorSerializer, description="Invalid input; nothing changed")
NOT_FOUND = OpenApiResponse(ApiErrorSerializer, description="No such object in your tenant")
CONFLICT = OpenApiResponse(ApiErrorSerializer, description="The current state forbids this")
