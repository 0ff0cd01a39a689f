"""The WhatsApp payload parser is pure (DESIGN.md): importing it loads neither Django nor Celery,
so it can be fuzzed, benchmarked and tested without a settings module or a database."""

from __future__ import annotations

import subprocess
import sys

from django.conf import settings

PROBE = (
    "import sys, ingestion.whatsapp.parser, compliance_hub.digits; "
    "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'celery', 'kombu'}))"
)


def test_importing_the_parser_loads_neither_django_nor_celery():
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(settings.BASE_DIR)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"
