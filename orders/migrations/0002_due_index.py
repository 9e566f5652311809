"""The partial index that serves the due query: active orders by COALESCE(next_check_at, epoch), id.

Plain SQL with IF NOT EXISTS: sql/upgrade_existing_database.sql may already have created it on a
live database. The expression must be the one orders.models.due_at() sends, or PostgreSQL
cannot use the index to stop at the first order not yet due.
"""
from django.db import migrations

INDEX_NAME = "product_orders_due_idx"
ACTIVE = "('pending', 'sent', 'processing')"
EPOCH = {
    "postgresql": "'1970-01-01 00:00:00+00'::timestamp with time zone",
    "sqlite": "'1970-01-01 00:00:00'",  # how Django stores that datetime in SQLite
}


def create_index(apps, schema_editor):
    epoch = EPOCH[schema_editor.connection.vendor]
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON product_orders ((COALESCE(next_check_at, {epoch})), id) "
        f'WHERE "externalStatus" IN {ACTIVE}'
    )


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
