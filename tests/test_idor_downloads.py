"""Downloads, previews and exports of one firm are invisible to another; signed links refuse in
words when altered or old; a revoked API key stops working with the very next request.

The routes come from the URL configuration (tests/routes.py): every route that hands out a file
(download, preview, export, evidence, proof) must be named in OBJECTS below with the object its
ids point at, so a file route added later fails here until it is checked too."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from archive.exporting.models import Export
from compliance_hub.api.keys import issue_api_key
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from consent import services as consent
from tests.archive.attachments import attachment, png
from tests.fixtures import login
from tests.routes import OBJECT_ROUTES

FILE_ROUTE = re.compile(r"download|preview|export|evidence|proof")
# Route prefix -> which of firm A's objects (see `firm_a_files`) fills its parameters.
OBJECTS = {
    "archive/attachments/": "attachment",
    "api/v1/attachments/": "attachment",
    "archive/exports/": "export",
    "api/v1/exports/": "export",
    "archive/messages/": "message",
    "api/v1/messages/": "message",
    "employees/": "employee",
}
PDF = b"%PDF-1.4 consent form\n" * 20


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def firm_a_files(tenant_a, ana):
    image = attachment(tenant_a, ana, 1, content=png(), mime="image/png", filename="id.png",
                       message_type="image")  # fmt: skip
    event = consent.record_consent(
        employee=ana, actor=Actor.system(), evidence=SimpleUploadedFile("form.pdf", PDF)
    )
    with tenant_scope(tenant_a):
        name = default_storage.save(f"exports/{tenant_a.pk}/e.zip", ContentFile(b"PK bag"))
        now = timezone.now()
        export = Export.objects.create(
            tenant=tenant_a, requester="audrey@firm-a.example", query="shares", formats=["csv"],
            status=Export.Status.READY, file=name, size=6, tag_manifest_sha256="ab" * 32,
            checkpoint_id=1, tree_size=3, progress_total=2, progress_done=2, finished_at=now,
            expires_at=now + timedelta(days=7),
            counts={"conversations": 1, "messages": 1, "events": 0, "attachments": 1},
        )  # fmt: skip
    return {
        "attachment": {"pk": image.pk},
        "message": {"pk": image.message_id},
        "export": {"pk": export.pk},
        "employee": {"pk": ana.pk, "event_pk": event.pk},
    }


def _file_routes() -> list[tuple[str, tuple[str, ...]]]:
    return [(fmt, params) for fmt, params in OBJECT_ROUTES if FILE_ROUTE.search(fmt)]


def _signed_link(client, export_pk: int, *, api: bool) -> str:
    if api:
        return client.get(f"/api/v1/exports/{export_pk}/").json()["download_url"]
    page = client.get(f"/archive/exports/{export_pk}/").content.decode()
    href = re.search(r'href="([^"]+)" download>Download the export', page)
    assert href, "the export page offers its download"
    return href[1].replace("&amp;", "&")


def test_every_file_of_one_firm_is_404_for_the_people_and_keys_of_another(
    tenant_a, tenant_b, person_factory, firm_a_files
):
    routes = _file_routes()
    assert len(routes) >= 8, routes
    unknown = [fmt for fmt, _ in routes if not any(fmt.startswith(p) for p in OBJECTS)]
    assert not unknown, f"file routes not checked here (add them to OBJECTS): {unknown}"

    auditor = person_factory("audrey@firm-a.example", tenant=tenant_a, role=Role.AUDITOR)
    own_session = Client()
    login(own_session, auditor)
    own_api = APIClient()
    own_api.credentials(
        HTTP_AUTHORIZATION="Api-Key "
        + issue_api_key(tenant=tenant_a, role=Role.ADMIN, name="a", actor=Actor.system()).plaintext
    )
    outsider = person_factory("bob@firm-b.example", tenant=tenant_b, role=Role.ADMIN)
    other_session = Client()
    login(other_session, outsider)
    other_api = APIClient()
    other_api.credentials(
        HTTP_AUTHORIZATION="Api-Key "
        + issue_api_key(tenant=tenant_b, role=Role.ADMIN, name="b", actor=Actor.system()).plaintext
    )

    export_pk = firm_a_files["export"]["pk"]
    signed = {
        "archive/exports/%(pk)s/download/": _signed_link(own_session, export_pk, api=False),
        "api/v1/exports/%(pk)s/download/": _signed_link(own_api, export_pk, api=True),
    }
    failures = []
    for fmt, params in routes:
        values = next(
            firm_a_files[obj] for prefix, obj in OBJECTS.items() if fmt.startswith(prefix)
        )
        url = signed.get(fmt) or "/" + fmt % {p: values[p] for p in params}
        api = fmt.startswith("api/")
        mine = own_api if api else own_session
        if mine.get(url).status_code == 404:
            failures.append(f"firm A's own {url} is 404: the check below proves nothing")
        outsiders = {"firm B's admin": other_session}
        if api:  # the API also takes a browser session
            outsiders["firm B's API key"] = other_api
        for who, client in outsiders.items():
            status = client.get(url).status_code
            if status != 404:
                failures.append(f"{who} GET {url} -> {status}, not 404")
    assert not failures, "\n".join(failures)


def test_an_altered_or_old_export_link_is_refused_with_a_page_that_says_why(
    tenant_a, person_factory, firm_a_files, settings
):
    auditor = person_factory("audrey@firm-a.example", tenant=tenant_a, role=Role.AUDITOR)
    client = Client()
    login(client, auditor)
    link = _signed_link(client, firm_a_files["export"]["pk"], api=False)

    altered = client.get(re.sub(r"token=(.)", lambda m: "token=" + "AB"[m[1] == "A"], link))
    assert altered.status_code == 403
    assert altered["Content-Type"].startswith("text/html")
    assert "This download link is not valid." in altered.content.decode()

    settings.EXPORT_LINK_MAX_AGE = -1  # as if the link's hour had passed
    old = client.get(link)
    assert old.status_code == 410
    assert old["Content-Type"].startswith("text/html")
    assert "has expired" in old.content.decode()


def test_a_revoked_api_key_is_refused_on_its_very_next_request(tenant_a, person_factory):
    admin = person_factory("alice@firm-a.example", tenant=tenant_a, role=Role.ADMIN)
    issued = issue_api_key(tenant=tenant_a, role=Role.ADMIN, name="ci", actor=Actor.system())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {issued.plaintext}")
    assert api.get("/api/v1/me/").status_code == 200
    assert api.get("/api/v1/alerts/").status_code == 200

    page = Client()
    login(page, admin)
    assert page.post(f"/api-keys/{issued.api_key.pk}/revoke/").status_code in (200, 302)

    for path in ("/api/v1/me/", "/api/v1/alerts/", "/api/v1/exports/"):
        refused = api.get(path)
        assert refused.status_code == 401, path
        assert refused.json()["error"]["message"] == "This API key has been revoked."
