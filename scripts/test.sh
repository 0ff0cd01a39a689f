#!/usr/bin/env bash
# `make test` (and CI through .ci/run): installs, starts a private PostgreSQL and Redis for the tests,
# runs ruff, lint-imports and mypy, then pytest with the given arguments; stops the servers afterwards,
# even on failure.
#
#   scripts/test.sh [pytest args...]      e.g. scripts/test.sh -k consent -x
#   SKIP_LINT=1 scripts/test.sh ...       skip ruff, lint-imports and mypy while iterating (CI never sets it)
#   TEST_WORKERS=0 scripts/test.sh ...    run pytest in one process (e.g. with --pdb); `-n 0` does the same
#
# pytest runs in TEST_WORKERS processes (pytest-xdist; 2 by default, one per core of the 2-core
# machines we run on: docs/testing.md has the measurements). Each worker has its own test database
# (pytest-django names it test_compliance_hub_gw0, _gw1, ...) and its own Redis databases and
# channel prefix (compliance_hub/settings.py); the processes a test starts inherit them.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO_ROOT"

say() { echo "test: $*"; }

T0=$SECONDS
TIMES=()
lap() { # NAME START
    TIMES+=("$1 $((SECONDS - $2))s")
}
print_times() {
    local line="" item
    for item in "${TIMES[@]}"; do line+="$item, "; done
    say "timing: ${line}total $((SECONDS - T0))s"
}

t=$SECONDS
bash scripts/bootstrap.sh
lap bootstrap "$t"

t=$SECONDS
# Stop at exit only what this run started: a stack that was already up (another run in progress,
# a developer's session) stays up.
if ! bash scripts/stack.sh status test >/dev/null 2>&1; then
    trap 'bash scripts/stack.sh stop test >/dev/null' EXIT
fi
bash scripts/stack.sh start test
lap stack "$t"

# Each line is KEY=VALUE; exported as is, with no shell expansion.
while IFS= read -r line || [ -n "$line" ]; do
    case $line in '' | '#'*) continue ;; esac
    export "${line?}"
done <"$REPO_ROOT/.stack/test/env"
export DJANGO_SETTINGS_MODULE=compliance_hub.settings
export DJANGO_ENV=test

if [ "${SKIP_LINT:-0}" != 1 ]; then
    t=$SECONDS
    say "ruff check"
    if ! .venv/bin/ruff check .; then
        say "FAILED: ruff check found problems (make fmt fixes many of them)"
        exit 1
    fi
    say "ruff format --check"
    if ! .venv/bin/ruff format --check .; then
        say "FAILED: files need formatting (run make fmt)"
        exit 1
    fi
    say "lint-imports"
    if ! .venv/bin/lint-imports --no-cache --no-logo; then
        say "FAILED: an import breaks a contract in pyproject.toml [tool.importlinter] (layers of DESIGN.md, pure modules)"
        exit 1
    fi
    say "mypy"
    if ! .venv/bin/mypy; then
        say "FAILED: mypy found type errors (settings in pyproject.toml [tool.mypy])"
        exit 1
    fi
    lap lint "$t"
fi

t=$SECONDS
rc=0
workers=()
if [ "${TEST_WORKERS:-2}" != 0 ]; then
    workers=(-n "${TEST_WORKERS:-2}")
fi
.venv/bin/python -m pytest "${workers[@]}" "$@" || rc=$?
lap pytest "$t"

if [ $rc -eq 5 ]; then
    say "FAILED: pytest collected no tests (exit code 5); there must be tests"
fi
print_times
exit $rc
