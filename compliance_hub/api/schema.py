"""The OpenAPI document: our authentication classes (drf-spectacular extensions) and the error
responses every operation shares."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "compliance_hub.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`; keys are issued per tenant and role by its admins. "
            "A key issued for a member acts as that person (claims and moves alerts as them, "
            "with their masking and at most their role); a key for nobody reads, assigns and "
            "comments.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "compliance_hub.api.authentication.TenantSessionAuthentication"
    name = "Session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


# --- error responses, documented once ----------------------------------------------------------

API_ERROR = "ApiError"
ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error format of the API (compliance_hub/api/errors.py).",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"description": "Per field or parameter, when there are any"},
            },
            "required": ["status", "code", "message"],
        }
    },
    "required": ["error"],
}
# What any operation can answer besides its own documented outcomes.
EVERY_OPERATION = {
    "401": "No API key, or one that is unknown, revoked or of a suspended tenant, or a key "
    "issued for a member who is no longer active or whose role no longer allows the key's",
    "403": "Your role may not do this; or, in a firm with pseudonymised review, an officer's "
    "read of the archive or the employees outside the conversations of alerts they unmasked",
    "404": "No such object in your tenant, no such page of results, or no such address",
    "429": "Too many requests from this key; retry after the seconds in Retry-After",
}
WITH_INPUT = {"400": "The request is not valid; `details` names each field or parameter"}
WITH_BODY = {"415": "The body's content type is not one this operation reads"}


def document_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular post-processing hook: every operation documents the errors the API's
    plumbing can answer (authentication, roles, not found, throttling, bad input), in the one
    error format, so that client generators and schemathesis see the whole truth. An
    operation's own description of a status (e.g. 409) is kept."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(API_ERROR, ERROR_SCHEMA)
    reference = {"$ref": f"#/components/schemas/{API_ERROR}"}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in {"get", "put", "patch", "post", "delete"}:
                continue
            errors = dict(EVERY_OPERATION)
            if operation.get("parameters") or "requestBody" in operation:
                errors.update(WITH_INPUT)
            if "requestBody" in operation:
                errors.update(WITH_BODY)
            _require_non_empty_bodies(operation, result)
            _empty_filters_are_no_filters(operation)
            responses = operation.setdefault("responses", {})
            for status, description in errors.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result


def _require_non_empty_bodies(operation: dict, result: dict) -> None:
    """A body whose schema needs properties (minProperties) cannot be left out either."""
    body = operation.get("requestBody")
    if not body:
        return
    for media in body.get("content", {}).values():
        schema = media.get("schema", {})
        name = schema.get("$ref", "").rsplit("/", 1)[-1]
        if result["components"]["schemas"].get(name, schema).get("minProperties"):
            body["required"] = True


# Paging parameters are checked strictly (compliance_hub/api/pagination.py).
PAGING = {"page", "page_size", "cursor"}


def _empty_filters_are_no_filters(operation: dict) -> None:
    """``?role=`` filters nothing, as a form's empty field does (django-filter): say so."""
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "query" and parameter["name"] not in PAGING:
            parameter["allowEmptyValue"] = True
