"""Helpers shared by the consent pages."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest

from compliance_hub.tenancy.roles import READER_ROLES

from ..models import Language

TENANT_ROLES = READER_ROLES
LANGUAGE_LABELS = dict(Language.choices)


def error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
