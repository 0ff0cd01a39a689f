#!/usr/bin/env bash
# Creates .venv (Python 3.11) and installs exactly what requirements.lock names (every transitive
# version, checked against its hashes), then the project itself in editable mode without resolving
# anything, so a fresh machine gets the versions CI got. pyproject.toml is the human-edited list;
# `make lock` rewrites requirements.lock from it.
# A stamp .venv/.installed-<sha256 of requirements.lock and pyproject.toml> makes repeated runs a
# no-op until either changes.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO_ROOT"

say() { echo "bootstrap: $*"; }
die() {
    echo "bootstrap: error: $*" >&2
    exit 1
}

[ -f pyproject.toml ] || die "no pyproject.toml in $REPO_ROOT"
[ -f requirements.lock ] || die "no requirements.lock in $REPO_ROOT (make lock writes it from pyproject.toml)"

is_py311() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; }

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 && is_py311 "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# A .venv that is broken or of another Python (copied from elsewhere, Python upgraded) is rebuilt.
if [ -e .venv ] && ! is_py311 .venv/bin/python; then
    say ".venv is not a working Python 3.11 environment; recreating it"
    rm -rf .venv
fi

if [ ! -x .venv/bin/python ]; then
    python=$(find_python) || die "Python 3.11 not found (tried \$PYTHON, python3.11, python3)"
    say "creating .venv with $python ($("$python" --version 2>&1))"
    if ! "$python" -m venv .venv; then
        rm -rf .venv
        die "'$python -m venv' failed; on Debian install the venv module: apt-get install -y python3.11-venv"
    fi
fi

stamp=.venv/.installed-$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ]; then
    say ".venv is up to date with requirements.lock"
    exit 0
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off
say "installing requirements.lock into .venv (it is new or changed; the first time takes a while)"
# --no-deps: the lock is complete; a package it does not name is an error, never a silent download.
.venv/bin/python -m pip install -qq --no-deps --require-hashes -r requirements.lock ||
    die "pip install -r requirements.lock failed (see the errors above)"
# Packages the lock no longer names (dropped from pyproject.toml) leave, so this .venv matches a
# fresh one; pip-sync also removes the project's own editable install, put back just below.
.venv/bin/pip-sync -q --pip-args "--no-deps" requirements.lock ||
    die "pip-sync requirements.lock failed (see the errors above)"
# The project itself, built with the locked setuptools (no isolated build that would fetch another).
.venv/bin/python -m pip install -qq --no-deps --no-build-isolation -e . ||
    die "pip install -e . failed (see the errors above)"
.venv/bin/python -m pip check >/dev/null ||
    die "requirements.lock is inconsistent with pyproject.toml (run make lock): $(.venv/bin/python -m pip check)"

rm -f .venv/.installed-*
touch "$stamp"
say "done"
