"""Some copies of the live database declare "providerId" uuid instead of varchar: runs, dry runs
and monitor_health work on both (nothing compares the column with '' or other non-uuid text)."""

import json
import re
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from tests.conftest import PROJECT_DIR, SANDBOX_KOD, SANDBOX_SIFRE, run_command

pytestmark = pytest.mark.postgres

LEGACY_SCHEMA = Path(__file__).parent / "fixtures" / "legacy_schema.sql"
UPGRADE_SCRIPT = PROJECT_DIR / "sql" / "upgrade_existing_database.sql"


def legacy_schema(provider_id_type):
    """The older application's tables, with "providerId" declared as `provider_id_type`
    (varchar: the fixture as it is)."""
    schema = LEGACY_SCHEMA.read_text()
    if provider_id_type == "uuid":
        schema, count = re.subn(r'"providerId"\s+[^,\n]+,', '"providerId" uuid,', schema)
        assert count == 1, 'legacy_schema.sql no longer declares "providerId" on one line'
    return schema


def server_params():
    db = connection.settings_dict
    return {"user": db.get("USER") or "postgres", "host": db.get("HOST") or "127.0.0.1", "port": db.get("PORT") or 5432}


@pytest.fixture(params=["varchar", "uuid"])
def legacy_database(request, django_db_setup):
    """(cursor, DATABASE_URL, "providerId" type) of a legacy database upgraded as docs/UPGRADING.md
    says: the upgrade script, then migrate --fake-initial. Dropped afterwards, pass or fail."""
    name = f"{connection.settings_dict['NAME']}_uuid_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(dbname="postgres", **server_params())
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    db = None
    try:
        db = psycopg2.connect(dbname=name, **server_params())
        db.autocommit = True
        cursor = db.cursor()
        cursor.execute(legacy_schema(request.param))
        cursor.execute(UPGRADE_SCRIPT.read_text())
        params = server_params()
        url = f"postgres://{params['user']}@{params['host']}:{params['port']}/{name}"
        code, _, stderr = run_command("migrate", "--fake-initial", "-v", "0", DATABASE_URL=url)
        assert code == 0, stderr
        yield cursor, url, request.param
    finally:
        if db is not None:
            db.close()
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def add_integration(cursor, name, base_url, enabled=True):
    cursor.execute(
        """INSERT INTO integrations (name, provider, "baseUrl", kod, sifre, enabled)
           VALUES (%s, 'znet', %s, %s, %s, %s) RETURNING id""",
        (name, base_url, SANDBOX_KOD, SANDBOX_SIFRE, enabled),
    )
    return str(cursor.fetchone()[0])


def old_application_inserts_order(cursor, provider_id, reference="ref"):
    cursor.execute(
        """INSERT INTO product_orders (status, "externalStatus", "providerId", "externalOrderId", "sentAt")
           VALUES ('pending', 'sent', %s, %s, NOW() - INTERVAL '5 minutes') RETURNING id""",
        (provider_id, reference),
    )
    return str(cursor.fetchone()[0])


def test_run_dry_run_and_health_work_whatever_the_type_of_provider_id(legacy_database, sandbox):
    cursor, url, provider_id_type = legacy_database
    znet = add_integration(cursor, "znet main", sandbox.base_url)
    disabled = add_integration(cursor, "znet off", sandbox.base_url, enabled=False)
    missing = str(uuid.uuid4())
    completing = []
    for _ in range(2):
        reference = uuid.uuid4().hex
        sandbox.add_order(reference, checks_until_final=1)
        completing.append(old_application_inserts_order(cursor, znet, reference))
    failing = [old_application_inserts_order(cursor, disabled), old_application_inserts_order(cursor, missing)]
    never_checked = [old_application_inserts_order(cursor, None)]
    if provider_id_type == "varchar":
        never_checked.append(old_application_inserts_order(cursor, ""))

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


def test_schedules_are_learned_and_a_loop_runs_whatever_the_type_of_provider_id(legacy_database, sandbox):
    cursor, url, _ = legacy_database
    znet = add_integration(cursor, "znet main", sandbox.base_url)
    cursor.execute(
        """INSERT INTO product_orders (status, "externalStatus", "providerId", "sentAt", "completedAt")
           SELECT 'approved', 'completed', %s, NOW() - n * INTERVAL '1 minute' - INTERVAL '20 seconds',
                  NOW() - n * INTERVAL '1 minute' FROM generate_series(1, 60) n""",
        (znet,),
    )
    reference = uuid.uuid4().hex
    sandbox.add_order(reference, checks_until_final=1)
    order = old_application_inserts_order(cursor, znet, reference)

    code, stdout, stderr = run_command("check_pending_orders", "--loop", "--max-seconds", "1.5", DATABASE_URL=url)
    assert code == 0, stderr
    assert stdout.startswith("checked=1 completed=1"), stdout + stderr
    cursor.execute('SELECT "externalStatus" FROM product_orders WHERE id = %s', (order,))
    assert cursor.fetchone() == ("completed",)

    code, stdout, stderr = run_command("monitor_health", "--json", DATABASE_URL=url)
    (schedule,) = [row for row in json.loads(stdout)["check_schedules"] if row["integration_id"] == znet]
    assert (schedule["name"], schedule["learned"], schedule["samples"]) == ("znet main", True, 61)
    assert schedule["first_check_seconds"] >= 20
