"""The commands' options: a value outside what an option takes stops the command before any work,
with one line naming the option and what it takes, and exit code 2."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import CommandError, call_command

from config.env import shown
from orders.models import ExternalStatus, Order
from tests.commands import run_command
from tests.config.test_env import HOSTILE_NUMBERS
from tests.factories import create_unsent_order

ORDER = str(uuid.UUID(int=7))
HOSTILE_IDS = ["12345", "", "inf", "\u0661\u0662", "3f2b8a52-0000-0000-0000-00000000000g"]
HOSTILE_TEXTS = ["x" * 201, "5123\r\n884", "\x1b[2J"]
LIMIT = "a whole number from 1 to 10000"
SECONDS = "a number from 1 to 3600"
UUID = "a UUID"
TEXT = "0 to 200 characters without control characters"
PRODUCT = "1 to 200 characters without control characters"
DIRECTORY = "a file in an existing directory"


def dispatch(*args, product="1", order=ORDER):
    return ["--order-id", order, "--product", product, *args]


def rows(command, option, valid, values, args=lambda option, value: [f"{option}={value}"]):
    """(command, its arguments, the option, what it takes, the value given) for each value."""
    return [(command, args(option, value), option, valid, value) for value in values]


ROWS = [
    *rows("check_pending_orders", "--limit", LIMIT, HOSTILE_NUMBERS + ["0", "1.5", "10001"]),
    *rows("check_pending_orders", "--max-seconds", SECONDS, HOSTILE_NUMBERS + ["0", "3600.5"]),
    *rows(
        "check_pending_orders",
        "--max-seconds",
        SECONDS,
        ["inf", "1e12", "99999999999"],
        lambda o, v: ["--loop", f"{o}={v}"],
    ),
    *rows("check_pending_orders", "--limit", LIMIT, ["1e12", "0"], lambda o, v: ["--loop", f"{o}={v}"]),
    *[
        row
        for option in ("--order-id", "--tenant-id", "--provider-id")
        for row in rows("check_pending_orders", option, UUID, HOSTILE_IDS)
    ],
    *rows("check_pending_orders", "--metrics-file", DIRECTORY, ["/no/such/directory/x.prom", ""]),
    *rows(
        "dispatch_order",
        "--quantity",
        "a whole number from 1 to 100",
        HOSTILE_NUMBERS + ["0", "101", "1.5"],
        lambda o, v: dispatch(f"{o}={v}"),
    ),
    *rows("dispatch_order", "--order-id", UUID, HOSTILE_IDS, lambda o, v: dispatch(order=v)),
    *rows("dispatch_order", "--integration-id", UUID, HOSTILE_IDS, lambda o, v: dispatch(f"{o}={v}")),
    *rows("dispatch_order", "--product", PRODUCT, ["", "p" * 201, "1\n2"], lambda o, v: dispatch(product=v)),
    *[
        row
        for option in ("--denomination", "--player-id", "--player-info")
        for row in rows("dispatch_order", option, TEXT, HOSTILE_TEXTS, lambda o, v: dispatch(f"{o}={v}"))
    ],
]


def expected_line(option, valid, value):
    return f"{option} must be {valid}, got {shown(value)}"


@pytest.mark.django_db
@pytest.mark.parametrize("command,args,option,valid,value", ROWS)
def test_a_hostile_option_is_refused_with_the_option_and_its_range(command, args, option, valid, value):
    with pytest.raises(CommandError) as raised:
        call_command(command, *args)
    assert (str(raised.value), raised.value.returncode) == (expected_line(option, valid, value), 2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "command,args",
    [
        ("check_pending_orders", ["--dry-run", "--limit=10000", "--max-seconds=3600"]),
        ("check_pending_orders", ["--dry-run", "--limit= 7 ", "--max-seconds=0.5e1"]),
        ("check_pending_orders", ["--dry-run", f"--tenant-id={{{ORDER.upper()}}}"]),
    ],
)
def test_values_inside_the_range_are_taken(command, args):
    call_command(command, *args)


def wrong_answers(rows):
    """The rows whose command process did not stop with exit 2, nothing on stdout and the one
    line on stderr (no traceback). Two processes at a time."""

    def run(row):
        command, args, option, valid, value = row
        code, stdout, stderr = run_command(command, *args)
        if (code, stdout, stderr.strip()) == (2, "", f"CommandError: {expected_line(option, valid, value)}"):
            return None
        return (command, args, code, stderr.strip()[-300:])

    with ThreadPoolExecutor(max_workers=2) as pool:
        return [answer for answer in pool.map(run, rows) if answer is not None]


# The options of the cases, and the first hostile value of every other option.
SAMPLE = [row for row in ROWS if row[2] == "--max-seconds" and row[4] in ("inf", "1e309", "1e12", "99999999999")]
SAMPLE += list({(row[0], row[2]): row for row in reversed(ROWS)}.values())


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(300)
def test_hostile_options_stop_their_command_before_any_claim_or_place(make_order, integration, sandbox):
    """Each sample row as its own process: exit 2, one line, no traceback; no order is leased or
    placed and no provider is asked."""
    due = [make_order() for _ in range(3)]
    unsent = create_unsent_order(integration)
    rows = [(c, [unsent.pk.hex if a == ORDER else a for a in args], o, v, x) for c, args, o, v, x in SAMPLE]
    before = {order.pk: order.next_check_at for order in due}

    assert wrong_answers(rows) == []
    assert {order.pk: order.next_check_at for order in Order.objects.filter(pk__in=before)} == before
    unsent.refresh_from_db()
    assert unsent.external_status == ExternalStatus.NOT_SENT
    assert sandbox.request_log == []
