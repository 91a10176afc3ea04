# The two set-up commands of the README: `make demo` and `make test`.
# Each creates .venv if missing and installs what it needs. torch is pinned to the CPU wheel
# and installed in the same pip call as everything else (an unpinned torch pulls CUDA builds).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
TORCH  := torch==2.13.0
STAMP  := $(VENV)/.installed-dev

export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: demo test test-all lint typecheck bench-smoke bench-reaction bench-multiobjective install clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip setuptools wheel -q

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install $(TORCH) -e ".[chem,graph,sciml,sr,web,postgres,ray,dev,bench]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	rm -f examples/suzuki.sqlite
	$(VENV)/bin/scientia run examples/suzuki.toml --budget 50 --report demo-report.html

test: $(STAMP)
	$(PY) -m pytest -q

test-all: $(STAMP)
	$(PY) -m pytest -q -m "slow or not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

bench-smoke: $(STAMP)
	$(PY) benchmarks/reaction_bo.py --smoke
	$(PY) benchmarks/feynman.py --smoke
	$(PY) benchmarks/anomaly.py --smoke
	$(PY) benchmarks/labelling.py --smoke
	$(PY) benchmarks/denoise.py --smoke
	$(PY) benchmarks/synthetic.py --smoke
	$(PY) benchmarks/web_latency.py --smoke
	$(PY) benchmarks/multiobjective.py --smoke
	$(PY) benchmarks/review_stress.py --smoke
	$(PY) benchmarks/emulators.py --smoke
	$(PY) benchmarks/proposal_time.py --smoke
	$(PY) benchmarks/transfer.py --smoke
	$(PY) benchmarks/screening.py --smoke
	$(PY) benchmarks/screening_throughput.py --smoke
	$(PY) benchmarks/active_screening.py --smoke

# The full reaction benchmark. BayBE's chemistry extra pins another rdkit release, so its stage
# runs from a virtualenv of its own (.venv-baybe); every trace records the versions it ran with.
BAYBE_VENV := .venv-baybe
$(BAYBE_VENV)/.installed:
	$(PYTHON) -m venv $(BAYBE_VENV)
	$(BAYBE_VENV)/bin/pip install $(TORCH) "baybe[chem]==0.15.0" pandas scipy matplotlib
	touch $@

bench-reaction: $(STAMP) $(BAYBE_VENV)/.installed
	$(PY) benchmarks/reaction_bo.py --methods random,scientia-descriptors,scientia-onehot,scientia-descriptors+onehot --seeds 30
	PYTHONPATH=src $(BAYBE_VENV)/bin/python benchmarks/reaction_bo.py --methods baybe --seeds 30
	$(PY) benchmarks/reaction_bo.py --summarise-only --seeds 30

# The full multi-objective benchmark (Olympus dye_lasers and redoxmers; data in ../shared/data).
# BayBE's stage runs from its own virtualenv and only writes traces; the last line summarises.
bench-multiobjective: $(STAMP) $(BAYBE_VENV)/.installed
	$(PY) benchmarks/multiobjective.py --methods random,scientia --seeds 20
	PYTHONPATH=src $(BAYBE_VENV)/bin/python benchmarks/multiobjective.py --methods baybe --seeds 20
	$(PY) benchmarks/multiobjective.py --summarise-only --seeds 20

clean:
	rm -rf $(VENV) $(BAYBE_VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info src/*.egg-info
