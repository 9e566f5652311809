# Two commands for a fresh machine: `make demo` and `make test` (each sets up .venv first).
# The virtual environment is installed from requirements-dev.lock (exact versions and hashes),
# so every machine gets what CI tested. After editing requirements*.txt, run `make lock`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
LOCK_OPTIONS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links

.PHONY: demo test bench bench-latency bench-loop bench-webhooks bench-budgets bench-steady bench-steady-live lint lock

$(VENV)/.installed: requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
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
	$(PY) -m mypy

# PIN delay and requests per order on a simulated clock (docs/PERFORMANCE.md, "PIN latency").
bench-latency: $(VENV)/.installed
	$(PY) bench/latency.py

# check_pending_orders --loop on PostgreSQL: the PIN delay end to end against the znet sandbox
# (a minute), then the checks a minute of one loop with one integration (about 4 minutes).
bench-loop: $(VENV)/.installed
	$(PY) -u bench/loop_latency.py
	$(PY) -u bench/loop_throughput.py

# internal orders with webhooks on vs off: event-to-PIN delay and requests per order (2.5 minutes).
bench-webhooks: $(VENV)/.installed
	$(PY) -u bench/webhooks.py

# BENCH_BURST=2000 for the full burst (about 440 s: 5 / 1.1 a second).
bench-budgets: $(VENV)/.installed
	$(PY) -u bench/budgets.py

# Budget-bound schedules in a steady state on a simulated clock (docs/PERFORMANCE.md, a few seconds).
bench-steady: $(VENV)/.installed
	$(PY) bench/steady.py

# The same steady state live: a throw-away PostgreSQL, the znet sandbox, 3 loops (about 5.5 minutes).
bench-steady-live: $(VENV)/.installed
	$(PY) -u bench/steady_live.py

# requirements.lock: what production installs; requirements-dev.lock: that plus the test tools.
lock: $(VENV)/.installed
	CUSTOM_COMPILE_COMMAND="make lock" $(PY) -m piptools compile $(LOCK_OPTIONS) --output-file requirements.lock requirements.txt
	CUSTOM_COMPILE_COMMAND="make lock" $(PY) -m piptools compile $(LOCK_OPTIONS) --output-file requirements-dev.lock requirements-dev.txt
