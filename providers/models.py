"""The platform's provider integrations (the existing table `integrations`)."""

import uuid

from django.db import models
from django.db.models.functions import Now
from django.utils import timezone


class Integration(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = models.UUIDField(db_column="tenantId", null=True, blank=True)
    name = models.TextField()
    provider = models.TextField(help_text="Provider family: znet, apstore, barakat, ...")
    base_url = models.TextField(db_column="baseUrl", blank=True, default="")
    api_token = models.TextField(db_column="apiToken", null=True, blank=True)
    kod = models.TextField(null=True, blank=True)
    sifre = models.TextField(null=True, blank=True)
    enabled = models.BooleanField(default=True, db_default=True)
    created_at = models.DateTimeField(db_column="createdAt", default=timezone.now, db_default=Now())

    class Meta:
        db_table = "integrations"

    def __str__(self):
        return f"{self.name} ({self.provider})"
