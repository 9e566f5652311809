"""The platform's provider integrations (the existing table `integrations`)."""

import uuid

from django.db import models
from django.db.models.functions import Now
from django.utils import timezone


def provider_choices() -> list[tuple[str, str]]:
    """The provider families a client is registered for (providers.registry.CLIENTS). A callable,
    so that registering a family changes the choices without a migration."""
    from providers.registry import known_providers  # the registry imports the clients

    return [(name, name) for name in known_providers()]


class Integration(models.Model):
    # The live table's columns (tests/fixtures/live_schema.sql). The sizes bound the admin's
    # inputs; the live "baseUrl", "apiToken", kod and sifre are varchar without a length.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant_id = models.UUIDField(db_column="tenantId", null=True, blank=True)
    name = models.CharField(max_length=120)
    provider = models.CharField(max_length=20, choices=provider_choices, help_text="The provider family.")
    base_url = models.CharField(max_length=255, db_column="baseUrl", blank=True, default="")
    api_token = models.CharField(max_length=255, db_column="apiToken", null=True, blank=True)
    kod = models.CharField(max_length=64, null=True, blank=True)
    sifre = models.CharField(max_length=128, null=True, blank=True)
    enabled = models.BooleanField(null=True, default=True, db_default=True)
    created_at = models.DateTimeField(db_column="createdAt", default=timezone.now, db_default=Now())

    class Meta:
        db_table = "integrations"

    def __str__(self):
        return f"{self.name} ({self.provider})"

    @property
    def is_enabled(self) -> bool:
        """The platform turns an integration off only with false: NULL is enabled."""
        return self.enabled is not False
