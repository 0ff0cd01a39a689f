"""Walks over every route and every form, so routes and forms added later are covered without
editing this file: no POST is accepted without its CSRF token; no search or filter field, on a
page or in the API, answers SQL-injection strings with a 500 or lets them do anything; and
logging in never redirects to another site, whatever `next` says."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.urls import resolve
from rest_framework.test import APIClient

from tests.fixtures import PASSWORD, login
from tests.routes import ROUTES
from tests.tenant_rows import make_rows_for

# Routes that take no CSRF token on purpose, and why.
CSRF_EXEMPT_BY_DESIGN = {
    "webhooks/": "Meta's webhook: authenticated by the body's HMAC signature, not a session",
    "api/": "the API: API keys carry no cookie; DRF checks CSRF itself on session requests",
}
INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE archive_message; --",
    '") UNION SELECT password FROM compliance_hub_user --',
    "%' AND 1=CAST((SELECT version()) AS int) --",
    "1' AND pg_sleep(5) IS NULL --",
]


def _concrete(fmt: str, params: tuple[str, ...]) -> str:
    values = {p: ("json" if p == "format" else "x" if p in ("key", "uidb36") else "1")
              for p in params}  # fmt: skip
    return "/" + fmt % values


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r[0] or "/")
def test_no_post_is_accepted_without_its_csrf_token(tenant_a, alice, route):
    client = Client(enforce_csrf_checks=True)
    login(client, alice)
    url = _concrete(*route)
    if any(route[0].startswith(prefix) for prefix in CSRF_EXEMPT_BY_DESIGN):
        if route[0].startswith("api/"):
            # A browser session on the API gets DRF's CSRF check: refused without the token.
            response = client.post(url, data="{}", content_type="application/json")
            assert response.status_code in (403, 404, 405), (url, response.status_code)
        return
    view = resolve(url).func
    assert not getattr(view, "csrf_exempt", False), f"{url} is CSRF-exempt and not by design"
    response = client.post(url, {"anything": "1"})
    assert response.status_code == 403, (url, response.status_code)


class _Forms(HTMLParser):
    """The GET forms of a page: (action, field names)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, set[str]]] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._open = (a.get("method") or "get").lower() == "get"
            if self._open:
                self.forms.append((a.get("action") or "", set()))
        elif (
            self._open
            and tag in ("input", "select", "textarea")
            and a.get("name")
            and (a.get("type") or "").lower() not in ("submit", "button", "image", "reset")
        ):
            self.forms[-1][1].add(str(a["name"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = False


def _get_forms(client: Client, path: str) -> list[tuple[str, set[str]]]:
    response = client.get(path, HTTP_ACCEPT="text/html")
    if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
        return []
    parser = _Forms()
    parser.feed(response.content.decode("utf-8", "replace"))
    return [(action or path, names) for action, names in parser.forms if names]


def _row_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM compliance_hub_user")
        return int(cursor.fetchone()[0])


def test_injection_strings_in_every_search_and_filter_field_of_every_page(tenant_a, alice):
    make_rows_for(tenant_a)
    client = Client()
    login(client, alice)
    users = _row_count()
    walked, failures = set(), []
    for fmt, params in ROUTES:
        if params or fmt.startswith(("api/", "webhooks/", "accounts/", "admin/")):
            continue
        for action, names in _get_forms(client, "/" + fmt):
            if (action, frozenset(names)) in walked:
                continue
            walked.add((action, frozenset(names)))
            target = urlsplit(action).path or "/" + fmt
            for injection in INJECTIONS:
                url = f"{target}?{urlencode({name: injection for name in names})}"
                status = client.get(url, HTTP_ACCEPT="text/html").status_code
                if status >= 500:
                    failures.append(f"GET {url} -> {status}")
    assert len(walked) >= 5, f"the walk found too few search forms: {sorted(walked)}"
    assert not failures, "\n".join(failures[:20])
    assert _row_count() == users


def test_injection_strings_in_every_query_parameter_of_the_api(tenant_a, api_key_factory):
    make_rows_for(tenant_a)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_factory(tenant_a)}")
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    checked, failures = 0, []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if "{" in path or not get:
            continue
        names = [p["name"] for p in get.get("parameters", []) if p.get("in") == "query"]
        for name in names:
            for injection in INJECTIONS:
                response = api.get(path, {name: injection})
                checked += 1
                if response.status_code >= 500:
                    failures.append(f"GET {path}?{name}={injection!r} -> {response.status_code}")
    assert checked > 50, checked
    assert not failures, "\n".join(failures[:20])


EVIL_NEXT = [
    "https://evil.example/steal",
    "//evil.example/steal",
    "/\\evil.example/steal",
    "https:evil.example",
    "javascript:alert(document.cookie)",
    "http://testserver@evil.example/",
]


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_logging_in_never_redirects_to_another_site(client, tenant_a, alice, target):
    response = client.post(
        f"/accounts/login/?{urlencode({'next': target})}",
        {"login": alice.email, "password": PASSWORD, "next": target},
    )
    assert response.status_code == 302
    response = client.post(response["Location"], {"code": alice.totp_code(), "next": target})
    assert response.status_code == 302
    location = response["Location"]
    parts = urlsplit(location)
    assert not parts.netloc and not parts.scheme, location
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
