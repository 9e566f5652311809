"""The one line a command prints when the database stops it: "database unavailable: ..." for a
connection problem only; "database error: ..." with what to do for a schema or data problem."""

import contextlib
import secrets
import sqlite3
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tests.commands import database_url, run_command, server_connection

pytestmark = pytest.mark.slow  # separate processes

# Each command with the arguments it needs to reach the database, and its exit code then.
COMMANDS = [
    (["check_pending_orders"], 1),
    (["dispatch_order", "--order-id", str(uuid.UUID(int=7)), "--product", "1"], 1),
    (["monitor_health"], 2),
]
IDS = ["check_pending_orders", "dispatch_order", "monitor_health"]

UPGRADE_HINT = "(run sql/upgrade_existing_database.sql, then python manage.py migrate; see docs/UPGRADING.md)"
MIGRATE_HINT = "(run python manage.py migrate; on the platform's existing database see docs/UPGRADING.md first)"


@pytest.fixture
def throwaway_database(django_db_setup, tmp_path):
    """An empty database of the test database's kind, named after it, dropped afterwards even
    when the test fails. Yields (DATABASE_URL, execute(sql) on it)."""
    test_name = connection.settings_dict["NAME"]
    suffix = f"_x_{secrets.token_hex(4)}"
    if connection.vendor != "postgresql":
        path = tmp_path / f"{Path(test_name).stem}{suffix}.sqlite3"

        def execute_sqlite(sql):
            with contextlib.closing(sqlite3.connect(path)) as db:
                db.execute(sql)
                db.commit()

        yield f"sqlite:///{path}", execute_sqlite
        return
    name = f"{test_name}{suffix}"
    with contextlib.closing(server_connection()) as server:
        server.cursor().execute(f'CREATE DATABASE "{name}"')
        try:

            def execute_postgres(sql):
                with contextlib.closing(server_connection(name)) as db:
                    db.cursor().execute(sql)

            yield database_url(name), execute_postgres
        finally:
            server.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("args,exit_code", COMMANDS, ids=IDS)
def test_unreachable_server_is_database_unavailable(args, exit_code):
    url = "postgres://monitor:Pw-Not-Shown-4417@127.0.0.1:1/platform"

    code, stdout, stderr = run_command(*args, DATABASE_URL=url)

    assert code == exit_code
    assert stdout == ""
    assert stderr.strip().splitlines() == [
        'CommandError: database unavailable: connection to server at "127.0.0.1", port 1 failed: Connection refused'
    ]
    assert "Pw-Not-Shown" not in stderr


@pytest.mark.parametrize("args,exit_code", COMMANDS, ids=IDS)
def test_missing_monitor_column_is_a_database_error_with_the_upgrade_hint(args, exit_code, throwaway_database):
    url, execute = throwaway_database
    code, _, stderr = run_command("migrate", DATABASE_URL=url)
    assert code == 0, stderr
    # The monitor's column missing, as on a live database the upgrade script has not reached.
    execute("DROP INDEX product_orders_monitor_due_idx")
    execute("ALTER TABLE product_orders DROP COLUMN next_check_at")

    code, stdout, stderr = run_command(*args, DATABASE_URL=url)

    assert code == exit_code
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("CommandError: database error: ")
    assert "next_check_at" in lines[0]
    assert lines[0].endswith(UPGRADE_HINT)


@pytest.mark.parametrize("args,exit_code", COMMANDS, ids=IDS)
def test_database_without_the_tables_is_a_database_error_with_the_migrate_hint(args, exit_code, throwaway_database):
    url, _ = throwaway_database

    code, _, stderr = run_command(*args, DATABASE_URL=url)

    assert code == exit_code
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("CommandError: database error: ")
    assert lines[0].endswith(MIGRATE_HINT)
