# `make run` starts the whole desk; `make test` runs every check CI runs (.ci/run calls it).
# Both set up what they need first, and cheaply when nothing changed: stamp files record what was done.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PROTOS := $(wildcard proto/helpdesk/v1/*.proto)
PYTEST_ARGS ?=

# Installed from this pyproject.toml; lives in the venv, so a new venv installs again.
INSTALLED := $(VENV)/.installed
# Generated from these protos; lives in gen/, so deleting gen/ regenerates.
GENERATED := gen/.generated

# The statistics report page's browser test drives Debian's chromium through Playwright (whose own
# browser download cannot work here); CI runs as root, as does a developer's machine here.
CHROMIUM := /usr/bin/chromium

.PHONY: venv install proto lint test run bench clean distclean chromium

venv: $(PY)

$(PY):
	$(PYTHON) -m venv $(VENV)

install: $(INSTALLED)

# compat mode: mypy and other tools see the packages as plain directories on sys.path.
# The .pth file puts gen/ on the venv's path, so `from helpdesk.v1 import intake_pb2` works.
$(INSTALLED): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev,embedded]' --config-settings editable_mode=compat
	echo "$(CURDIR)/gen" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/helpdesk-gen.pth"
	touch $@

proto: $(GENERATED)

# gen/helpdesk stays a namespace package (no __init__.py), as protoc's imports expect.
# The mypy plugins are found on PATH, hence the venv's bin first.
$(GENERATED): $(PROTOS) $(INSTALLED)
	rm -rf gen/helpdesk
	mkdir -p gen
	PATH="$(CURDIR)/$(BIN):$$PATH" $(PY) -m grpc_tools.protoc -Iproto \
		--python_out=gen --grpc_python_out=gen --mypy_out=gen --mypy_grpc_out=gen $(PROTOS)
	touch $@

lint: $(INSTALLED) $(GENERATED)
	$(BIN)/ruff check
	$(BIN)/ruff format --check
	$(BIN)/mypy desk domain cli services workflows deploy tests

test: lint $(CHROMIUM)
	$(BIN)/pytest $(PYTEST_ARGS)

chromium: $(CHROMIUM)

# Installed once, only when missing (nothing is run or printed when it is there); the package lists
# are fetched only if the install cannot find the package without them.
$(CHROMIUM):
	@if [ "$$(id -u)" -ne 0 ]; then echo "chromium is missing: run 'apt-get install chromium' as root" >&2; exit 1; fi
	@echo "installing Debian's chromium for the browser tests"
	@export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
		|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

run: $(INSTALLED) $(GENERATED)
	$(BIN)/helpdesk up

bench: $(INSTALLED) $(GENERATED)
	$(PY) -m tests.bench

# Build output and caches; the venv and the desk's data (.data/) stay.
clean:
	rm -rf gen build *.egg-info .mypy_cache .ruff_cache .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

# Everything `make` made, the venv and the desk's data included.
distclean: clean
	rm -rf $(VENV) .data
