"""The application wall, route by route: every URL pattern and API route, walked with a user and
an API key of firm A, against every object of firm B. Routes added later are covered without
editing this test: it reads the URL configuration and the models at run time."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from compliance_hub.audit.actors import Actor
from compliance_hub.db_roles import set_role
from compliance_hub.tenancy.context import unscoped
from compliance_hub.tenancy.models import Role, Tenant
from tests.fixtures import login, make_person
from tests.routes import OBJECT_ROUTES, PLAIN_ROUTES
from tests.tenant_rows import make_rows_for

# Path parameters that carry one-time secrets of allauth's own flows (password reset, email
# confirmation), not object ids: for these the walk checks that nothing of firm B shows and
# nothing breaks, since allauth answers a bad key with a 200 "invalid link" page.
SECRET_PARAMS = {"key", "uidb36"}
REFUSALS = {401, 403, 404, 405, 410}
LOGIN_PATHS = ("/accounts/login/", "/admin/login/")
METHODS = ("get", "post", "patch", "delete")


def _bump_sequences_as_owner() -> None:
    """Firm B's rows get ids no row of firm A has, so any success on one of them is a leak."""
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(
            "SELECT setval(c.oid::regclass, nextval(c.oid::regclass) + 1000000) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'S' AND n.nspname = 'public'"
        )
    set_role(connection, settings.DB_APP_ROLE)


@pytest.fixture
def two_firms(db):
    from compliance_hub.api.keys import issue_api_key
    from compliance_hub.tenancy.services import create_tenant

    firm_a = create_tenant(slug="firm-a", name="Firm A Bank", actor=Actor.system())
    alice = make_person("alice@firm-a.example", tenant=firm_a, role=Role.ADMIN)
    make_rows_for(firm_a)
    key_a = issue_api_key(
        tenant=firm_a, role=Role.ADMIN, name="firm A key", actor=Actor.system()
    ).plaintext

    _bump_sequences_as_owner()
    firm_b = create_tenant(slug="firm-b", name="Firm B Brokers", actor=Actor.system())
    bob = make_person("bob@firm-b.example", tenant=firm_b, role=Role.ADMIN)
    make_rows_for(firm_b)
    issue_api_key(tenant=firm_b, role=Role.ADMIN, name="firm B secret key", actor=Actor.system())
    # Rows that firm A's requests create during the walk (login audit events, ledger leaves)
    # must not take an id that one of firm B's rows has in another table either.
    _bump_sequences_as_owner()

    values = {str(firm_b.pk), firm_b.slug}
    with unscoped():
        for model in apps.get_models():
            if model is Tenant or "tenant" not in {f.name for f in model._meta.fields}:
                continue
            manager = getattr(model, "all_tenants", model._default_manager)
            values.update(
                str(pk) for pk in manager.filter(tenant=firm_b).values_list("pk", flat=True)
            )
    values.add(str(bob.user.pk))
    markers = [
        firm_b.name,
        bob.email,
        "invitee@firm-b.example",
        "marker-firm-b",
        "firm B secret key",
    ]
    return {"alice": alice, "key_a": key_a, "b_values": sorted(values), "markers": markers}


def _clients(two_firms):
    from django.test import Client

    session = Client()
    login(session, two_firms["alice"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {two_firms['key_a']}")
    return {"alice's session": session, "firm A's API key": api}


def _leaks(response, markers) -> list[str]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8", "replace")
    return [marker for marker in markers if marker in text]


def test_the_walk_covers_the_routes_that_hold_tenant_objects():
    formats = {fmt for fmt, _ in OBJECT_ROUTES}
    assert "members/%(pk)s/" in formats
    assert "api/v1/memberships/%(pk)s/" in formats
    assert "api/v1/audit-events/%(pk)s/" in formats


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r[0])
def test_objects_of_another_tenant_are_refused_on_every_route(two_firms, route):
    fmt, params = route
    failures = []
    for who, client in _clients(two_firms).items():
        for value in two_firms["b_values"]:
            url = "/" + fmt % {p: ("json" if p == "format" else value) for p in params}
            for method in METHODS:
                response = getattr(client, method)(url)
                status = response.status_code
                leaked = _leaks(response, two_firms["markers"])
                if status >= 500 or leaked:
                    failures.append(f"{who} {method.upper()} {url} -> {status} leaked={leaked}")
                    continue
                if set(params) & SECRET_PARAMS:
                    continue
                to_login = status == 302 and response["Location"].startswith(LOGIN_PATHS)
                if status not in REFUSALS and not to_login:
                    failures.append(f"{who} {method.upper()} {url} -> {status}")
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("route", PLAIN_ROUTES, ids=lambda r: r[0] or "/")
def test_pages_and_lists_show_nothing_of_another_tenant(two_firms, route):
    fmt, _ = route
    url = "/" + fmt
    for who, client in _clients(two_firms).items():
        response = client.get(url)
        assert response.status_code < 500, f"{who} GET {url} -> {response.status_code}"
        assert not _leaks(response, two_firms["markers"]), f"{who} GET {url} shows firm B"
