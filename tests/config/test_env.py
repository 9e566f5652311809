"""Settings from the environment: every setting has a range or a form, and a value outside it
stops every command before it does anything, with one line naming the setting and its range and
exit code 2."""

import runpy
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import get_commands, load_command_class
from django.core.management.base import BaseCommand
from hypothesis import given
from hypothesis import strategies as st

from config.env import SPECS, Range, range_of, show_number, shown
from dispatch.management.commands.dispatch_order import QUANTITY
from orders.models import MonitorRun, Order
from tests.commands import PROJECT_DIR, run_command
from tests.factories import create_sent_order

SETTINGS_FILE = PROJECT_DIR / "config" / "settings.py"

# Refused by every number setting: not finite, beyond any range, negative, not plain ASCII
# digits (underscores, Arabic-Indic, extended Arabic-Indic and full-width digits), not a number.
HOSTILE_NUMBERS = [
    "inf",
    "-inf",
    "Infinity",
    "nan",
    "1e309",
    "1e300",
    "1e12",
    "-1",
    "99999999999999999999",
    "1" * 5000,
    "1_000",
    "\u0661\u0662",
    "\u06f1\u06f2",
    "\uff11\uff12",
    "0x10",
    "1,5",
    "ten",
    "12 s",
]
# Text settings and values of the wrong form for each.
HOSTILE_TEXTS = {
    "MONITOR_ALLOWED_PROVIDER_HOSTS": [",", "http://127.0.0.1", "a host"],
    "MONITOR_DB_SCHEMA": ["public", "Order Monitor", "pg_temp", "drop;table"],
    "DJANGO_DEBUG": ["maybe", "2", "ja"],
    "DJANGO_SECURE_SSL_REDIRECT": ["sometimes"],
    "DJANGO_SECURE_COOKIES": ["secure"],
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": ["1.0"],
    "DJANGO_SECURE_HSTS_PRELOAD": ["nan"],
    "MONITOR_REQUEST_BUDGETS": ["half"],
    "DJANGO_ALLOWED_HOSTS": [",", "a.example.com,,b.example.com", "monitor.example.com:8000", "bad host", "http://x"],
    "DJANGO_SECURE_PROXY_SSL_HEADER": ["X Bad Header", "X_Forwarded_Proto", "X-Forwarded-Proto:", "-X", "X" * 65],
    "DJANGO_CSRF_TRUSTED_ORIGINS": ["monitor.example.com", "ftp://monitor.example.com", "https://x.example/admin", ","],
    "LOG_LEVEL": ["loud", "20"],
    "LOG_FORMAT": ["xml"],
    "SENTRY_ENVIRONMENT": ["prod/eu", "prod eu", "None", "e" * 65],
    "SENTRY_RELEASE": [".", "..", "a/b", "r" * 201],
    "SENTRY_CRONS_MONITOR": ["Check-Pending", "check pending", "-x", "m" * 51],
    "SENTRY_CRONS_SCHEDULE": [
        "not a cron",
        "* * * *",
        "60 * * * *",
        "*/0 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * * 13 *",
        "* * * * 8",
        "5-1 * * * *",
        "\u0661 * * * *",
        "@often",
    ],
}
# Any text is a valid value (or, for the DSN and the database, checked by what reads it, with
# tests of their own).
ANY_TEXT = {"DJANGO_SECRET_KEY", "DJANGO_STATIC_ROOT", "DATABASE_URL", "SENTRY_DSN"}


def hostile_values(name):
    spec = SPECS[name]
    if spec.range is None:
        return HOSTILE_TEXTS[name]
    values = list(HOSTILE_NUMBERS)
    if spec.range.minimum > 0:
        values.append("0")  # zero where it means nothing (no workers, no time)
    if spec.range.whole:
        values += ["1.5", "2e1"]
    return values


ROWS = [(name, value) for name in SPECS if name not in ANY_TEXT for value in hostile_values(name)]


def expected_line(name, value):
    return f"{name} must be {SPECS[name].valid}, got {shown(value)}"


def read_settings(monkeypatch, **environment):
    """config/settings.py run afresh with `environment`: {name: value} of its settings. The test
    run's own MONITOR_ALLOWED_PROVIDER_HOSTS (tests/conftest.py) is not part of it."""
    monkeypatch.delenv("MONITOR_ALLOWED_PROVIDER_HOSTS", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return {name: value for name, value in runpy.run_path(str(SETTINGS_FILE)).items() if name.isupper()}


def test_every_setting_read_is_covered():
    names = set(SPECS)
    assert names == set(HOSTILE_TEXTS) | ANY_TEXT | {name for name in names if SPECS[name].range}


@pytest.mark.parametrize("name,value", ROWS)
def test_a_hostile_value_is_refused_with_the_setting_and_its_range(monkeypatch, name, value):
    with pytest.raises(ImproperlyConfigured) as raised:
        read_settings(monkeypatch, **{name: value})
    assert str(raised.value) == expected_line(name, value)
    assert "\n" not in str(raised.value)


# DATABASE_URL is read by the database settings, with a test of its own.
@pytest.mark.parametrize("name", sorted(set(SPECS) - {"DATABASE_URL"}))
@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_value_is_the_default(monkeypatch, name, empty):
    unset = read_settings(monkeypatch)
    assert read_settings(monkeypatch, **{name: empty}) == unset


@pytest.mark.parametrize(
    "name,value,setting,expected",
    [
        ("MONITOR_WORKERS", "256", "MONITOR_WORKERS", 256),
        ("MONITOR_WORKERS", " +8 ", "MONITOR_WORKERS", 8),
        ("MONITOR_MAX_SECONDS", "3.6e3", "MONITOR_MAX_SECONDS", 3600.0),
        ("PROVIDER_CONNECT_TIMEOUT_SECONDS", ".1", "PROVIDER_CONNECT_TIMEOUT_SECONDS", 0.1),
        ("MONITOR_BACKOFF_BASE_SECONDS", "0", "MONITOR_BACKOFF_BASE_SECONDS", 0.0),
        ("DJANGO_ALLOWED_HOSTS", "monitor.example.com, .example.org,10.0.0.5,[::1]", "ALLOWED_HOSTS", None),
        ("DJANGO_CSRF_TRUSTED_ORIGINS", "https://*.example.com,http://10.0.0.5:8080", "CSRF_TRUSTED_ORIGINS", None),
        ("DJANGO_SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto", "SECURE_PROXY_SSL_HEADER", None),
        ("SENTRY_CRONS_SCHEDULE", "0,30 9-17/2 * jan-mar mon-fri", "SENTRY_CRONS_SCHEDULE", None),
        ("SENTRY_CRONS_SCHEDULE", "@hourly", "SENTRY_CRONS_SCHEDULE", None),
        ("SENTRY_RELEASE", "order-monitor 1.4 (3f2c1d0)", "SENTRY_RELEASE", None),
    ],
)
def test_values_inside_the_range_are_taken(monkeypatch, name, value, setting, expected):
    values = read_settings(monkeypatch, **{name: value})
    if expected is not None:
        assert values[setting] == expected
    assert setting in values


def test_the_proxy_header_becomes_the_wsgi_name(monkeypatch):
    values = read_settings(monkeypatch, DJANGO_SECURE_PROXY_SSL_HEADER="x-forwarded-proto")
    assert values["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


RANGES = st.builds(
    lambda low, span, whole: Range(low, low + span, whole),
    st.integers(0, 1000),
    st.integers(0, 10**6),
    st.booleans(),
)


@given(RANGES, st.text())
def test_parse_returns_a_number_in_the_range_or_says_the_range(number_range, text):
    try:
        value = number_range.parse(text)
    except ValueError as exc:
        assert str(exc) == number_range.describe()
    else:
        assert number_range.minimum <= value <= number_range.maximum
        assert text.strip().isascii()


@given(RANGES, st.data())
def test_every_number_of_the_range_is_taken_as_written(number_range, data):
    value = data.draw(st.integers(int(number_range.minimum), int(number_range.maximum)))
    assert number_range.parse(f" {value} ") == value


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_clamp_always_lands_in_the_range(value):
    clamped = Range(1, 3600).clamp(value)
    assert 1 <= clamped <= 3600


# -- docs/CONFIGURATION.md, "Ranges" ---------------------------------------------------------

COMMANDS = ["check_pending_orders", "dispatch_order", "monitor_health", "release_stuck_orders"]


def ranges_table():
    """{first cell without backticks: [default, range without backticks, why]} of the table."""
    text = (PROJECT_DIR / "docs" / "CONFIGURATION.md").read_text()
    section = text.split("\n## Ranges\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            name, default, valid, why = (cell.strip() for cell in line.strip().strip("|").split(" | "))
            rows[name.strip("`")] = [default, valid.replace("`", ""), why]
    return rows


def own_options(command):
    """The long options `command` adds to Django's own."""

    def long_options(parser):
        return {option for action in parser._actions for option in action.option_strings if option.startswith("--")}

    instance = load_command_class(get_commands()[command], command)
    return long_options(instance.create_parser("manage.py", command)) - long_options(
        BaseCommand().create_parser("manage.py", command)
    )


def test_the_ranges_table_has_every_setting_with_the_range_the_code_checks():
    rows = ranges_table()
    for name, spec in SPECS.items():
        default, valid, _ = rows[name]
        if name != "DATABASE_URL":  # read by the database settings, checked by dj-database-url
            assert valid == spec.valid, name
        if spec.range is not None:
            assert show_number(spec.default) in default, name


def test_the_ranges_table_has_every_option_and_names_nothing_else():
    rows = ranges_table()
    options = {f"{command} {option}" for command in COMMANDS for option in own_options(command)}
    assert set(rows) == set(SPECS) | options
    assert rows["check_pending_orders --limit"][1] == range_of("MONITOR_BATCH_LIMIT").describe()
    assert rows["check_pending_orders --max-seconds"][1] == range_of("MONITOR_MAX_SECONDS").describe()
    assert rows["dispatch_order --quantity"][1] == QUANTITY.describe()


# -- as the commands meet them: separate processes ------------------------------------------


def wrong_answers(rows):
    """The rows whose check_pending_orders process did not stop as it must: exit 2, nothing on
    stdout, one line on stderr naming the setting and its range, no traceback. Two processes at
    a time."""

    def run(row):
        name, value = row
        code, stdout, stderr = run_command("check_pending_orders", **{name: value})
        if (code, stdout, stderr.strip()) == (2, "", f"Configuration error: {expected_line(name, value)}"):
            return None
        return (name, value, code, stderr.strip()[-300:])

    with ThreadPoolExecutor(max_workers=2) as pool:
        return [answer for answer in pool.map(run, rows) if answer is not None]


@pytest.mark.slow
def test_each_setting_stops_the_command_with_one_line():
    first_of_each = list({name: (name, value) for name, value in reversed(ROWS)}.values())
    assert wrong_answers(first_of_each) == []


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(600)
def test_every_hostile_value_stops_the_command_before_any_claim():
    """Every row of the table as its own check_pending_orders process: each stops as it must,
    and nothing is leased (the due orders keep their next check) and no run recorded."""
    due = [create_sent_order("x", f"r{n}", timedelta(minutes=5)) for n in range(3)]
    before = {order.pk: order.next_check_at for order in due}

    assert wrong_answers(ROWS) == []
    assert {order.pk: order.next_check_at for order in Order.objects.all()} == before
    assert not MonitorRun.objects.exists()


@pytest.mark.slow
@pytest.mark.parametrize("command", [["dispatch_order", "--order-id", "x", "--product", "1"], ["monitor_health"]])
def test_the_other_commands_stop_the_same_way(command):
    code, stdout, stderr = run_command(*command, MONITOR_WORKERS="99999999999999999999")
    assert (code, stdout) == (2, "")
    assert stderr.strip() == (
        "Configuration error: MONITOR_WORKERS must be a whole number from 1 to 256, got '99999999999999999999'"
    )


@pytest.mark.slow
def test_database_url_that_is_not_one_is_named_not_repeated():
    code, stdout, stderr = run_command("check_pending_orders", "--dry-run", DATABASE_URL="nonsense://x")
    assert code == 2
    assert stderr.strip() == "Configuration error: DATABASE_URL is not a database URL (postgres://user@host:5432/name)"


@pytest.mark.parametrize("value,expected", [("", "False"), ("true", "True")])
@pytest.mark.slow
def test_debug_is_off_unless_set(value, expected):
    code, stdout, _ = run_command(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG)", DJANGO_DEBUG=value
    )
    assert (code, stdout.strip().splitlines()[-1]) == (0, expected)
