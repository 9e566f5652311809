"""product_orders.consecutive_errors, the monitor's count of failed checks since the last answer
(the error backoff's exponent; check_attempts goes on counting every check).

Added as 0001 adds the monitor's columns (config.live_schema.ensure_platform_table): only where
it is missing, so the migration runs alike on a fresh database, on the live one after
sql/upgrade_existing_database.sql and on an older monitor installation. Going back leaves it.
"""

from django.db import migrations, models

from config import live_schema

CONSECUTIVE_ERRORS = live_schema.PlatformTable(
    "product_orders", columns=(("consecutive_errors", "integer DEFAULT 0 NOT NULL"),)
)


def add_consecutive_errors(apps, schema_editor):
    live_schema.ensure_platform_table(schema_editor, CONSECUTIVE_ERRORS, apps.get_model("monitor_orders", "Order"))


class Migration(migrations.Migration):
    dependencies = [("monitor_orders", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="order",
                    name="consecutive_errors",
                    field=models.IntegerField(db_default=0, default=0),
                ),
            ],
        ),
        migrations.RunPython(add_consecutive_errors, migrations.RunPython.noop),
    ]
