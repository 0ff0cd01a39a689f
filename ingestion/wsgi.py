"""The intake server's WSGI application: Meta's deliveries by a lean path, everything else by
Django.

The intake (docker-compose.yml's ``intake``, and ``make run``'s one server) answers Meta's POSTs
to ``/webhooks/whatsapp/<slug>/`` many times a second, and every CPU millisecond of one is
headroom lost (issue 13: at most 1.0 ms of server CPU per delivery). Django's request handling
around the webhook's own work (its request and response objects, the request signals, the
middleware chain's wrappers) cost 0.19 of the 0.62 ms of web CPU a delivery took without the
HTTP server (docs/benchmarks.md, headroom on the webhook, the intake's lean path). Here a POST
to that path goes straight to the same :func:`ingestion.intake.accept_delivery` the Django
view calls (tenant, size limit, signature, store: one rule each, in one place), and its answer
gets the security headers every answer of ours has, made by Django's own middleware once at
start-up. What Django's handler does for a
request and the webhook still needs is done here: the connection is given back as the request
signals would (dropped when it failed or grew old), a refusal is logged on ``django.request``
as Django logs it, and an unexpected error is a logged 500, never a traceback to the client.
Every other request (the handshake's GET, /healthz, /readyz, pages) goes to Django unchanged.

Serve it as ``gunicorn ingestion.wsgi`` (scripts/run.sh, docker-compose.yml's intake).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compliance_hub.settings")

django_application = get_wsgi_application()

# After django.setup() (get_wsgi_application() runs it): they import models.
from django.core.handlers.wsgi import WSGIRequest  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.http.request import HttpHeaders  # noqa: E402
from django.utils.log import log_response  # noqa: E402

from compliance_hub.security_headers import FastLaneHeaders  # noqa: E402

from .intake import Answer, accept_delivery  # noqa: E402
from .middleware import WEBHOOK_PATH  # noqa: E402
from .webhook import http_response  # noqa: E402

logger = logging.getLogger("django.request")

StartResponse = Callable[..., Any]


class EnvironHeaders(Mapping[str, str]):
    """The request's headers by their HTTP names, read from the WSGI environ on demand by
    Django's own naming rule (``HttpHeaders.to_wsgi_name``): the webhook reads four of them,
    and building Django's whole mapping for each delivery cost more than reading them."""

    __slots__ = ("environ",)

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ

    def __getitem__(self, name: str) -> str:
        return self.environ[HttpHeaders.to_wsgi_name(name)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and HttpHeaders.to_wsgi_name(name) in self.environ

    def __iter__(self) -> Iterator[str]:
        return iter(HttpHeaders(self.environ))

    def __len__(self) -> int:
        return len(HttpHeaders(self.environ))


class _Scheme(HttpRequest):
    """A request that is secure or not, for the headers made once below."""

    def __init__(self, secure: bool) -> None:
        super().__init__()
        self.secure = secure

    def is_secure(self) -> bool:
        return self.secure


def _acknowledgement_headers(answer: Answer, *, secure: bool) -> list[tuple[str, str]]:
    """The headers of ``answer`` as the Django view's fast lane sends them (Django's own
    SecurityMiddleware and XFrameOptionsMiddleware, and our policy, on a response of it)."""
    response = FastLaneHeaders().apply(_Scheme(secure), http_response(answer))
    return [*response.items(), ("Content-Length", str(len(answer.body)))]


class IntakeApplication:
    """The WSGI application (``application`` below)."""

    def __init__(self, django: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        from .intake import RECEIVED

        self.django = django
        self.received = RECEIVED
        # The 200's headers, made once per scheme (HSTS goes only over HTTPS).
        self.received_headers = {
            secure: _acknowledgement_headers(RECEIVED, secure=secure) for secure in (False, True)
        }
        self.headers = FastLaneHeaders()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            found = WEBHOOK_PATH.fullmatch(environ.get("PATH_INFO", ""))
            if found is not None:
                return self.deliver(environ, start_response, found["tenant_slug"])
        return self.django(environ, start_response)

    def deliver(
        self, environ: dict[str, Any], start_response: StartResponse, tenant_slug: str
    ) -> list[bytes]:
        try:
            answer = accept_delivery(
                tenant_slug=tenant_slug,
                content_length=environ.get("CONTENT_LENGTH"),
                read_body=environ["wsgi.input"].read,
                headers=EnvironHeaders(environ),
            )
        except Exception as error:
            # What Django's handler makes of an error nobody caught: logged, and a plain 500.
            request = WSGIRequest(environ)
            response = HttpResponse(
                b"Server Error (500)", status=500, content_type="text/plain; charset=utf-8"
            )
            log_response(
                "Internal Server Error: %s",
                request.path,
                response=response,
                request=request,
                exception=error,
            )
            return self.send(self.headers.apply(request, response), start_response)
        finally:
            # What the request signals do for Django's handler: a connection that failed (the
            # database went away) or outlived CONN_MAX_AGE is closed, so the next request opens
            # a fresh one.
            connection.close_if_unusable_or_obsolete()
        request = WSGIRequest(environ)
        if answer is self.received:
            start_response("200 OK", self.received_headers[request.is_secure()])
            return [answer.body]
        response = self.headers.apply(request, http_response(answer))
        # As Django's handler logs every answer of 400 and more (the view's door logs the same).
        log_response(
            "%s: %s", response.reason_phrase, request.path, response=response, request=request
        )
        return self.send(response, start_response)

    @staticmethod
    def send(response: HttpResponse, start_response: StartResponse) -> list[bytes]:
        status = f"{response.status_code} {response.reason_phrase}"
        start_response(status, [*response.items(), ("Content-Length", str(len(response.content)))])
        return [response.content]


application = IntakeApplication(django_application)
