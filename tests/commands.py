"""Running `manage.py` commands (and the admin under gunicorn) as processes of their own against
the test database, and connections to the database server outside Django."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests
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
        MONITOR_REQUEST_BUDGETS="0",  # as in-process tests (conftest): on where a test passes "1"
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


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port, workers=1, **env):
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        cwd=PROJECT_DIR,
        env=command_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_port(port, process, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


# The admin over plain HTTP on 127.0.0.1 (no HTTPS redirect, no Secure-only cookies), with a key
# of its own: config/wsgi.py refuses the public development key.
PLAIN_HTTP_ADMIN = {
    "DJANGO_SECRET_KEY": "test-only-key-" + "k" * 40,
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_SECURE_HSTS_SECONDS": "0",
}


@contextmanager
def served_admin(workers=1, **env):
    """The admin served by gunicorn (as in production, `workers` processes) against the test
    database or DATABASE_URL=... in `env`; yields its base URL."""
    port = free_port()
    process = start_gunicorn(port, workers, **{**PLAIN_HTTP_ADMIN, **env})
    try:
        assert wait_for_port(port, process), process.communicate(timeout=10)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def admin_session(base_url, username, password) -> requests.Session:
    """A session logged in to the admin through its login form."""
    session = requests.Session()
    form = session.get(f"{base_url}/admin/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token, form.text
    answer = session.post(
        f"{base_url}/admin/login/?next=/admin/",
        data={"csrfmiddlewaretoken": token[1], "username": username, "password": password, "next": "/admin/"},
        timeout=10,
    )
    assert answer.url == f"{base_url}/admin/", f"login as {username} failed: {answer.status_code} {answer.url}"
    return session
