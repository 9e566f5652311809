"""The monitor's own tables of the webhooks: an integration's webhook settings (the platform's
`integrations` table is not the monitor's to extend) and the nonces already seen."""

from django.db import models

# The other tenant's account page generates secrets of 48 hex characters.
SECRET_LENGTH = 48
# A nonce is a uuid (36 characters); a longer header is refused before it reaches the table.
NONCE_MAX_LENGTH = 64


class WebhookSetting(models.Model):
    """The webhook of one `internal` integration: the secret its events are signed with."""

    integration_id = models.UUIDField(primary_key=True, help_text="The integration (integrations.id).")
    secret = models.CharField(max_length=SECRET_LENGTH, blank=True, default="")
    enabled = models.BooleanField(default=True, help_text="Off: every event is refused (401).")
    last_event_at = models.DateTimeField(null=True, blank=True, help_text="When the last valid event arrived.")

    class Meta:
        db_table = "integration_webhooks"
        verbose_name = "integration webhook"

    def __str__(self):
        return f"webhook of {self.integration_id}"


class SeenNonce(models.Model):
    """A nonce of a verified event, kept longer than an event's timestamp is accepted: a second
    delivery with it is a replay. One table for every gunicorn worker and host."""

    nonce = models.CharField(max_length=NONCE_MAX_LENGTH, primary_key=True)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "webhook_nonces"
