"""Running `manage.py` commands as processes of their own against the test database, and
connections to the database server outside Django."""

import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

PROJECT_DIR = Path(__file__).resolve().parent.parent


def database_url(name=None):
    """The test database (or database `name` on the same server) as a DATABASE_URL, for
    commands run as separate processes."""
    db = connection.settings_dict
    name = name or db["NAME"]
    if connection.vendor == "postgresql":
        user = db.get("USER") or "postgres"
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        return f"postgres://{user}@{host}:{port}/{name}"
    return f"sqlite:///{name}"


def server_connection(dbname="postgres"):
    """A PostgreSQL connection of the test's own, outside Django (autocommit): to terminate a
    run's connection, refuse connections, create and drop throw-away databases."""
    import psycopg2

    db = connection.settings_dict
    conn = psycopg2.connect(
        dbname=dbname,
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
    )
    conn.autocommit = True
    return conn


def command_env(**extra):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(),
        PROVIDER_CONNECT_TIMEOUT_SECONDS="1",
        PROVIDER_READ_TIMEOUT_SECONDS="1",
        PROVIDER_RETRY_WAIT_SECONDS="0.01",
        PYTHONUNBUFFERED="1",
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


def start_command(*args, **env):
    """Start `manage.py <args>` as its own process against the test database."""
    return subprocess.Popen(
        [sys.executable, str(PROJECT_DIR / "manage.py"), *args],
        cwd=PROJECT_DIR,
        env=command_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_command(*args, timeout=120, **env):
    process = start_command(*args, **env)
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout, stderr
