"""Error pages: JSON in the API's format under /api/, friendly HTML elsewhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt

from compliance_hub.api.errors import json_error


def _answer(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_error(status, code, message)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return _answer(request, 400, "bad_request", "The request could not be understood.")


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return _answer(request, 403, "permission_denied", "You may not open this page.")


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _answer(request, 404, "not_found", "Not found.")


@csrf_exempt  # like every API view: a POST to a wrong address is a 404, not a CSRF page
def api_not_found(request: HttpRequest) -> HttpResponse:
    """Any address under /api/ that no endpoint has (``/api/v1/employees/0.5/``). Clients get
    the API's JSON 404, never a page, and no redirect (one would drop a POST's body): the
    message names the address with its final slash when that one exists."""
    message = "Not found."
    if not request.path_info.endswith("/"):
        match = _resolve_or_none(request.path_info + "/")
        if match is not None and match.url_name != "api-not-found":
            message = f"Not found. Did you mean {request.path}/ (with the final slash)?"
    return json_error(404, "not_found", message)


def _resolve_or_none(path: str):
    try:
        return resolve(path)
    except Resolver404:
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    # No template context processors here: the failure may be in them.
    if request.path.startswith("/api/"):
        return json_error(500, "server_error", "Something went wrong on our side.")
    return HttpResponse(
        "<!doctype html><title>Error</title><h1>Something went wrong</h1>"
        "<p>The problem has been logged. Please try again.</p>",
        status=500,
    )


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """The database cannot be reached. Rendered without a template context that would query it."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = json_error(503, "unavailable", "The service is briefly unavailable; retry.")
    else:
        response = HttpResponse(
            "<!doctype html><title>Unavailable</title>"
            "<h1>Compliance Hub is briefly unavailable</h1>"
            "<p>Nothing you sent was lost or half-saved. Please try again in a minute.</p>",
            status=503,
        )
    response["Retry-After"] = "30"
    return response
