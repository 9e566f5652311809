# Two commands for a fresh machine: `make demo` and `make test` (each sets up .venv first).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test bench bench-latency lint

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

demo: $(VENV)/.installed
	PYTHON=$(PY) scripts/demo.sh

test: $(VENV)/.installed
	PYTHON=$(PY) scripts/test.sh

bench: $(VENV)/.installed
	PYTHON=$(PY) bench/run.sh

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# PIN delay and requests per order on a simulated clock (docs/PERFORMANCE.md, "PIN latency").
bench-latency: $(VENV)/.installed
	$(PY) bench/latency.py
