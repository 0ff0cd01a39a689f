# Each target is one line; the scripts do the work. `make test ARGS="-k consent -x"` passes ARGS to pytest.
ARGS ?=

.PHONY: run test lint fmt stop bench

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh $(ARGS)

lint:
	bash scripts/bootstrap.sh && .venv/bin/ruff check . && .venv/bin/ruff format --check .

fmt:
	bash scripts/bootstrap.sh && .venv/bin/ruff format . && .venv/bin/ruff check --fix .

stop:
	bash scripts/stack.sh stop run

bench:
	@bash scripts/bootstrap.sh && found=0; for f in bench/*.py; do [ -e "$$f" ] || continue; case "$${f##*/}" in _*) continue;; esac; found=1; echo "== $$f"; PYTHONPATH=. .venv/bin/python "$$f" || exit 1; done; [ $$found = 1 ] || echo "no benchmarks in bench/"
