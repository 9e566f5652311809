"""The monitor's own table of request budgets: per integration, how many requests a second and
how many at once every monitor process together may send it (the platform's `integrations`
table is not the monitor's to extend), plus the shared limiter's state (budgets.limiter)."""

from django.db import models


class RequestBudget(models.Model):
    """The budget of one integration. Without a row, budgets.budget gives its family's."""

    integration_id = models.UUIDField(primary_key=True, help_text="The integration (integrations.id).")
    requests_per_second = models.FloatField(
        help_text="Every monitor process together sends at most this many a second."
    )
    max_in_flight = models.PositiveSmallIntegerField(help_text="... and at most this many at once.")
    requests_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="internal: the other tenant's per-minute limit of our API user; when set, the second's budget "
        "is a sixtieth of it (never more than requests a second).",
    )
    paused_until = models.DateTimeField(
        null=True, blank=True, help_text="No request before this time (the provider said 429 / try later)."
    )
    # The limiter's state: when the next request may start (one UPDATE ... RETURNING moves it).
    next_slot_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "integration_budgets"
        verbose_name = "request budget"

    def __str__(self):
        return f"budget of {self.integration_id}"


class InFlightSlot(models.Model):
    """One of an integration's `max_in_flight` places, held by a request while it runs. A
    process killed mid-request frees it when `held_until` passes."""

    integration_id = models.UUIDField()
    number = models.PositiveSmallIntegerField()
    held_until = models.DateTimeField()

    class Meta:
        db_table = "budget_in_flight"
        constraints = [models.UniqueConstraint(fields=["integration_id", "number"], name="budget_slot_unique")]
