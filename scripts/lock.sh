#!/usr/bin/env bash
# `make lock`: rewrites requirements.lock (everything, dev tools included: what make run, make test
# and CI install) and requirements-production.lock (the runtime dependencies only, at the same
# versions and hashes: what the Docker image installs) from pyproject.toml with pip-compile
# (pip-tools), then installs the first. Run it after editing the dependencies in pyproject.toml; pins already in the lock stay
# unless pyproject.toml asks otherwise. Extra arguments go to pip-compile, e.g.
#   scripts/lock.sh --upgrade-package django      (make lock ARGS="--upgrade-package django")
#   scripts/lock.sh --upgrade                      (every transitive version to the newest allowed)
# The lock names versions and hashes only: no index or find-links lines (this machine's pip config
# has local mirrors that must not end up in the file).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO_ROOT"

# pip-compile comes with the dev dependencies. After an edit of pyproject.toml the bootstrap's
# consistency check fails (the lock is not rewritten yet), but pip-compile is installed by then.
if [ ! -x .venv/bin/pip-compile ]; then
    bash scripts/bootstrap.sh || [ -x .venv/bin/pip-compile ]
fi

# --all-build-deps pins setuptools (our build backend), so the editable install builds offline of
# the index; --allow-unsafe pins pip and setuptools like everything else.
.venv/bin/pip-compile --quiet --extra dev --all-build-deps --generate-hashes --allow-unsafe \
    --strip-extras --no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
    --output-file requirements.lock "$@" pyproject.toml

# The image gets no test tools, but never a version CI did not test: the full lock constrains it.
.venv/bin/pip-compile --quiet --all-build-deps --generate-hashes --allow-unsafe \
    --strip-extras --no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
    --constraint requirements.lock --output-file requirements-production.lock pyproject.toml

bash scripts/bootstrap.sh
