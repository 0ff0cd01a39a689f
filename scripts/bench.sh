#!/usr/bin/env bash
# `make bench`: every benchmark of the product in one run (bench/all.py) against the local stack
# (started if needed), at sizes that fit this machine in under 15 minutes; the table of their
# figures goes into docs/benchmarks.md. Benchmarks write their data into bench-* tenants of the
# local database (a later run reuses the big data sets). Arguments go to bench/all.py, e.g.
# `bash scripts/bench.sh --only webhook,search`.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO_ROOT"
bash scripts/bootstrap.sh
bash scripts/stack.sh start run
export DJANGO_SETTINGS_MODULE=compliance_hub.settings DJANGO_ENV=local
.venv/bin/python manage.py migrate --noinput >/dev/null
PYTHONPATH=. .venv/bin/python bench/all.py "$@"
