"""New tables of the monitor: order history and monitor runs."""
from django.db import migrations, models
import django.db.models.deletion
import django.utils.timezone
import uuid


class Migration(migrations.Migration):

    dependencies = [("orders", "0002_due_index")]

    operations = [
        migrations.CreateModel(
            name='OrderEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('from_status', models.TextField()),
                ('to_status', models.TextField()),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('source', models.TextField(choices=[('run', 'Run'), ('manual', 'Manual'), ('dispatch', 'Dispatch')])),
                ('message', models.TextField(blank=True, default='')),
                ('order', models.ForeignKey(db_column='order_id', db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='orders.order')),
            ],
            options={
                'db_table': 'order_status_events',
                'ordering': ['created_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='MonitorRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('started_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('finished_at', models.DateTimeField(blank=True, db_index=True, null=True)),
                ('succeeded', models.BooleanField(default=False)),
                ('host', models.TextField(blank=True, default='')),
                ('checked', models.IntegerField(default=0)),
                ('completed', models.IntegerField(default=0)),
                ('failed', models.IntegerField(default=0)),
                ('processing', models.IntegerField(default=0)),
                ('errors', models.IntegerField(default=0)),
                ('timed_out', models.IntegerField(default=0)),
                ('released', models.IntegerField(default=0)),
            ],
            options={
                'db_table': 'order_monitor_runs',
                'ordering': ['-started_at'],
            },
        ),
    ]
