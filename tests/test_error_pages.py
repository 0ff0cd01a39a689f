"""DEBUG is off unless asked for by name: a failing request gets our own pages, never Django's
debug page with the settings (database URLs and their passwords), and static files are still
served (by whitenoise) without DEBUG."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import path

from compliance_hub import errors

ROOT = Path(__file__).resolve().parent.parent
SECRET_PASSWORD = "s3cret-db-password-never-shown"

# The settings as `make run` loads them (DJANGO_ENV=local), in a fresh interpreter; the request
# fails inside Django's own handler, which picks the debug page or our handler500.
_PROBE = """
import json, django
from django.conf import settings
django.setup()
from django.core.handlers.exception import response_for_exception
from django.http import Http404
from django.test import RequestFactory

answers = {}
for name, error in (("500", RuntimeError("boom")), ("404", Http404("gone"))):
    request = RequestFactory().get("/somewhere/", HTTP_HOST="127.0.0.1")
    response = response_for_exception(request, error)
    answers[name] = {"status": response.status_code, "body": response.content.decode()}
print(json.dumps({"debug": settings.DEBUG, "answers": answers}))
"""


def _probe_local_settings(**extra_env: str) -> dict:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))
    }
    env = {
        **clean,
        "DJANGO_ENV": "local",
        "DJANGO_SETTINGS_MODULE": "compliance_hub.settings",
        "DATABASE_URL": f"postgres://ch_app:{SECRET_PASSWORD}@127.0.0.1:5432/compliance_hub",
        "DATABASE_OWNER_URL": f"postgres://ch_owner:{SECRET_PASSWORD}@127.0.0.1:5432/ch",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        **extra_env,
    }
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_local_settings_keep_debug_off_unless_asked_for_by_name():
    probe = _probe_local_settings()
    assert probe["debug"] is False
    error = probe["answers"]["500"]
    assert error["status"] == 500
    assert "Something went wrong" in error["body"]
    for leak in (SECRET_PASSWORD, "DATABASE", "Traceback", "RuntimeError", "boom"):
        assert leak not in error["body"]
    missing = probe["answers"]["404"]
    assert missing["status"] == 404
    assert "We could not find that page" in missing["body"]
    assert "URLconf" not in missing["body"] and "urlpatterns" not in missing["body"]

    # Someone who wants the debug page names it.
    assert _probe_local_settings(DJANGO_DEBUG="1")["debug"] is True


def _failing_view(request):
    raise RuntimeError(f"password={SECRET_PASSWORD}")


urlpatterns = [path("fails/", _failing_view)]
handler500 = errors.server_error


@pytest.mark.django_db
def test_an_exception_in_a_view_gives_our_500_page_and_no_internals(client, settings):
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    response = client.get("/fails/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert SECRET_PASSWORD not in body and "Traceback" not in body and "DATABASE" not in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "static_path",
    [
        "/static/css/app.css",
        "/static/js/app.js",
        # Swagger UI at /api/docs/ loads these from us (drf-spectacular-sidecar), not a CDN.
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
    ],
)
def test_static_files_are_served_with_debug_off(client, settings, static_path):
    assert settings.DEBUG is False
    response = client.get(static_path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)
