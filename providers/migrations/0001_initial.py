"""The platform's table `integrations` (public), as the monitor's model reads it.

On PostgreSQL a fresh database gets the table with the live column types (those of the
platform's own migrations); on the live database nothing is changed. The app was labelled
`providers` before (migrations 0001-0002): the platform's own Django project uses that label, so
its migrations start again here. No operation is a plain CreateModel, so `migrate --fake-initial`
runs this migration like `migrate` does (it is idempotent), instead of skipping it.
"""

import django.db.models.functions.datetime
import django.utils.timezone
import uuid
from django.db import migrations, models

import providers.models
from config import live_schema

INTEGRATIONS = live_schema.PlatformTable(
    "integrations",
    columns=(
        ("id", "uuid NOT NULL"),
        ("name", "character varying(120) NOT NULL"),
        ("provider", "character varying(20) NOT NULL"),
        ("baseUrl", "character varying"),
        ("apiToken", "character varying"),
        ("kod", "character varying"),
        ("sifre", "character varying"),
        ("createdAt", "timestamp with time zone DEFAULT now() NOT NULL"),
        ("tenantId", "uuid"),
        ("enabled", "boolean DEFAULT true"),
    ),
    constraints=("CONSTRAINT integrations_pkey PRIMARY KEY (id)",),
)


def build_integrations(apps, schema_editor):
    live_schema.ensure_platform_table(schema_editor, INTEGRATIONS, apps.get_model("monitor_providers", "Integration"))


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Integration",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ("tenant_id", models.UUIDField(blank=True, db_column="tenantId", null=True)),
                        ("name", models.CharField(max_length=120)),
                        (
                            "provider",
                            models.CharField(
                                choices=providers.models.provider_choices,
                                help_text="The provider family.",
                                max_length=20,
                            ),
                        ),
                        ("base_url", models.CharField(blank=True, db_column="baseUrl", default="", max_length=255)),
                        ("api_token", models.CharField(blank=True, db_column="apiToken", max_length=255, null=True)),
                        ("kod", models.CharField(blank=True, max_length=64, null=True)),
                        ("sifre", models.CharField(blank=True, max_length=128, null=True)),
                        ("enabled", models.BooleanField(db_default=True, default=True, null=True)),
                        (
                            "created_at",
                            models.DateTimeField(
                                db_column="createdAt",
                                db_default=django.db.models.functions.datetime.Now(),
                                default=django.utils.timezone.now,
                            ),
                        ),
                    ],
                    options={"db_table": "integrations"},
                ),
            ],
        ),
        # The platform's table is never dropped: going back leaves it as it is.
        migrations.RunPython(build_integrations, migrations.RunPython.noop),
    ]
