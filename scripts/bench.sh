#!/usr/bin/env bash
# `make bench`: runs every benchmark in bench/ against the local stack (started if needed) and
# prints their figures. Benchmarks write their data into bench-* tenants of the local database.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO_ROOT"
bash scripts/bootstrap.sh
bash scripts/stack.sh start run
export DJANGO_SETTINGS_MODULE=compliance_hub.settings DJANGO_ENV=local
.venv/bin/python manage.py migrate --noinput >/dev/null
found=0
for f in bench/*.py; do
    [ -e "$f" ] || continue
    case "${f##*/}" in _*) continue ;; esac
    found=1
    echo "== $f"
    PYTHONPATH=. .venv/bin/python "$f"
done
[ "$found" = 1 ] || echo "no benchmarks in bench/"
