#!/usr/bin/env bash
# The whole test suite on SQLite, then again on PostgreSQL when it is reachable.
# REQUIRE_POSTGRES=1 (CI) makes an unreachable PostgreSQL a failure instead of a notice.
# TEST_POSTGRES_URL picks the server (default postgres://postgres@127.0.0.1:5432/order_monitor;
# the tests run in a throw-away database named test_<name>). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
PG_URL=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/order_monitor}

echo "== tests on SQLite"
env -u DATABASE_URL "$PY" -m pytest "$@"

if "$PY" -c "import sys, psycopg2, dj_database_url as d; c = d.parse(sys.argv[1]); psycopg2.connect(dbname='postgres', user=c['USER'], host=c['HOST'], port=c['PORT']).close()" "$PG_URL" >/dev/null 2>&1; then
    echo "== tests on PostgreSQL ($PG_URL)"
    DATABASE_URL="$PG_URL" "$PY" -m pytest "$@"
elif [ "${REQUIRE_POSTGRES:-0}" = "1" ]; then
    echo "PostgreSQL at $PG_URL is not reachable, and REQUIRE_POSTGRES=1" >&2
    exit 1
else
    echo "== PostgreSQL at $PG_URL not reachable: PostgreSQL pass skipped (set TEST_POSTGRES_URL)"
fi
