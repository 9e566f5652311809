"""The admin as deployed: `check --deploy` on production settings, and gunicorn serving the
styled admin (WhiteNoise) over HTTPS behind a proxy, as docs/OPERATIONS.md runs it."""

import re
import secrets
import signal

import pytest
import requests

from tests.commands import free_port, run_command, start_gunicorn, wait_for_port

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]  # separate processes

PRODUCTION = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "monitor.example.com,127.0.0.1",
    "DJANGO_DEBUG": "",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}


def test_the_fake_providers_do_not_ship_in_production():
    code, stdout, stderr = run_command("help", "--commands", **PRODUCTION)
    assert code == 0, stderr
    commands = stdout.split()
    assert "check_pending_orders" in commands
    assert not {"znet_sandbox", "apstore_sandbox", "internal_sandbox"} & set(commands)

    code, stdout, stderr = run_command("help", "--commands", DJANGO_SETTINGS_MODULE="config.settings_dev")
    assert {"znet_sandbox", "apstore_sandbox", "internal_sandbox"} <= set(stdout.split())


def test_check_deploy_is_clean_with_production_settings():
    code, stdout, stderr = run_command("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert code == 0, stdout + stderr
    assert "System check identified no issues (1 silenced)." in stdout


def test_check_deploy_flags_the_public_development_key():
    code, stdout, stderr = run_command(
        "check", "--deploy", "--fail-level", "WARNING", **{**PRODUCTION, "DJANGO_SECRET_KEY": ""}
    )
    assert code != 0
    assert "security.W009" in stdout + stderr
    assert "SECRET_KEY" in stdout + stderr


@pytest.fixture
def gunicorn_admin(tmp_path):
    """gunicorn serving config.wsgi with production settings and collected static files."""
    env = {**PRODUCTION, "DJANGO_STATIC_ROOT": str(tmp_path / "static")}
    code, stdout, stderr = run_command("collectstatic", "--noinput", "-v", "0", **env)
    assert code == 0, stderr
    port = free_port()
    process = start_gunicorn(port, **env)
    try:
        assert wait_for_port(port, process), process.communicate(timeout=10)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def test_gunicorn_serves_the_styled_admin_over_https_only(gunicorn_admin):
    plain = requests.get(f"{gunicorn_admin}/admin/login/", allow_redirects=False, timeout=10)
    assert plain.status_code == 301
    assert plain.headers["Location"].startswith("https://127.0.0.1")

    https = {"X-Forwarded-Proto": "https"}
    page = requests.get(f"{gunicorn_admin}/admin/login/", headers=https, timeout=10)
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Secure" in page.headers["Set-Cookie"] and "csrftoken=" in page.headers["Set-Cookie"]
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
    assert "/static/admin/css/base.css" in stylesheets

    for path in stylesheets:
        css = requests.get(f"{gunicorn_admin}{path}", headers={**https, "Accept-Encoding": "gzip"}, timeout=10)
        assert css.status_code == 200, path
        assert css.headers["Content-Type"].startswith("text/css")
    assert css.headers["Content-Encoding"] == "gzip"


def test_gunicorn_refuses_to_serve_with_the_public_development_key(tmp_path):
    process = start_gunicorn(free_port(), **{**PRODUCTION, "DJANGO_SECRET_KEY": ""})
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "DJANGO_SECRET_KEY is not set: refusing to serve the admin with the public development key" in stderr
