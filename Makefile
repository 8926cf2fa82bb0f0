# The README's quick start: `make run` (the main job on the built-in default) and `make test`.
# Both set up the environment first when needed (Debian packages, .venv, MPI build of h5py).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done
PYTEST_ARGS ?=

.PHONY: setup run test bench lint format

setup: $(STAMP)

$(STAMP): tools/setup.sh setup.cfg pyproject.toml
	bash tools/setup.sh

run: $(STAMP)
	$(PY) -m src.sample --overwrite

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) -m bench.run

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

format: $(STAMP)
	$(VENV)/bin/ruff check --fix src tests bench
	$(VENV)/bin/ruff format src tests bench
