"""The order admin's "Check now" action: each selected order checked at its provider at once,
bounded per click (providers.admin_budget.ClickBudget) so a click ends within the web worker's
timeout, the outcome told to the operator with PINs masked."""

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename

from orders.claiming import OrderNotCheckable, RunConfig
from orders.formats import without_pins
from orders.models import EventSource
from orders.monitor import check_single_order
from orders.outcomes import Outcome
from providers.admin_budget import ClickBudget
from providers.outcomes import check_error_outcome
from providers.redaction import mask_pin


class CheckNowAdmin(admin.ModelAdmin):
    """The order admin's base with the action: `actions = ("check_now",)`."""

    def has_check_permission(self, request):
        """The "check now" action changes orders: it needs the change permission the form lacks."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")

    @admin.action(description="Check now at the provider", permissions=["check"])
    def check_now(self, request, queryset):
        """At most MONITOR_ADMIN_CHECK_LIMIT orders, none started after
        MONITOR_ADMIN_CHECK_SECONDS: a click must end within the web worker's timeout."""
        budget = ClickBudget.from_settings()
        selected = queryset.count()
        checked = 0
        for order_id in queryset.values_list("pk", flat=True)[: budget.limit]:
            seconds_left = budget.seconds_left()
            if seconds_left <= 0:
                break
            self._check_one(request, order_id, seconds_left)
            checked += 1
        level = messages.INFO if checked == selected else messages.WARNING
        self.message_user(request, budget.describe(checked, selected, "Checked", "orders"), level)

    def _check_one(self, request, order_id, seconds_left):
        try:
            order, outcome = check_single_order(
                order_id, RunConfig.from_settings(max_seconds=seconds_left), EventSource.MANUAL
            )
        except OrderNotCheckable as exc:
            self.message_user(request, str(exc), messages.WARNING)
            return
        self.log_change(request, order, f"Checked now: {outcome}")
        # ERROR, SKIPPED or released unchecked: the order still waits for an answer.
        level = messages.SUCCESS if outcome in _ANSWERED else messages.WARNING
        self.message_user(request, _describe(order, outcome), level)


_ANSWERED = (Outcome.COMPLETED, Outcome.FAILED, Outcome.TIMED_OUT, Outcome.PROCESSING)


def _describe(order, outcome):
    text = f"Order {order.pk}: {outcome} (externalStatus={order.external_status}"
    if order.pin_code:
        text += f", PIN {mask_pin(order.pin_code)}"
    # What went wrong in the monitor's words; the order's page has the whole last check error.
    if outcome == Outcome.ERROR and order.last_check_error:
        text += f", {check_error_outcome(order.last_check_error)}"
    if outcome == Outcome.HELD and order.last_check_error:
        text += f", {without_pins(order.last_check_error, order.pin_code, order.pin_code_full)}"
    return text + ")"
