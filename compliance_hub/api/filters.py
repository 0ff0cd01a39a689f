"""Query-string filters every API list shares: times, ids and IP addresses that are checked here,
in the form, so a value PostgreSQL would refuse never reaches it (a 400, not a 500)."""

from __future__ import annotations

from datetime import UTC, datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field

from compliance_hub.digits import MAX_ID, parse_id


class UtcDateTimeField(IsoDateTimeField):
    """ISO 8601, read in UTC. Python takes UTC offsets up to ±23:59 but PostgreSQL only up to
    ±15:59, so the offset is applied here; a time that leaves the calendar when it is (year 1
    minus an offset) is refused."""

    def to_python(self, value) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise ValidationError("This time is out of range.", code="invalid") from None


class TimeFilter(django_filters.IsoDateTimeFilter):
    """``since`` / ``until`` on every list: ISO 8601, any UTC offset."""

    field_class = UtcDateTimeField


class IdField(forms.Field):
    """A database id in ASCII digits (``compliance_hub.digits``): "0.5", "1e9" or "١٢" are
    refused rather than rounded, read as other digits, or sent beyond PostgreSQL's bigint."""

    def to_python(self, value) -> int | None:
        if value in self.empty_values:
            return None
        number = parse_id(str(value).strip())
        if number is None:
            raise ValidationError("Give an id: a whole number from 1.", code="invalid")
        return number


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.Filter):
    field_class = IdField


@extend_schema_field(
    {"anyOf": [{"type": "string", "format": "ipv4"}, {"type": "string", "format": "ipv6"}]}
)
class IPAddressFilter(django_filters.Filter):
    """An exact IP address; anything else is a 400 (PostgreSQL's ``inet`` would fail on it)."""

    field_class = forms.GenericIPAddressField


class StrictBooleanField(forms.Field):
    """true or false (also 1 or 0). django-filter's own quietly ignores "perhaps", so a typo
    would list everything."""

    def to_python(self, value) -> bool | None:
        if value in self.empty_values:
            return None
        spelled = str(value).strip().lower()
        if spelled in {"true", "1"}:
            return True
        if spelled in {"false", "0"}:
            return False
        raise ValidationError("Give true or false.", code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class FilterSet(django_filters.FilterSet):
    """For ``filterset_fields``: the strict filters above for the model fields they fit."""

    FILTER_DEFAULTS = {
        **django_filters.filterset.FILTER_FOR_DBFIELD_DEFAULTS,
        models.BooleanField: {"filter_class": BooleanFilter},
        models.DateTimeField: {"filter_class": TimeFilter},
        models.GenericIPAddressField: {"filter_class": IPAddressFilter},
    }


class FilterBackend(DjangoFilterBackend):
    """django-filter with the strict defaults, and no NUL character anywhere in the query: no
    PostgreSQL text (nor the audit trail's record of a read's filters) can hold one."""

    filterset_base = FilterSet

    def filter_queryset(self, request, queryset, view):
        for name, values in request.query_params.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                raise ValidationError({name.replace("\x00", ""): "No NUL characters, please."})
        return super().filter_queryset(request, queryset, view)
