"""Operators' view of orders: read-only, PINs masked, with a "check now" action (orders.admin_check).

Orders are written by the platform and by the monitor (with a history row per status change),
so the admin never saves an order: a full-row save from a form would also overwrite whatever
the monitor stored meanwhile. The one thing it changes is through check_single_order.

PINs appear only masked, for every user, in every column and text (a provider's message or an
error that quotes an answer included), and no URL lookup touches them: the list accepts only its
own filters (providers.admin_lookups), so no `?pin_code__startswith=` tells a PIN apart.
"""

from django.contrib import admin
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from orders.admin_check import CheckNowAdmin
from orders.formats import LINKED_FIELDS, format_age, format_time, integration_link, shorten, without_pins
from orders.models import ExternalStatus, Order, OrderEvent
from orders.queries import integrations_by_id, uuid_or_none
from providers.admin_lookups import GuardedChangeList, OfferedLookupsOnly
from providers.models import Integration
from providers.redaction import mask_pin


class IntegrationFilter(admin.SimpleListFilter):
    """ "providerId" by integration name; lists the (few) integrations, not every distinct value
    of the large orders table."""

    title = "integration"
    parameter_name = "integration"

    def lookups(self, request, model_admin):
        return [(str(i.pk), str(i)) for i in Integration.objects.order_by("name")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.of_integration(self.value())
        return queryset


class CheckErrorFilter(admin.SimpleListFilter):
    title = "has a check error"
    parameter_name = "check_error"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        no_error = Q(last_check_error__isnull=True) | Q(last_check_error="")
        if self.value() == "yes":
            return queryset.exclude(no_error)
        if self.value() == "no":
            return queryset.filter(no_error)
        return queryset


class OrderChangeList(GuardedChangeList):
    def get_results(self, request):
        super().get_results(request)
        # One query for the page's integration names instead of one per row.
        orders = list(self.result_list)  # evaluates the page once; the template reuses it
        integrations = integrations_by_id((o.integration_id for o in orders if o.integration_id), LINKED_FIELDS)
        for order in orders:
            order.listed_integration = integrations.get(order.integration_id)


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    fields = ("time", "from_status", "to_status", "source", "said")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("created_at", "id")

    @admin.display(description="time")
    def time(self, event):
        return format_time(event.created_at)

    @admin.display(description="message")
    def said(self, event):
        return without_pins(event.message, event.order.pin_code, event.order.pin_code_full) or "-"

    def get_queryset(self, request):
        # The order's PINs mask its events' messages: one query, not one per event.
        return super().get_queryset(request).select_related("order")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(OfferedLookupsOnly, CheckNowAdmin):
    list_display = (
        "id",
        "external_status",
        "status",
        "integration",
        "pin",
        "check_attempts",
        "next_check",
        "sent",
        "age",
        "last_error",
    )
    list_filter = ("external_status", IntegrationFilter, CheckErrorFilter, "tenant_id")
    never_looked_up = ("pin_code", "pin_code_full")
    search_fields = ("=provider_referans", "=external_order_id")
    search_help_text = "An exact order id, provider reference (provider_referans) or externalOrderId."
    ordering = ("-created_at",)
    # COUNT(*) over the whole table on every page is slow on a large product_orders.
    show_full_result_count = False
    # pin_code and pin_code_full are deliberately absent: only the masked PIN is shown, and the
    # texts a provider wrote are shown with the order's PIN masked in them.
    fields = (
        "id",
        "tenant_id",
        "status",
        "external_status",
        "integration",
        "provider_referans",
        "external_order_id",
        "pin",
        "hold",
        "provider_said",
        "last_reason",
        "check_error",
        "check_attempts",
        "next_check",
        "sent",
        "age",
        "last_sync",
        "completed",
        "created",
    )
    readonly_fields = fields
    inlines = (OrderEventInline,)
    actions = ("check_now",)

    def get_changelist(self, request, **kwargs):
        return OrderChangeList

    @admin.display(description="PIN")
    def pin(self, order):
        if order.pin_code_full and not order.pin_code:
            # Held: the PIN did not fit "pinCode" (docs/OPERATIONS.md, "Orders held for an operator").
            return f"{mask_pin(order.pin_code_full)} (held: too long for pinCode, in pin_code_full)"
        return mask_pin(order.pin_code)

    @admin.display(description="held for an operator")
    def hold(self, order):
        return self._masked(order, order.hold_reason) or "no"

    @admin.display(description="providerMessage")
    def provider_said(self, order):
        return self._masked(order, order.provider_message) or "-"

    @admin.display(description="lastMessage")
    def last_reason(self, order):
        return self._masked(order, order.last_message) or "-"

    @admin.display(description="last check error")
    def check_error(self, order):
        return self._masked(order, order.last_check_error) or "-"

    @staticmethod
    def _masked(order, text):
        return without_pins(text, order.pin_code, order.pin_code_full)

    @admin.display(description="integration", ordering="integration_id")
    def integration(self, order):
        if hasattr(order, "listed_integration"):
            found = order.listed_integration
        else:  # the order's own page: one order, one query
            found = integrations_by_id([order.integration_id], LINKED_FIELDS).get(order.integration_id)
        return integration_link(order.integration_id, found)

    @admin.display(description="next check", ordering="next_check_at")
    def next_check(self, order):
        if order.external_status == ExternalStatus.NOT_SENT:
            return "none (not sent)"
        if not order.is_active:
            return "none (final)"
        if not order.integration_id:
            return "none (no providerId)"
        if order.next_check_at is None:
            return "due now (never checked)"
        if order.next_check_at <= timezone.now():
            return f"{format_time(order.next_check_at)} (due)"
        return format_time(order.next_check_at)

    @admin.display(description="sent at", ordering="sent_at")
    def sent(self, order):
        return format_time(order.sent_at)

    @admin.display(description="age", ordering=Coalesce("sent_at", "created_at").desc())
    def age(self, order):
        """Since "sentAt" (else "createdAt"): what the 24 h rule counts."""
        return format_age(timezone.now() - order.age_counted_from)

    @admin.display(description="last check error")
    def last_error(self, order):
        return shorten(self._masked(order, order.last_check_error))

    @admin.display(description="last sync at", ordering="last_sync_at")
    def last_sync(self, order):
        return format_time(order.last_sync_at)

    @admin.display(description="completed at")
    def completed(self, order):
        return format_time(order.completed_at)

    @admin.display(description="created at")
    def created(self, order):
        return format_time(order.created_at)

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        order_id = uuid_or_none(search_term.strip())
        if order_id is not None:
            found = found | queryset.filter(pk=order_id)
        return found, may_have_duplicates

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
