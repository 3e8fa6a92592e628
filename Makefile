# pyexchange: two commands for a new user.
#   make demo   the main job, on the embedded default database when no DSN is configured
#   make test   ruff, mypy, plpgsql_check over every function, the pgTAP files and pytest
# Both set themselves up: a virtual environment with the Python packages, and the Debian
# packages they need when this user can install them (root); otherwise they say what to install.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
APT_PACKAGES := postgresql-15-pgtap postgresql-15-plpgsql-check sqitch postgresql-15-cron pgbackrest postgresql-15-pgaudit \
                postgresql-15-auto-failover pgbouncer

.PHONY: demo test lint typecheck pytest system-deps server-deps bench clean schema-dump release-lock

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,charts]'
	@touch $(STAMP)

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	    dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	        echo "installing:$$missing"; \
	        DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	    else \
	        echo "missing Debian packages:$$missing"; \
	        echo "install them with: sudo apt-get install$$missing"; exit 1; \
	    fi; \
	fi

# With no database configured, demo runs the embedded server, which needs the PostgreSQL
# server binaries (initdb, pg_ctl): install them when root, else say how.
server-deps: $(STAMP)
	@if [ -z "$$PYEXCHANGE_DSN$$PGHOST$$PGHOSTADDR$$PGPORT$$PGDATABASE$$PGUSER$$PGSERVICE" ] && \
	    ! $(BIN)/python -c 'from pyexchange.server import find_bindir; find_bindir()' 2>/dev/null; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	        echo "installing: postgresql (server binaries for the embedded database)"; \
	        DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	    else \
	        echo "no PostgreSQL server binaries: install them (sudo apt-get install postgresql)"; \
	        echo "or point pyexchange at a database: export PYEXCHANGE_DSN=postgresql://..."; \
	        exit 1; \
	    fi; \
	fi

demo: $(STAMP) server-deps
	$(BIN)/pyexchange demo $(DEMO_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check pyexchange tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) system-deps
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# The soak (benchmarks/soak.py): every kind of call from many connections for a while, the
# invariants checked as it runs and at the end; exits 1 on any failure or broken invariant.
#   make soak SOAK_DURATION=300 SOAK_CLIENTS=8
SOAK_DURATION ?= 60
SOAK_CLIENTS ?= 8
.PHONY: soak
soak: $(STAMP)
	$(BIN)/python -m benchmarks.soak --duration $(SOAK_DURATION) --clients $(SOAK_CLIENTS) $(SOAK_ARGS)

# sql/: the schema as the migrations make it, one file per sqitch change (see
# pyexchange/schema_dump.py); a test fails when the committed files drift.
schema-dump: $(STAMP)
	$(BIN)/python -m pyexchange.schema_dump $(SCHEMA_DUMP_ARGS)

# After tagging a release in migrations/sqitch.plan (sqitch tag): lock the released scripts
# and the functions they include (see pyexchange/release.py); a test enforces the lock.
release-lock: $(STAMP)
	$(BIN)/python -m pyexchange.release lock

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .ruff_cache
