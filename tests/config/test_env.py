"""Settings from the environment: a bad value is one clear line and exit code 2."""

import pytest

from tests.commands import run_command

pytestmark = pytest.mark.slow  # separate processes


@pytest.mark.parametrize(
    "variable,value,message",
    [
        ("MONITOR_WORKERS", "many", "MONITOR_WORKERS must be a number, got 'many'"),
        ("MONITOR_WORKERS", "0", "MONITOR_WORKERS must be at least 1, got '0'"),
        ("MONITOR_BACKOFF_JITTER", "nan", "MONITOR_BACKOFF_JITTER must be a finite number, got 'nan'"),
        ("MONITOR_BACKOFF_JITTER", "2", "MONITOR_BACKOFF_JITTER must be at most 0.5, got '2'"),
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG must be true or false, got 'maybe'"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'loud'"),
        ("DATABASE_URL", "nonsense://x", "DATABASE_URL is not a database URL (postgres://user@host:5432/name)"),
    ],
)
def test_bad_setting_is_one_line_and_exit_code_2(variable, value, message):
    code, stdout, stderr = run_command("check_pending_orders", "--dry-run", **{variable: value})
    assert code == 2
    assert stderr.strip() == f"Configuration error: {message}"


@pytest.mark.parametrize("value,expected", [("", "False"), ("true", "True")])
def test_debug_is_off_unless_set(value, expected):
    code, stdout, _ = run_command(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG)", DJANGO_DEBUG=value
    )
    assert (code, stdout.strip().splitlines()[-1]) == (0, expected)
