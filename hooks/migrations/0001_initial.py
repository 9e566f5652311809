"""The webhook settings and seen nonces: the monitor's own tables, in the monitor's schema on
PostgreSQL (config.live_schema.ensure_monitor_table, as orders' 0001 makes its own tables), so
`migrate` is idempotent on a fresh, the live or an older database alike."""

from django.db import migrations, models

from config import live_schema

MONITOR_TABLES = ("WebhookSetting", "SeenNonce")


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WebhookSetting",
                    fields=[
                        (
                            "integration_id",
                            models.UUIDField(
                                help_text="The integration (integrations.id).", primary_key=True, serialize=False
                            ),
                        ),
                        ("secret", models.CharField(blank=True, default="", max_length=48)),
                        ("enabled", models.BooleanField(default=True, help_text="Off: every event is refused (401).")),
                        (
                            "last_event_at",
                            models.DateTimeField(blank=True, help_text="When the last valid event arrived.", null=True),
                        ),
                    ],
                    options={"db_table": "integration_webhooks", "verbose_name": "integration webhook"},
                ),
                migrations.CreateModel(
                    name="SeenNonce",
                    fields=[
                        ("nonce", models.CharField(max_length=64, primary_key=True, serialize=False)),
                        ("seen_at", models.DateTimeField(db_index=True)),
                    ],
                    options={"db_table": "webhook_nonces"},
                ),
            ],
        ),
        live_schema.monitor_tables("monitor_hooks", *MONITOR_TABLES),
    ]
