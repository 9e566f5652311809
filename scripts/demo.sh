#!/usr/bin/env bash
# The monitor end to end on SQLite: migrate, start the znet sandbox, dispatch a few dozen orders
# to it, run check_pending_orders (the production command) until every order is final, show the
# result. Only the backoff and the try-later pause are shortened so the demo takes seconds
# instead of minutes. Beside them, a few orders of an `internal` integration whose sandbox posts
# a signed order-status event to the monitor's own webhook endpoint (config.wsgi under
# gunicorn) when each order becomes final: the event, not the schedule, gets them checked.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
ORDERS=${DEMO_ORDERS:-40}
INTERNAL_ORDERS=${DEMO_INTERNAL_ORDERS:-10}
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for_port() {
    for _ in $(seq 100); do
        (: >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "demo failed: nothing listens on 127.0.0.1:$1" >&2
    exit 1
}
PORT=${DEMO_SANDBOX_PORT:-$(free_port)}
INTERNAL_PORT=$(free_port)
WEB_PORT=$(free_port)

export DATABASE_URL="sqlite:///$PWD/demo.sqlite3"
export MONITOR_BACKOFF_BASE_SECONDS=0.5 MONITOR_BACKOFF_CAP_SECONDS=1 MONITOR_FIRST_CHECK_DELAY_SECONDS=0
export MONITOR_THROTTLE_PAUSE_SECONDS=1
export LOG_LEVEL=${LOG_LEVEL:-WARNING}
# Production's settings plus the sandbox app (manage.py znet_sandbox), which production does not ship.
export DJANGO_SETTINGS_MODULE=config.settings_dev
# The sandbox listens on 127.0.0.1, an address integrations may not point at unless allowed.
export MONITOR_ALLOWED_PROVIDER_HOSTS=127.0.0.1,localhost
rm -f demo.sqlite3

echo "== migrate (demo.sqlite3)"
"$PY" manage.py migrate --verbosity 0

echo "== znet sandbox on 127.0.0.1:$PORT (3 checks to a final state, 15% of orders fail, 5% error answers)"
SERVERS=()
WEB_LOG=$(mktemp)  # the web server's own log, shown only when the demo fails
stop_servers() {
    status=$?
    if [ ${#SERVERS[@]} -gt 0 ]; then
        kill "${SERVERS[@]}" 2>/dev/null || true
        wait "${SERVERS[@]}" 2>/dev/null || true
    fi
    [ "$status" -ne 0 ] && cat "$WEB_LOG" >&2
    rm -f "$WEB_LOG"
}
trap stop_servers EXIT
"$PY" manage.py znet_sandbox --port "$PORT" --checks-until-final 3 --fail-ratio 0.15 \
    --latency-ms 50 --error-line-rate 0.05 --seed 7 >/dev/null &
SERVERS+=($!)
wait_for_port "$PORT"

echo "== dispatch $ORDERS orders"
"$PY" scripts/demo_data.py seed --base-url "http://127.0.0.1:$PORT" --orders "$ORDERS"

echo "== internal sandbox on 127.0.0.1:$INTERNAL_PORT, its events to the monitor's webhook endpoint on 127.0.0.1:$WEB_PORT"
# The secret is made here and handed to both ends; it is never printed.
HOOK_SECRET=$("$PY" -c 'import secrets; print(secrets.token_hex(24))')
INTERNAL_ID=$(DEMO_WEBHOOK_SECRET=$HOOK_SECRET "$PY" scripts/demo_data.py add-internal --base-url "http://127.0.0.1:$INTERNAL_PORT")
# Production's settings over plain HTTP on 127.0.0.1: no redirect to HTTPS, a key of its own.
DJANGO_SECRET_KEY="demo-only-$HOOK_SECRET" DJANGO_SECURE_SSL_REDIRECT=0 \
    "$PY" -m gunicorn config.wsgi --bind "127.0.0.1:$WEB_PORT" --workers 1 >/dev/null 2>"$WEB_LOG" &
SERVERS+=($!)
"$PY" manage.py internal_sandbox --port "$INTERNAL_PORT" --completion-delays demo --fail-ratio 0.2 \
    --latency-ms 20 --seed 7 --webhook-secret "$HOOK_SECRET" \
    --webhook-url "http://127.0.0.1:$WEB_PORT/hooks/internal/$INTERNAL_ID/" >/dev/null &
SERVERS+=($!)
wait_for_port "$WEB_PORT"
wait_for_port "$INTERNAL_PORT"

echo "== dispatch $INTERNAL_ORDERS internal orders (final 2-8 s later; first scheduled check 100 s after sending)"
# Dispatched with production's schedule (the webhook's safety net: a check every 100 s), not the
# demo's one-second cap: within the demo only an order's event makes it due.
env -u MONITOR_BACKOFF_BASE_SECONDS -u MONITOR_BACKOFF_CAP_SECONDS -u MONITOR_FIRST_CHECK_DELAY_SECONDS \
    "$PY" scripts/demo_data.py seed-internal --orders "$INTERNAL_ORDERS"

echo "== check_pending_orders until every order is final"
for run in $(seq 30); do
    echo "-- run $run"
    "$PY" manage.py check_pending_orders
    [ "$("$PY" scripts/demo_data.py active)" = "0" ] && break
    sleep 1
done

echo "== result"
"$PY" scripts/demo_data.py report --internal-url "http://127.0.0.1:$INTERNAL_PORT"
if [ -f health/management/commands/monitor_health.py ]; then
    echo "== monitor_health"
    "$PY" manage.py monitor_health || true
fi
remaining=$("$PY" scripts/demo_data.py active)
if [ "$remaining" != "0" ]; then
    echo "demo failed: $remaining orders still active" >&2
    exit 1
fi
echo "demo finished: every order is final"
