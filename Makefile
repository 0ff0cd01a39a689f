# Each target is one line; the scripts do the work. `make test ARGS="-k consent -x"` passes ARGS to pytest.
ARGS ?=

.PHONY: run test lint fmt stop bench lock

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh $(ARGS)

lint:
	bash scripts/bootstrap.sh && .venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports --no-logo && .venv/bin/mypy

fmt:
	bash scripts/bootstrap.sh && .venv/bin/ruff format . && .venv/bin/ruff check --fix .

stop:
	bash scripts/run.sh stop
	bash scripts/stack.sh stop run

bench:
	bash scripts/bench.sh

lock:
	bash scripts/lock.sh $(ARGS)
