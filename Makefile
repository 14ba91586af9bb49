# Two commands do all the set-up on a fresh machine:
#   make demo   - create .venv, install the project, run baseline vs plan for a province, write results/demo/
#   make test   - create .venv, install the project with test extras, run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REPLICATES ?= 20
WORKERS ?= 2

.PHONY: demo test install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/grassroots run configs/baseline.yaml configs/plan.yaml \
		--replicates $(REPLICATES) --seed 2024 --workers $(WORKERS) --out results/demo
	cp results/demo/headline.png results/headline.png
	$(BIN)/grassroots report results/demo --format png,svg
	$(BIN)/grassroots report results/demo --format png,svg --lang zh
	cp results/demo/report/targets_2027.png results/targets_2027.png

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_model.py

clean:
	rm -rf $(VENV) results/demo .pytest_cache
