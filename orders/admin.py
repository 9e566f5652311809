"""Operators' view of orders: read-only, PINs masked, with a "check now" action.

Orders are written by the platform and by the monitor (with a history row per status change),
so the admin never saves an order: a full-row save from a form would also overwrite whatever
the monitor stored meanwhile. The one thing it changes is through check_single_order.
"""

import uuid

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename

from orders.claiming import OrderNotCheckable
from orders.models import EventSource, Order, OrderEvent
from orders.monitor import check_single_order
from orders.transitions import Outcome
from providers.models import Integration
from providers.redaction import mask_pin

# Each check may take a provider's full timeout and retries; a web request should not wait for
# hundreds of them.
MAX_CHECK_NOW = 20


class ProviderFilter(admin.SimpleListFilter):
    """providerId by integration name; lists the (few) integrations, not every distinct value
    of the large orders table."""

    title = "provider"
    parameter_name = "provider_id"

    def lookups(self, request, model_admin):
        return [(str(i.pk), str(i)) for i in Integration.objects.order_by("name")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.of_integration(self.value())
        return queryset


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    fields = ("created_at", "from_status", "to_status", "source", "message")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("created_at", "id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "external_status",
        "status",
        "integration_id",
        "pin",
        "check_attempts",
        "next_check_at",
        "sent_at",
        "last_sync_at",
    )
    list_filter = ("external_status", ProviderFilter, "tenant_id")
    search_fields = ("=provider_referans", "=external_order_id")
    search_help_text = "An exact order id, provider reference (provider_referans) or externalOrderId."
    ordering = ("-created_at",)
    # COUNT(*) over the whole table on every page is slow on a large product_orders.
    show_full_result_count = False
    # pin_code is deliberately absent: only its masked form is shown.
    fields = (
        "id",
        "tenant_id",
        "status",
        "external_status",
        "integration_id",
        "provider_referans",
        "external_order_id",
        "pin",
        "provider_message",
        "last_message",
        "last_check_error",
        "check_attempts",
        "next_check_at",
        "sent_at",
        "last_sync_at",
        "completed_at",
        "created_at",
    )
    readonly_fields = fields
    inlines = (OrderEventInline,)
    actions = ("check_now",)

    @admin.display(description="PIN")
    def pin(self, order):
        if order.pin_code_full and not order.pin_code:
            # Held: the PIN did not fit "pinCode" (docs/OPERATIONS.md, "Orders held for an operator").
            return f"{mask_pin(order.pin_code_full)} (held: too long for pinCode, in pin_code_full)"
        return mask_pin(order.pin_code)

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        order_id = _as_uuid(search_term)
        if order_id is not None:
            found = found | queryset.filter(pk=order_id)
        return found, may_have_duplicates

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_check_permission(self, request):
        """The "check now" action changes orders: it needs the change permission the form lacks."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")

    @admin.action(description="Check now at the provider", permissions=["check"])
    def check_now(self, request, queryset):
        order_ids = list(queryset.values_list("pk", flat=True)[: MAX_CHECK_NOW + 1])
        if len(order_ids) > MAX_CHECK_NOW:
            self.message_user(request, f"Select at most {MAX_CHECK_NOW} orders to check at once.", messages.ERROR)
            return
        for order_id in order_ids:
            self._check_one(request, order_id)

    def _check_one(self, request, order_id):
        try:
            order, outcome = check_single_order(order_id, source=EventSource.MANUAL)
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
    if outcome in (Outcome.ERROR, Outcome.HELD) and order.last_check_error:
        text += f", {order.last_check_error}"
    return text + ")"


def _as_uuid(text):
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        return None
