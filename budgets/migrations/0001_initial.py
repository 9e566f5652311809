"""The request budgets and their in-flight places: the monitor's own tables, in the monitor's
schema on PostgreSQL (config.live_schema.ensure_monitor_table, as hooks' 0001 makes its own)."""

from django.db import migrations, models

from config import live_schema

MONITOR_TABLES = ("RequestBudget", "InFlightSlot")


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RequestBudget",
                    fields=[
                        (
                            "integration_id",
                            models.UUIDField(
                                help_text="The integration (integrations.id).", primary_key=True, serialize=False
                            ),
                        ),
                        (
                            "requests_per_second",
                            models.FloatField(
                                help_text="Every monitor process together sends at most this many a second."
                            ),
                        ),
                        ("max_in_flight", models.PositiveSmallIntegerField(help_text="... and at most this many at once.")),
                        (
                            "requests_per_minute",
                            models.PositiveIntegerField(
                                blank=True,
                                null=True,
                                help_text="internal: the other tenant's per-minute limit of our API user; when set, "
                                "the second's budget is a sixtieth of it (never more than requests a second).",
                            ),
                        ),
                        (
                            "paused_until",
                            models.DateTimeField(
                                blank=True,
                                null=True,
                                help_text="No request before this time (the provider said 429 / try later).",
                            ),
                        ),
                        ("next_slot_at", models.DateTimeField(blank=True, editable=False, null=True)),
                    ],
                    options={"db_table": "integration_budgets", "verbose_name": "request budget"},
                ),
                migrations.CreateModel(
                    name="InFlightSlot",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("integration_id", models.UUIDField()),
                        ("number", models.PositiveSmallIntegerField()),
                        ("held_until", models.DateTimeField()),
                    ],
                    options={
                        "db_table": "budget_in_flight",
                        "constraints": [
                            models.UniqueConstraint(fields=("integration_id", "number"), name="budget_slot_unique")
                        ],
                    },
                ),
            ],
        ),
        live_schema.monitor_tables("monitor_budgets", *MONITOR_TABLES),
    ]
