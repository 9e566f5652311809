"""The live `integrations` table's column sizes in the model, and `provider` a choice of the
registered provider families.

The sizes are model state everywhere. In the database they are applied only to columns still
declared `text` (a database built by 0001): a live table already has its own types, which this
migration never touches. The choices live in the model state only (providers.registry).
"""
import providers.models
from django.db import migrations, models

from config import live_schema

LIVE_SIZES = {
    "name": 120,
    "provider": 20,
    "baseUrl": 255,
    "apiToken": 255,
    "kod": 64,
    "sifre": 128,
}


def narrow_text_columns(apps, schema_editor):
    live_schema.narrow_text_columns(schema_editor, "integrations", LIVE_SIZES)


class Migration(migrations.Migration):
    dependencies = [("providers", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField("integration", "name", models.CharField(max_length=120)),
                migrations.AlterField(
                    "integration",
                    "provider",
                    models.CharField(
                        choices=providers.models.provider_choices, help_text="The provider family.", max_length=20
                    ),
                ),
                migrations.AlterField(
                    "integration",
                    "base_url",
                    models.CharField(blank=True, db_column="baseUrl", default="", max_length=255),
                ),
                migrations.AlterField(
                    "integration",
                    "api_token",
                    models.CharField(blank=True, db_column="apiToken", max_length=255, null=True),
                ),
                migrations.AlterField("integration", "kod", models.CharField(blank=True, max_length=64, null=True)),
                migrations.AlterField("integration", "sifre", models.CharField(blank=True, max_length=128, null=True)),
            ],
            database_operations=[migrations.RunPython(narrow_text_columns, migrations.RunPython.noop)],
        ),
    ]
