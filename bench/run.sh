#!/usr/bin/env bash
# The "Scale" benchmark of check_pending_orders (see docs/PERFORMANCE.md): `make bench`, or
#   PYTHON=/path/to/venv/bin/python bench/run.sh
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) unless BENCH_DATABASE_URL names
# another server; the database it names (default order_monitor_bench) is created and dropped.
# BENCH_LATENCY_MS sets the sandbox's answer time (default 100). Takes about 70 s on 2 cores.
# The output of the last complete run is kept in bench/results/latest.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
output=$(mktemp)
trap 'rm -f "$output"' EXIT
"$PY" -u bench/bench.py 2>&1 | tee "$output"
mkdir -p bench/results
cp "$output" bench/results/latest.txt
