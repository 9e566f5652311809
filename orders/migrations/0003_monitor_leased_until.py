"""product_orders.monitor_leased_until, the lease end of an order's last claim (hooks.leases:
an event may move an order no run holds).

Added as 0002 adds consecutive_errors (config.live_schema.ensure_platform_table): only where it
is missing, so the migration runs alike on a fresh database, on the live one after
sql/upgrade_existing_database.sql and on an older monitor installation. Going back leaves it.
"""

from django.db import migrations, models

from config import live_schema

MONITOR_LEASED_UNTIL = live_schema.PlatformTable(
    "product_orders", columns=(("monitor_leased_until", "timestamp with time zone"),)
)


def add_monitor_leased_until(apps, schema_editor):
    live_schema.ensure_platform_table(schema_editor, MONITOR_LEASED_UNTIL, apps.get_model("monitor_orders", "Order"))


class Migration(migrations.Migration):
    dependencies = [("monitor_orders", "0002_consecutive_errors")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="order",
                    name="monitor_leased_until",
                    field=models.DateTimeField(blank=True, null=True),
                ),
            ],
        ),
        migrations.RunPython(add_monitor_leased_until, migrations.RunPython.noop),
    ]
