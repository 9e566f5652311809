"""The live table's column sizes in the model, the rename of providerId's field, and two columns
the monitor owns (pin_code_full, permanent_error_since).

The sizes are model state everywhere. In the database they are applied only to columns still
declared `text` (a database built by 0001): a live table already has its own types (varchar,
sometimes uuid for "providerId"), which this migration never touches.
"""
from django.db import migrations, models

from config import live_schema

LIVE_SIZES = {
    "status": 50,
    "externalStatus": 30,
    "providerId": 255,
    "externalOrderId": 255,
    "pinCode": 120,
    "lastMessage": 250,
}


def narrow_text_columns(apps, schema_editor):
    live_schema.narrow_text_columns(schema_editor, "product_orders", LIVE_SIZES)


# The monitor's new columns. sql/upgrade_existing_database.sql may have added them already on a
# live database (migrate --fake-initial runs this migration for real), so they are added only
# when missing.
NEW_COLUMNS = {
    "pin_code_full": {"postgresql": "text", "sqlite": "text"},
    "permanent_error_since": {"postgresql": "timestamp with time zone", "sqlite": "datetime"},
}


def add_missing_columns(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        existing = {c.name for c in connection.introspection.get_table_description(cursor, "product_orders")}
    for column, types in NEW_COLUMNS.items():
        if column not in existing:
            schema_editor.execute(f"ALTER TABLE product_orders ADD COLUMN {column} {types[connection.vendor]} NULL")


def sized(max_length, **kwargs):
    return models.CharField(max_length=max_length, null=True, blank=True, **kwargs)


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_history_and_runs")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField("order", "provider_id", "integration_id"),
                migrations.AlterField(
                    "order",
                    "status",
                    models.CharField(
                        max_length=50,
                        choices=[("pending", "Pending"), ("approved", "Approved"), ("rejected", "Rejected")],
                        default="pending",
                    ),
                ),
                migrations.AlterField(
                    "order",
                    "external_status",
                    models.CharField(max_length=30, db_column="externalStatus", default="not_sent"),
                ),
                migrations.AlterField("order", "integration_id", sized(255, db_column="providerId")),
                migrations.AlterField("order", "external_order_id", sized(255, db_column="externalOrderId")),
                migrations.AlterField("order", "pin_code", sized(120, db_column="pinCode")),
                migrations.AlterField("order", "last_message", sized(250, db_column="lastMessage")),
            ],
            database_operations=[migrations.RunPython(narrow_text_columns, migrations.RunPython.noop)],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField("order", "pin_code_full", models.TextField(blank=True, null=True)),
                migrations.AddField("order", "permanent_error_since", models.DateTimeField(blank=True, null=True)),
            ],
            database_operations=[migrations.RunPython(add_missing_columns, migrations.RunPython.noop)],
        ),
    ]
