# Two commands on a fresh machine: `make run` and `make test`. Both create the venv if needed.
# No target needs the venv activated: each calls .venv/bin/... itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MODELS := policy/oracle policy/sequential policy/greedy policy/redundant policy/lazy
STAMP := $(VENV)/.installed

.PHONY: run test test-docs lint fmt venv bench clean gate-demo reports view venv-stale bytecode docs-metrics

venv: $(STAMP)

# A .venv made by another Python (another version, or an interpreter removed since) is rebuilt,
# not reused: scripts/venv_check.py prints ok, absent or "stale: <why>".
VENV_STATE := $(shell $(PYTHON) scripts/venv_check.py $(VENV) 2>/dev/null)
ifneq ($(filter stale:%,$(VENV_STATE)),)
$(STAMP): venv-stale
endif

venv-stale:
	@echo "==> $(strip $(patsubst stale:%,%,$(VENV_STATE))); rebuilding it"
	rm -rf $(VENV)

$(STAMP): pyproject.toml
	@$(PYTHON) scripts/venv_check.py --require
	@test -x $(BIN)/python || { echo "==> creating $(VENV) with $$($(PYTHON) -c 'import sys; print(sys.executable, sys.version.split()[0])')"; $(PYTHON) -m venv $(VENV); }
	@echo "==> installing fanout and its dependencies into $(VENV) (the first time: 1 to 3 minutes)"
	$(BIN)/python -m pip install --disable-pip-version-check -q --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar on -e '.[test]'
	touch $(STAMP)
	@echo "==> $(VENV) is ready: $(BIN)/fanout, or '. $(BIN)/activate' to have fanout on your PATH"

# Byte-compile the sources (only what changed since; a tenth of a second when nothing did). An
# environment with PYTHONDONTWRITEBYTECODE set would otherwise compile every module again in every
# fanout process (the tests start hundreds; a start-up benchmark would measure the compiler).
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q -j 0 evals mock_tools > /dev/null

# The demo: runs/demo/ and its report runs/demo/report/ (nothing tracked is modified).
run: $(STAMP) bytecode
	$(BIN)/python scripts/demo.py

# The published leaderboard: reports/ and docs/leaderboard.png, reproducible byte for byte from the
# same sources (runs stamped at SOURCE_DATE_EPOCH: the time of the last commit that changed anything
# but the published files, so committing a regenerated report does not move its own stamp).
PUBLISHED_STAMP = git log -1 --format=%ct -- . ':(exclude)reports' ':(exclude)docs/leaderboard.png'
reports: $(STAMP)
	SOURCE_DATE_EPOCH=$${SOURCE_DATE_EPOCH:-$$($(PUBLISHED_STAMP) 2>/dev/null || echo 0)} $(BIN)/python scripts/demo.py --publish

# docs/metrics.md, the metric reference, from the registry (evals/metrics.py); tests fail while it is stale.
docs-metrics: $(STAMP)
	$(BIN)/python -m evals.metric_doc --write

# Open the newest report (runs/report-*, runs/demo/report, else reports/) in the browser.
view: $(STAMP)
	$(BIN)/fanout view

test: $(STAMP) bytecode
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/fanout tasks validate core
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider -m "not docs_slow"

# Every command block of README.md and docs/*.md, the slow ones too (tests/test_docs.py).
test-docs: $(STAMP)
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider tests/test_docs.py

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

bench: $(BENCH_STAMP) bytecode
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
