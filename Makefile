# The newcomer path: `make run` serves the API against a local mock IdP, `make test` runs the
# suite. Both create .venv (Python 3.10+) and install requirements-dev.txt when it is missing or
# a requirements file changed since the last install (stamp: .venv/.requirements-installed).

SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first of these that is Python 3.10+ creates .venv; override with `make PYTHON=...`.
PYTHON ?= $(shell for p in python3 python3.14 python3.13 python3.12 python3.11 python3.10; do \
  $$p -c 'import sys; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1 && { echo $$p; break; }; \
  done)
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.requirements-installed
FAST_STAMP := $(VENV)/.fast-parser-attempted
REQUIREMENTS := requirements.txt requirements-test.txt requirements-dev.txt

# pytest workers: one per core plus one. About half of the suite's serial time is waiting on live
# servers (the soak's paced load, JWKS timeouts, process start-up), which the extra worker fills.
# `make test TEST_WORKERS=N` chooses; unset or empty means that default.
PYTEST_WORKERS = $(or $(TEST_WORKERS),$(shell echo $$(( $$(nproc 2>/dev/null || \
  getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) + 1 ))))

API_PORT ?= 8000
IDP_PORT ?= 8001
# Every pyenv interpreter the tox matrix uses; uv (tox-uv) must never download one.
TOX_PYTHONS ?= 3.11.7:3.10.13:3.12.1:3.13.0
export UV_PYTHON_DOWNLOADS := never

.PHONY: help run test cov tox lint bench wrk soak clean distclean venv

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(PY):
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.10+ is needed and none was found" \
	  "(python3, python3.10-3.14); install one or run: make $(MAKECMDGOALS) PYTHON=/path/to/python3" >&2; \
	  exit 1; fi
	@echo "Creating $(VENV) with $(PYTHON) ($$($(PYTHON) -V 2>&1))"
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "'$(PYTHON) -m venv' failed (on Debian/Ubuntu: apt install python3-venv);" \
	       "trying virtualenv" >&2; $(PYTHON) -m virtualenv -q $(VENV); }

# After installing, one collection compiles the project and rewrites the tests' asserts into
# __pycache__ (about 2 s), as pip compiles what it installs: otherwise the first `make test` of a
# clone has every xdist worker do it at once, three times over. Its failure is left to the run.
$(STAMP): $(REQUIREMENTS) | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@echo "Compiling the project and its tests (pytest --collect-only)"
	@PYTHONDONTWRITEBYTECODE= $(BIN)/pytest --collect-only -q -p no:xdist > /dev/null 2>&1 || true
	@touch $@

venv: $(STAMP) ## Create .venv and install requirements-dev.txt (only when they changed)

run: $(STAMP) ## Serve the API on 127.0.0.1:8000 against the mock IdP on :8001 (API_PORT=, IDP_PORT=)
	exec $(PY) -m devtools.run --api-port $(API_PORT) --idp-port $(IDP_PORT)

# Bytecode caches are written even under PYTHONDONTWRITEBYTECODE (an empty value unsets it), into
# __pycache__ (which git ignores and `make clean` removes) or PYTHONPYCACHEPREFIX: without them
# every xdist worker and every server a test starts compiles the project again, and pytest
# rewrites every test module's asserts again, about 5 s of a fresh clone's run.
test: $(STAMP) ## Run the test suite (PYTEST_ARGS=..., TEST_WORKERS=...)
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# Coverage slows the suite by about a quarter, so `make test` leaves it to this target and to
# every tox env (CI), which fail under pyproject.toml's fail_under.
cov: $(STAMP) ## Run the test suite with branch coverage and its report (fails under 95%)
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal --cov --cov-report=term $(PYTEST_ARGS)

tox: $(STAMP) ## Run the tox matrix, lowest deps and lint (TOX_ARGS=...)
	PYENV_VERSION=$(TOX_PYTHONS) $(BIN)/tox $(TOX_ARGS)

lint: $(STAMP) ## ruff check, ruff format --check, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy apiexample mock_idp devtools bench soak tests

# Tried once per change of requirements-fast.txt, not on every `make bench`.
$(FAST_STAMP): requirements-fast.txt | $(STAMP)
	@$(PY) -m pip install --disable-pip-version-check -q -r requirements-fast.txt \
	  || echo "gunicorn_h1c could not be built (it needs a C compiler): gunicorn will parse" \
	          "requests in Python, and the bench says so (rm $@ to try again)" >&2
	@touch $@

bench: $(STAMP) $(FAST_STAMP) ## Run the benchmarks (with gunicorn's C HTTP parser when it can be built)
	@$(MAKE) -s wrk || echo "The bench uses its Python load generator instead, and says so" >&2
	$(PY) bench/run.py $(BENCH_ARGS)

# wrk, the load generator behind the README's figures and two of the suite's tests, is a Debian
# package, not a Python one: installed here as root with apt-get (`.ci/run` needs it). Without it
# the bench falls back to its Python generator and those two tests skip.
APT_INSTALL_WRK := apt-get install -y -qq --no-install-recommends wrk > /dev/null
wrk: ## Install wrk from Debian's packages when it is missing (as root, with apt-get)
	@command -v wrk > /dev/null && exit 0; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get > /dev/null; then \
	  echo "wrk is not installed, and this is not root with apt-get: install it yourself" \
	       "(Debian/Ubuntu: sudo apt install wrk)" >&2; exit 1; fi; \
	echo "Installing wrk (apt-get install wrk)"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$(APT_INSTALL_WRK) || { apt-get update -qq && $(APT_INSTALL_WRK); }; \
	wrk -v 2>&1 | head -1

soak: $(STAMP) ## Run the soak test (SOAK_ARGS=...)
	$(PY) -m soak $(SOAK_ARGS)

clean: ## Remove caches, coverage data, .tox and var/ (keeps .venv)
	rm -rf .tox var .coverage .coverage.* htmlcov coverage.xml .pytest_cache .mypy_cache \
	  .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean ## clean, and remove .venv too
	rm -rf $(VENV)
