# Two commands do all the set-up on a fresh machine:
#   make demo   - create .venv, install the project, run baseline vs plan for a province, write results/demo/
#   make test   - create .venv, install the project with test extras, run the test suite
#   make test-py312 - the same on Python 3.12 with the newest mesa 3.x, in .venv312 (CI runs both)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REPLICATES ?= 20
WORKERS ?= 2

# Python 3.12 for test-py312: PYTHON312=..., else a python3.12 that runs, else pyenv's newest 3.12
ifeq ($(origin PYTHON312), undefined)
PYTHON312 := $(shell for p in python3.12 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 \
	2>/dev/null | sort -V | tail -n 1); do $$p -c 'import sys; assert sys.version_info[:2] == (3, 12)' \
	2>/dev/null && { command -v $$p; break; }; done)
endif
VENV312 := .venv312
# on 3.12, the tests that depend on mesa, numpy or Python versions (Mesa tools, SolaraViz, both engines, the
# determinism); CI keeps this short. The whole suite runs on 3.11 in `make test`. PYTEST312="-m 'not slow'"
# runs the suite but the slow tests, PYTEST312= all of it.
PYTEST312 ?= tests/test_mesa.py tests/test_solara.py tests/test_engines.py tests/test_determinism.py
STAMP312 := $(VENV312)/.installed

.PHONY: demo test test-py312 install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -c "from sim.model.rows import warm; warm('configs/county.yaml')"  # compile numba's cache once
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/grassroots run configs/baseline.yaml configs/plan.yaml \
		--replicates $(REPLICATES) --seed 2024 --workers $(WORKERS) --out results/demo
	cp results/demo/headline.png results/headline.png
	$(BIN)/grassroots report results/demo --format png,svg
	$(BIN)/grassroots report results/demo --format png,svg --lang zh
	cp results/demo/report/targets_2027.png results/targets_2027.png
	$(BIN)/python tests/browser.py --first-page results/report_first_page.png results/demo/report/report.html \
		results/demo/report_zh/report.html || echo "no headless Chromium: results/report_first_page.png not redrawn"

# the suite in two parts: the tests that only compute, on both cores (pytest-xdist, a test file per worker so a
# module's fixtures are built once); then the slow ones, which start processes and wait on them (signals, kill -9,
# the browser tests), alone, so that their timings are not another worker's
test: $(STAMP)
	GRASSROOTS_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadfile -m "not slow"  # 2 test processes: a thread each
	$(BIN)/python -m pytest -m slow

# a fresh .venv312 each time pyproject.toml changes, so pip picks the newest mesa 3.x and its viz stack
$(STAMP312): pyproject.toml
	@test -n "$(PYTHON312)" || { echo "make test-py312: no Python 3.12 found; set PYTHON312=/path/to/python3.12" >&2; exit 1; }
	rm -rf $(VENV312)
	$(PYTHON312) -m venv $(VENV312)
	$(VENV312)/bin/python -m pip install --quiet --upgrade pip
	$(VENV312)/bin/python -m pip install --quiet -e '.[test]'
	$(VENV312)/bin/python -c "from sim.model.rows import warm; warm('configs/county.yaml')"
	touch $(STAMP312)

test-py312: $(STAMP312)
	@$(VENV312)/bin/python -c "import sys, mesa, solara; print(f'Python {sys.version.split()[0]}, mesa {mesa.__version__}, solara {solara.__version__}')"
	$(VENV312)/bin/python -m pytest -p no:cacheprovider -n 2 --dist loadfile $(PYTEST312)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_model.py

clean:
	rm -rf $(VENV) $(VENV312) results/demo .pytest_cache
