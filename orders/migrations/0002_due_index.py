"""The partial index that serves the due query: active orders by next_check_at, NULLs first.

Plain SQL with IF NOT EXISTS: PostgreSQL needs NULLS FIRST in the index to match the claim's
ORDER BY, which Django's Index cannot express portably, and sql/upgrade_existing_database.sql
may already have created it on a live database.
"""
from django.db import migrations

INDEX_NAME = "product_orders_due_idx"
ACTIVE = "('pending', 'sent', 'processing')"


def create_index(apps, schema_editor):
    # SQLite sorts NULLs first already and has no NULLS FIRST in index definitions.
    nulls_first = " NULLS FIRST" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON product_orders (next_check_at ASC{nulls_first}, id) '
        f'WHERE "externalStatus" IN {ACTIVE}'
    )


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
