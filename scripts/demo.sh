#!/usr/bin/env bash
# The monitor end to end on SQLite: migrate, start the znet sandbox, dispatch a few dozen orders
# to it, run check_pending_orders (the production command) until every order is final, show the
# result. Only the backoff is shortened so the demo takes seconds instead of minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
ORDERS=${DEMO_ORDERS:-40}
PORT=${DEMO_SANDBOX_PORT:-$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}

export DATABASE_URL="sqlite:///$PWD/demo.sqlite3"
export MONITOR_BACKOFF_BASE_SECONDS=0.5 MONITOR_BACKOFF_CAP_SECONDS=1 MONITOR_FIRST_CHECK_DELAY_SECONDS=0
export LOG_LEVEL=${LOG_LEVEL:-WARNING}
# Production's settings plus the sandbox app (manage.py znet_sandbox), which production does not ship.
export DJANGO_SETTINGS_MODULE=config.settings_dev
# The sandbox listens on 127.0.0.1, an address integrations may not point at unless allowed.
export MONITOR_ALLOWED_PROVIDER_HOSTS=127.0.0.1,localhost
rm -f demo.sqlite3

echo "== migrate (demo.sqlite3)"
"$PY" manage.py migrate --verbosity 0

echo "== znet sandbox on 127.0.0.1:$PORT (3 checks to a final state, 15% of orders fail, 5% error answers)"
"$PY" manage.py znet_sandbox --port "$PORT" --checks-until-final 3 --fail-ratio 0.15 \
    --latency-ms 50 --error-line-rate 0.05 --seed 7 >/dev/null &
SANDBOX_PID=$!
trap 'kill $SANDBOX_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done

echo "== dispatch $ORDERS orders"
"$PY" scripts/demo_data.py seed --base-url "http://127.0.0.1:$PORT" --orders "$ORDERS"

echo "== check_pending_orders until every order is final"
for run in $(seq 30); do
    echo "-- run $run"
    "$PY" manage.py check_pending_orders
    [ "$("$PY" scripts/demo_data.py active)" = "0" ] && break
    sleep 1
done

echo "== result"
"$PY" scripts/demo_data.py report
if [ -f orders/management/commands/monitor_health.py ]; then
    echo "== monitor_health"
    "$PY" manage.py monitor_health || true
fi
remaining=$("$PY" scripts/demo_data.py active)
if [ "$remaining" != "0" ]; then
    echo "demo failed: $remaining orders still active" >&2
    exit 1
fi
echo "demo finished: every order is final"
