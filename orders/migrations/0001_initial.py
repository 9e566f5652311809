"""The existing table product_orders, with the columns the monitor adds (each nullable or with
a database default, for the old application's inserts)."""
from django.db import migrations, models
import django.db.models.deletion
import django.utils.timezone
import uuid


class Migration(migrations.Migration):

    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name='Order',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('tenant_id', models.UUIDField(blank=True, db_column='tenantId', null=True)),
                ('status', models.TextField(choices=[('pending', 'Pending'), ('approved', 'Approved'), ('rejected', 'Rejected')], default='pending')),
                ('external_status', models.TextField(db_column='externalStatus', default='not_sent')),
                ('provider_id', models.TextField(blank=True, db_column='providerId', null=True)),
                ('external_order_id', models.TextField(blank=True, db_column='externalOrderId', null=True)),
                ('pin_code', models.TextField(blank=True, db_column='pinCode', null=True)),
                ('provider_message', models.TextField(blank=True, db_column='providerMessage', null=True)),
                ('last_message', models.TextField(blank=True, db_column='lastMessage', null=True)),
                ('sent_at', models.DateTimeField(blank=True, db_column='sentAt', null=True)),
                ('last_sync_at', models.DateTimeField(blank=True, db_column='lastSyncAt', null=True)),
                ('completed_at', models.DateTimeField(blank=True, db_column='completedAt', null=True)),
                ('created_at', models.DateTimeField(db_column='createdAt', default=django.utils.timezone.now)),
                ('provider_referans', models.TextField(blank=True, null=True)),
                ('next_check_at', models.DateTimeField(blank=True, help_text='NULL means due now.', null=True)),
                ('check_attempts', models.IntegerField(db_default=0, default=0)),
                ('last_check_error', models.TextField(blank=True, null=True)),
            ],
            options={
                'db_table': 'product_orders',
            },
        ),
    ]
