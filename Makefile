# Two commands matter: `make demo` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test fuzz install install-test serve migrate bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip >/dev/null

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/tierline migrate

demo: install
	$(BIN)/tierline migrate
	$(BIN)/tierline demo
	$(BIN)/tierline serve --host $(HOST) --port $(PORT)

# The suite in parallel (pytest-xdist), each worker on a database of its own; PYTEST_WORKERS=0 runs it in one
# process. Any other pytest option goes in PYTEST_ARGS.
PYTEST_WORKERS ?= 2
test: install-test
	@command -v chromium >/dev/null 2>&1 || [ "$$CI" = "true" ] || echo "No Chromium on this machine: the \
	browser tests are skipped (apt-get install chromium runs them; CI never skips them)."
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# CI's fuzzing stage on its own (.ci/fuzz): schemathesis over the whole API of a fresh `tierline serve`, on a
# temporary SQLite file, or on the empty database FUZZ_DATABASE_URL names. Any 5xx fails it. FUZZ_SECONDS (time
# budget, at most 180), FUZZ_SEED and FUZZ_WORKERS are read from the environment.
FUZZ_DATABASE_URL ?=
fuzz: install-test
	.ci/fuzz $(FUZZ_DATABASE_URL)

bench: install
	$(BIN)/python bench/intake.py

clean:
	rm -rf $(VENV) tierline.db tierline.db-wal tierline.db-shm
