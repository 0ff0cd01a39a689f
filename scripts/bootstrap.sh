#!/usr/bin/env bash
# Creates .venv (Python 3.11) and installs the project with its dev extras from pyproject.toml.
# A stamp .venv/.installed-<sha256 of pyproject.toml> makes repeated runs a no-op until
# pyproject.toml changes.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO_ROOT"

say() { echo "bootstrap: $*"; }
die() {
    echo "bootstrap: error: $*" >&2
    exit 1
}

[ -f pyproject.toml ] || die "no pyproject.toml in $REPO_ROOT"

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

stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ -f "$stamp" ]; then
    say ".venv is up to date with pyproject.toml"
    exit 0
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off
say "installing the project and its dev dependencies into .venv (pyproject.toml is new or changed; the first time takes a while)"
.venv/bin/python -m pip install -qq --upgrade pip ||
    die "could not upgrade pip (see the errors above)"
.venv/bin/python -m pip install -qq -e ".[dev]" ||
    die "pip install -e \".[dev]\" failed (see the errors above)"

rm -f .venv/.installed-*
touch "$stamp"
say "done"
