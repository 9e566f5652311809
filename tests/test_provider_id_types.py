"""Some copies of the live database declare "providerId" uuid instead of varchar: runs, dry runs
and monitor_health work on both (nothing compares the column with '' or other non-uuid text)."""

import json
import uuid

import pytest

from tests.commands import run_command
from tests.factories import legacy_integration, legacy_sent_order, legacy_tenant
from tests.legacy_db import live_schema

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # separate processes


@pytest.fixture(params=["varchar", "uuid"])
def legacy_database(request, legacy_databases):
    """(cursor, DATABASE_URL, "providerId" type) of a copy of the live database, with the
    platform's own Django bookkeeping, upgraded as docs/UPGRADING.md says."""
    database = legacy_databases.create_upgraded(live_schema(request.param), platform_django=True)
    return database.connection.cursor(), database.url, request.param


def test_run_dry_run_and_health_work_whatever_the_type_of_provider_id(legacy_database, sandbox):
    cursor, url, provider_id_type = legacy_database
    znet = legacy_integration(cursor, sandbox.base_url, "znet main")
    disabled = legacy_integration(cursor, sandbox.base_url, "znet off", enabled=False)
    missing = str(uuid.uuid4())
    completing = []
    for _ in range(2):
        reference = uuid.uuid4().hex
        sandbox.add_order(reference, checks_until_final=1)
        completing.append(legacy_sent_order(cursor, znet, reference))
    failing = [legacy_sent_order(cursor, disabled), legacy_sent_order(cursor, missing)]
    never_checked = [legacy_sent_order(cursor, None)]
    if provider_id_type == "varchar":
        never_checked.append(legacy_sent_order(cursor, ""))

    code, stdout, stderr = run_command("check_pending_orders", "--dry-run", DATABASE_URL=url)
    assert code == 0, stderr
    assert "dry run: 4 orders due" in stdout
    assert f"would check {completing[0]} provider={znet} " in stdout
    assert not any(order_id in stdout for order_id in never_checked)

    code, stdout, stderr = run_command("check_pending_orders", DATABASE_URL=url)
    assert code == 0, stderr
    assert "checked=4 completed=2 failed=0 processing=0 errors=2" in stdout

    code, stdout, stderr = run_command("monitor_health", "--json", DATABASE_URL=url)
    assert code == 0, stdout + stderr
    report = json.loads(stdout)
    assert {(row["provider_id"], row["name"]) for row in report["active_by_provider"]} >= {
        (disabled, "znet off"),
        (missing, None),
    }
    failing_by_id = {row["integration_id"]: (row["name"], row["orders"]) for row in report["permanent_errors"]}
    assert failing_by_id == {disabled: ("znet off", 1), missing: (None, 1)}

    cursor.execute(
        "UPDATE product_orders SET permanent_error_since = NOW() - INTERVAL '1 hour' WHERE id = ANY(%s::uuid[])",
        (failing,),
    )
    code, stdout, stderr = run_command("monitor_health", DATABASE_URL=url)
    assert code == 1, stderr
    assert f"problem: znet off ({disabled}): 1 active order failing with a permanent error" in stdout
    assert f"problem: {missing} (no such integration): 1 active order failing" in stdout


def test_the_provider_and_tenant_filters_work_whatever_the_type_of_provider_id(legacy_database, sandbox):
    cursor, url, _ = legacy_database
    first = legacy_integration(cursor, sandbox.base_url, "znet first")
    second = legacy_integration(cursor, sandbox.base_url, "znet second")
    tenant = legacy_tenant(cursor, "other-shop")
    orders = {}
    for name, integration, of_tenant in (("first", first, tenant), ("second", second, None)):
        reference = uuid.uuid4().hex
        sandbox.add_order(reference, checks_until_final=1)
        orders[name] = legacy_sent_order(cursor, integration, reference, tenant_id=of_tenant)
    legacy_sent_order(cursor, None)

    code, stdout, stderr = run_command("check_pending_orders", "--dry-run", "--provider-id", second, DATABASE_URL=url)
    assert code == 0, stderr
    assert f"would check {orders['second']} provider={second} " in stdout
    assert "dry run: 1 orders due" in stdout

    code, stdout, stderr = run_command("check_pending_orders", "--tenant-id", tenant, DATABASE_URL=url)
    assert code == 0, stderr
    assert stdout.startswith("checked=1 completed=1 ")
    cursor.execute('SELECT id::text, "externalStatus" FROM product_orders WHERE "providerId" IS NOT NULL')
    assert dict(cursor.fetchall()) == {orders["first"]: "done", orders["second"]: "sent"}


def test_schedules_are_learned_and_a_loop_runs_whatever_the_type_of_provider_id(legacy_database, sandbox):
    cursor, url, _ = legacy_database
    znet = legacy_integration(cursor, sandbox.base_url, "znet main")
    cursor.execute(
        """INSERT INTO product_orders ("tenantId", status, "externalStatus", "providerId", "sentAt", "completedAt")
           SELECT %s, 'approved', 'completed', %s, NOW() - n * INTERVAL '1 minute' - INTERVAL '20 seconds',
                  NOW() - n * INTERVAL '1 minute' FROM generate_series(1, 60) n""",
        (legacy_tenant(cursor), znet),
    )
    reference = uuid.uuid4().hex
    sandbox.add_order(reference, checks_until_final=1)
    order = legacy_sent_order(cursor, znet, reference)

    code, stdout, stderr = run_command("check_pending_orders", "--loop", "--max-seconds", "1.5", DATABASE_URL=url)
    assert code == 0, stderr
    assert stdout.startswith("checked=1 completed=1"), stdout + stderr
    cursor.execute('SELECT "externalStatus" FROM product_orders WHERE id = %s', (order,))
    assert cursor.fetchone() == ("done",)

    code, stdout, stderr = run_command("monitor_health", "--json", DATABASE_URL=url)
    (schedule,) = [row for row in json.loads(stdout)["check_schedules"] if row["integration_id"] == znet]
    assert (schedule["name"], schedule["learned"], schedule["samples"]) == ("znet main", True, 61)
    assert schedule["first_check_seconds"] >= 20
