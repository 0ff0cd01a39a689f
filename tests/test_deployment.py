"""docker-compose.yml, checked without Docker (there is none on the test machines): it parses,
every secret is required (no fallback password), and the servers are reached only through nginx,
whose limits agree with the application's."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from django.conf import settings

from ingestion.serve import ACCESS_LOG_FORMAT, command_from_arguments

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
TEMPLATE = ROOT / "docker" / "nginx" / "default.conf.template"
SECRETS = [
    "DJANGO_SECRET_KEY",
    "FIELD_ENCRYPTION_KEYS",
    "POSTGRES_PASSWORD",
    "CH_OWNER_PASSWORD",
    "CH_APP_PASSWORD",
]
# Docker Compose's interpolation: ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?err}, ...
REFERENCE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?P<op>:?[-?+])?(?P<rest>[^}]*)\}")


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _references() -> list[re.Match]:
    return list(REFERENCE.finditer(COMPOSE.read_text()))


def test_the_compose_file_parses_and_describes_the_stack():
    services = _compose()["services"]
    assert {"postgres", "redis", "migrate", "web", "intake", "worker", "beat", "proxy"} <= set(
        services
    )


def test_every_secret_is_required_and_none_has_a_fallback():
    assert "change-me" not in COMPOSE.read_text()
    seen: dict[str, set[str]] = {}
    for found in _references():
        seen.setdefault(found["name"], set()).add(found["op"] or "")
    for name in SECRETS:
        # Every use refuses to start without a value (`:?`): none falls back to a default.
        assert seen.get(name) == {":?"}, (name, seen.get(name))


def test_the_servers_are_not_published_and_nginx_is():
    services = _compose()["services"]
    for server in ("web", "intake"):
        assert "ports" not in services[server]
        assert services[server]["expose"] == ["8000"]
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert proxy["ports"] == ["127.0.0.1:8000:80"]
    assert proxy["environment"]["UPSTREAM"] == "web:8000"
    # Webhook intake and /healthz have a server of their own (a sign-in flood holds web's).
    assert proxy["environment"]["INTAKE_UPSTREAM"] == "intake:8000"
    assert {"web", "intake"} <= set(proxy["depends_on"])
    mounts = [volume.split(":")[:2] for volume in proxy["volumes"]]
    assert [
        "./docker/nginx/default.conf.template",
        "/etc/nginx/templates/default.conf.template",
    ] in (mounts)
    # The shipped nginx.conf carries the connection limits the flood probes need.
    assert ["./docker/nginx/nginx.conf", "/etc/nginx/nginx.conf"] in mounts


def test_nginx_and_the_application_share_the_webhook_body_limit():
    services = _compose()["services"]
    default = f"${{WEBHOOK_MAX_BODY_BYTES:-{settings.WEBHOOK_MAX_BODY_BYTES}}}"
    assert services["proxy"]["environment"]["WEBHOOK_MAX_BODY_BYTES"] == default
    assert services["web"]["environment"]["WEBHOOK_MAX_BODY_BYTES"] == default
    assert services["intake"]["environment"]["WEBHOOK_MAX_BODY_BYTES"] == default
    template = TEMPLATE.read_text()
    assert "client_max_body_size ${WEBHOOK_MAX_BODY_BYTES};" in template
    # The template's own names are the ones the proxy service sets.
    names = set(re.findall(r"\$\{([A-Z_]+)\}", template))
    assert names == set(services["proxy"]["environment"])


def test_web_and_workers_share_one_models_folder_that_the_deploy_trains():
    """Without it each container trained the classifiers on its first scan, into a folder of its
    own that `train_models` run in another container never reached."""
    services = _compose()["services"]
    for name in ("migrate", "web", "worker", "beat"):
        service = services[name]
        assert service["environment"]["MODELS_DIR"] == "/data/models", name
        assert "models:/data/models" in service["volumes"], name
    assert "models" in _compose()["volumes"]
    assert "train_models --if-needed" in " ".join(services["migrate"]["command"])
    assert "/data/models" in (ROOT / "Dockerfile").read_text()  # exists, owned by the app user


def test_the_intake_serves_the_lean_webhook_path_and_web_serves_django():
    """The proxy sends Meta's deliveries to the intake, granian as ingestion/serve.py starts it,
    serving ingestion/wsgi.py (the lean path, Django for the rest); make run's one server is
    both, and runs it too. Both gunicorns take the settings that keep query strings out of their
    access logs."""
    services = _compose()["services"]
    intake = services["intake"]["command"]
    assert intake[:3] == ["python", "-m", "ingestion.serve"]
    command = command_from_arguments(intake[3:])
    assert command[-1] == "ingestion.wsgi:application"
    assert command[command.index("--interface") + 1] == "wsgi"
    assert "--access-log" in command and "%(path)s" in ACCESS_LOG_FORMAT
    assert "query" not in ACCESS_LOG_FORMAT
    web = services["web"]["command"]
    assert web[:2] == ["gunicorn", "compliance_hub.wsgi"]
    assert web[web.index("-c") + 1] == "python:compliance_hub.gunicorn_conf"
    run = (ROOT / "scripts" / "run.sh").read_text()
    assert ".venv/bin/gunicorn ingestion.wsgi -c python:compliance_hub.gunicorn_conf" in run
