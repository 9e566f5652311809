"""Order.integration_id reads "providerId" as text whatever the column's type (varchar, or uuid
in some copies of the live database). Model state only: the column is never touched."""
from django.db import migrations

import orders.models


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_live_column_sizes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    "order",
                    "integration_id",
                    orders.models.IntegrationIdField(blank=True, db_column="providerId", max_length=255, null=True),
                ),
            ],
        ),
    ]
