"""check_pending_orders --tenant-id / --provider-id end to end: two tenants, two integrations on
the znet sandbox; only the matching orders are asked about (the sandbox's request log) and
changed (the database), with --dry-run and --limit too; a bad id stops the command before any
provider request."""

import io
import uuid
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from orders.models import ExternalStatus, Order
from providers.models import Integration
from tests.commands import run_command
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE

TENANT_1 = uuid.UUID("5b0c7a52-8f0e-4d8c-9a55-0e1f3c2d4b61")
TENANT_2 = uuid.UUID("d2f4e6a8-1b3c-4d5e-8f70-9a1b2c3d4e5f")


@pytest.fixture
def second_integration(db, sandbox):
    return Integration.objects.create(
        name="znet second account", provider="znet", base_url=sandbox.base_url, kod=SANDBOX_KOD, sifre=SANDBOX_SIFRE
    )


@pytest.fixture
def orders(make_order, integration, second_integration):
    """One due order for each tenant x integration, plus one without a tenant."""
    first, second = str(integration.pk), str(second_integration.pk)
    return {
        "t1-first": make_order(tenant_id=TENANT_1, integration_id=first),
        "t1-second": make_order(tenant_id=TENANT_1, integration_id=second),
        "t2-first": make_order(tenant_id=TENANT_2, integration_id=first),
        "t2-second": make_order(tenant_id=TENANT_2, integration_id=second),
        "no-tenant-first": make_order(tenant_id=None, integration_id=first),
    }


def check(*args):
    out = io.StringIO()
    call_command("check_pending_orders", *args, stdout=out)
    return out.getvalue()


def asked_about(sandbox):
    return {entry["referans"] for entry in sandbox.status_checks()}


def completed_names(orders):
    names = set()
    for name, order in orders.items():
        order.refresh_from_db()
        if order.external_status == ExternalStatus.DONE:
            names.add(name)
        else:
            assert (order.external_status, order.check_attempts, order.next_check_at) == (ExternalStatus.SENT, 0, None)
    return names


def filter_args(second_integration, tenant=None, provider=None):
    args = []
    if tenant:
        args += ["--tenant-id", str(tenant)]
    if provider:
        args += ["--provider-id", str(second_integration.pk)]
    return args


@pytest.mark.parametrize(
    ("tenant", "provider", "expected"),
    [
        (TENANT_1, False, {"t1-first", "t1-second"}),
        (None, True, {"t1-second", "t2-second"}),
        (TENANT_2, True, {"t2-second"}),
    ],
    ids=["tenant", "provider", "both"],
)
def test_a_filtered_run_checks_only_the_matching_orders(
    orders, sandbox, second_integration, tenant, provider, expected
):
    output = check(*filter_args(second_integration, tenant, provider))

    assert output.startswith(f"checked={len(expected)} completed={len(expected)} ")
    assert asked_about(sandbox) == {orders[name].provider_referans for name in expected}
    assert completed_names(orders) == expected
    # The orders left out are due as before: the next unfiltered run takes them.
    assert check().startswith(f"checked={len(orders) - len(expected)} ")


@pytest.mark.parametrize(
    ("tenant", "provider", "expected"),
    [(TENANT_2, False, {"t2-first", "t2-second"}), (None, True, {"t1-second", "t2-second"})],
    ids=["tenant", "provider"],
)
def test_a_filtered_dry_run_lists_only_the_matching_orders_and_asks_no_provider(
    orders, sandbox, second_integration, tenant, provider, expected
):
    output = check("--dry-run", *filter_args(second_integration, tenant, provider))

    listed = {line.split()[2] for line in output.splitlines() if line.startswith("would check")}
    assert listed == {str(orders[name].pk) for name in expected}
    last = output.splitlines()[-1]
    assert last.startswith(f"dry run: {len(expected)} orders due (") and last.endswith("), nothing changed")
    assert (f"tenant={tenant}" in last) == bool(tenant)
    assert (f"provider={second_integration.pk}" in last) == provider
    assert sandbox.request_log == []
    assert completed_names(orders) == set()


def test_the_limit_applies_to_the_filtered_orders_oldest_first(make_order, sandbox, integration):
    older = make_order(tenant_id=TENANT_1, sent_ago=timedelta(hours=3))
    old = make_order(tenant_id=TENANT_1, sent_ago=timedelta(hours=2))
    young = make_order(tenant_id=TENANT_1, sent_ago=timedelta(minutes=5))
    # Older than all of them, but another tenant's.
    other = make_order(tenant_id=TENANT_2, sent_ago=timedelta(hours=20))

    assert check("--tenant-id", str(TENANT_1), "--limit", "2").startswith("checked=2 completed=2 ")

    assert asked_about(sandbox) == {older.provider_referans, old.provider_referans}
    assert completed_names({"older": older, "old": old, "young": young, "other": other}) == {"older", "old"}


def test_the_provider_id_may_be_typed_in_any_uuid_spelling(orders, sandbox, second_integration):
    spelled = str(second_integration.pk).upper().replace("-", "")

    check("--provider-id", f"  {spelled} ")

    assert completed_names(orders) == {"t1-second", "t2-second"}


def test_an_unknown_tenant_checks_nothing(orders, sandbox):
    assert check("--tenant-id", str(uuid.uuid4())).startswith("checked=0 ")
    assert sandbox.request_log == []


@pytest.mark.parametrize("option", ["--tenant-id", "--provider-id"])
def test_order_id_does_not_go_with_a_filter(orders, sandbox, option):
    with pytest.raises(CommandError, match="use one or the other") as raised:
        check("--order-id", str(orders["t1-first"].pk), option, str(TENANT_1))
    assert raised.value.returncode == 2
    assert sandbox.request_log == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--tenant-id", "tenant-1"], "CommandError: --tenant-id must be a UUID, got 'tenant-1'"),
        (["--provider-id", "znet"], "CommandError: --provider-id must be a UUID, got 'znet'"),
        (["--provider-id", ""], "CommandError: --provider-id must be a UUID, got ''"),
        (
            ["--dry-run", "--tenant-id", "5b0c7a52-8f0e"],
            "CommandError: --tenant-id must be a UUID, got '5b0c7a52-8f0e'",
        ),
        (["--limit", "5", "--provider-id", "1234"], "CommandError: --provider-id must be a UUID, got '1234'"),
        # The bad id is reported even when another filter is right.
        (["--tenant-id", str(TENANT_1), "--provider-id", "x"], "CommandError: --provider-id must be a UUID, got 'x'"),
    ],
)
def test_a_bad_id_is_one_line_exit_2_and_no_provider_request(orders, sandbox, args, line):
    code, stdout, stderr = run_command("check_pending_orders", *args)

    assert (code, stderr.strip(), stdout) == (2, line, "")
    assert sandbox.request_log == []
    assert completed_names(orders) == set()


@pytest.mark.django_db(transaction=True)
def test_a_filtered_run_as_its_own_process(orders, sandbox, second_integration):
    code, stdout, stderr = run_command(
        "check_pending_orders", "--tenant-id", str(TENANT_1), "--provider-id", str(second_integration.pk)
    )

    assert code == 0, stderr
    assert stdout.startswith("checked=1 completed=1 ")
    assert asked_about(sandbox) == {orders["t1-second"].provider_referans}
    assert completed_names(orders) == {"t1-second"}
    assert Order.objects.filter(external_status=ExternalStatus.DONE).count() == 1
