# Two commands on a fresh machine: `make run` and `make test`. Both create the venv if needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MODELS := policy/oracle policy/sequential policy/greedy policy/redundant policy/lazy
STAMP := $(VENV)/.installed

.PHONY: run test lint fmt venv bench clean gate-demo

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python scripts/demo.py

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/fanout tasks validate core
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `make bench`: every benchmark script (minutes; each script's docstring says what it measures).
# BASELINE=/path/to/another/.venv/bin measures that install too, in the same interleaved rounds.
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/bench_runtime.py --rounds 3 $(if $(BASELINE),--compare main=$(BASELINE)/python)
	$(BIN)/python benchmarks/bench_run.py --rounds 3 $(if $(BASELINE),--compare main=$(BASELINE)/fanout)
	$(BIN)/python benchmarks/bench_http.py --connections 64,1000 --rounds 3 $(if $(BASELINE),--compare main=$(BASELINE)/python)
	$(BIN)/python benchmarks/bench_peers.py --rounds 3 $(if $(BASELINE),--compare main=$(BASELINE)/fanout)
	$(BIN)/python benchmarks/bench_report.py

# CI gate demo (docs/gating.md): the worse prompt must FAIL with exit 1, the unchanged one PASS.
GATE_DEMO_OUT ?= runs/gate-demo
gate-demo: $(STAMP)
	$(BIN)/python examples/gate_demo.py --out $(GATE_DEMO_OUT)

clean:
	rm -rf $(VENV) runs build *.egg-info
