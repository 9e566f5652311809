"""The benchmarks' throw-away PostgreSQL database: created at the start, dropped at the end.

The name must contain "bench": the database is dropped, so never one that is not a benchmark's.
"""

import logging
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import dj_database_url
import procs
import psycopg2


def admin_query(database_url, sql):
    """Run one statement on the server's maintenance database (autocommit: CREATE/DROP DATABASE)."""
    config = dj_database_url.parse(database_url)
    connection = psycopg2.connect(
        dbname="postgres",
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def database_name(database_url):
    name = dj_database_url.parse(database_url)["NAME"]
    if "bench" not in name:
        raise SystemExit(f"BENCH_DATABASE_URL must name a database with 'bench' in its name, got {name!r}")
    return name


def create_database(database_url):
    drop_database(database_url)
    admin_query(database_url, f'CREATE DATABASE "{database_name(database_url)}"')


def drop_database(database_url):
    admin_query(database_url, f'DROP DATABASE IF EXISTS "{database_name(database_url)}" WITH (FORCE)')


@contextmanager
def migrated_database(database_url, log_prefix):
    """A throw-away database with the project's migrations and Django set up on it, for one
    benchmark: yields the path of the commands' log. The database is dropped at the end."""
    create_database(database_url)
    log_path = Path(tempfile.mkdtemp(prefix=log_prefix)) / "commands.log"
    try:
        os.environ["DATABASE_URL"] = database_url
        procs.run_command(["migrate", "--verbosity", "0"], dict(os.environ), log_path)
        import django

        django.setup()
        # One INFO line per placed or stored order would bury the report; the commands keep their own logs.
        for name in ("orders", "dispatch"):
            logging.getLogger(name).setLevel(logging.WARNING)
        yield log_path
    finally:
        _close_connections()
        drop_database(database_url)


def _close_connections():
    """Django's connections, and the request budgets' shared one if a gate opened it."""
    if "django.db" not in sys.modules:
        return
    from django.db import connections

    limiter = sys.modules.get("budgets.limiter")
    if limiter is not None:
        limiter.SHARED.close()
    connections.close_all()
