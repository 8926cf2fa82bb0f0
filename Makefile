# The README's quick start: `make run` (the main job on the built-in default) and `make test`.
# Both set up the environment first when needed (Debian packages, .venv, MPI build of h5py).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done
PYTEST_ARGS ?=

.PHONY: setup run test bench lint format

setup: $(STAMP)

$(STAMP): tools/setup.sh tools/constraints.txt setup.cfg pyproject.toml
	bash tools/setup.sh

# the whole study on its built-in default (src/pipeline); RUN_ARGS for another config or --set KEY=VALUE
RUN_ARGS ?=

run: $(STAMP)
	$(PY) -m src.pipeline $(RUN_ARGS)

MPIRUN := OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)
	$(MPIRUN) -n 2 $(PY) -m pytest --with-mpi -m mpi -q -p no:cacheprovider --color=no tests/test_parallel_io.py
	$(MPIRUN) -n 4 $(PY) -m pytest --with-mpi -m mpi -q -p no:cacheprovider --color=no tests/test_parallel_io.py

bench: $(STAMP)
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) -m bench.run
	$(PY) -m bench.mpi_scaling
	$(PY) -m bench.quantum
	$(PY) -m bench.train
	$(PY) -m bench.superres
	if $(PY) -c "import cupy; assert cupy.cuda.runtime.getDeviceCount()" 2>/dev/null; then \
		$(PY) -m bench.gpu; else echo "bench.gpu: skipped (no CuPy or no CUDA device)"; fi

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench tools
	$(VENV)/bin/ruff format --check src tests bench tools

format: $(STAMP)
	$(VENV)/bin/ruff check --fix src tests bench tools
	$(VENV)/bin/ruff format src tests bench tools
