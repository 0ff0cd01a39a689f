"""Paging through API lists. ``page`` and ``page_size`` are checked: DRF would quietly use the
first page or the default size for "page_size=ten", so a typo would look like a short list."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request

from compliance_hub.digits import MAX_ID, parse_id


class StrictPageSize:
    # Typed as DRF's paginators, which this is mixed into, declare them (optional there); here
    # the parameter and the limit are always set, which _size_rule checks.
    page_size: int | None
    page_size_query_param: str | None = "page_size"
    max_page_size: int | None = 500

    def _size_rule(self) -> tuple[str, int]:
        param, limit = self.page_size_query_param, self.max_page_size
        if param is None or limit is None:
            raise ImproperlyConfigured(
                f"{type(self).__name__} needs page_size_query_param and max_page_size"
            )
        return param, limit

    def get_page_size(self, request: Request) -> int | None:
        param, limit = self._size_rule()
        raw = request.query_params.get(param)
        if raw is None:
            return self.page_size
        size = parse_id(raw)
        if size is None or size > limit:
            raise ValidationError({param: f"A whole number from 1 to {limit}."})
        return size

    def page_size_parameter(self) -> dict:
        param, limit = self._size_rule()
        return {
            "name": param,
            "required": False,
            "in": "query",
            "description": f"Results per page (at most {limit})",
            "schema": {"type": "integer", "minimum": 1, "maximum": limit},
        }


class StandardPagination(StrictPageSize, PageNumberPagination):
    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if raw in self.last_page_strings:
            return paginator.num_pages
        if parse_id(raw) is None:
            raise ValidationError({self.page_query_param: "A page number from 1, or 'last'."})
        return raw

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1 (a page past the last one is a 404)",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            },
            self.page_size_parameter(),
        ]


class StrictCursorPagination(StrictPageSize, CursorPagination):
    """Stable pages through a growing list; the cursor is opaque (a bad one is a 404)."""

    def get_schema_operation_parameters(self, view) -> list[dict]:
        cursor, _size = super().get_schema_operation_parameters(view)
        return [cursor, self.page_size_parameter()]
