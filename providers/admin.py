"""Integrations in the admin. The credentials (kod, sifre, apiToken) are write-only: no admin
page ever renders them, and a blank field on save keeps the stored value. "Test connection"
(an action, and a button on the integration's page) asks the provider one harmless question."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.validators import URLValidator
from django.db.models import Field
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone

from providers.admin_budget import ClickBudget
from providers.connection import probe_connection
from providers.models import Integration
from providers.registry import known_providers

SECRET_FIELDS = ("kod", "sifre", "api_token")


def column_size(model_field: str) -> int | None:
    field = Integration._meta.get_field(model_field)
    assert isinstance(field, Field)
    return field.max_length


def secret_field(label, model_field):
    return forms.CharField(
        label=label,
        required=False,
        empty_value=None,
        max_length=column_size(model_field),
        widget=forms.PasswordInput(render_value=False),
    )


class IntegrationForm(forms.ModelForm):
    kod = secret_field("kod (dealer code)", "kod")
    sifre = secret_field("sifre (password)", "sifre")
    api_token = secret_field("apiToken", "api_token")

    class Meta:
        model = Integration
        fields = ("name", "provider", "base_url", "tenant_id", "enabled", *SECRET_FIELDS)
        labels = {"base_url": "baseUrl"}
        help_texts = {"base_url": "The provider's address, e.g. https://api.provider.example"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SECRET_FIELDS:
            # Without an initial value the secret cannot reach a template, and a blank field
            # does not count as a change in the admin's history.
            self.initial.pop(name, None)
            stored = getattr(self.instance, name)
            self.fields[name].help_text = "A value is stored; leave blank to keep it." if stored else "Not set."
        # Rows the older application wrote may spell a family differently ("ZNET "): the
        # monitor reads those the same, so the choice shows them selected.
        stored_provider = (self.initial.get("provider") or "").strip().lower()
        if stored_provider in known_providers():
            self.initial["provider"] = stored_provider
        if "base_url" in self.fields:  # absent for users who may only view
            self.fields["base_url"].widget.attrs["class"] = "vURLField"

    def clean_base_url(self):
        base_url = (self.cleaned_data.get("base_url") or "").strip()
        if base_url:
            URLValidator(schemes=["http", "https"], message="Enter an http:// or https:// address.")(base_url)
        return base_url

    def clean(self):
        cleaned = super().clean() or {}
        for name in SECRET_FIELDS:
            if not cleaned.get(name):
                cleaned[name] = getattr(self.instance, name)
        return cleaned


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    form = IntegrationForm
    list_display = ("name", "provider", "base_url", "enabled", "tenant_id")
    list_filter = ("provider", "enabled")
    search_fields = ("name", "base_url")
    readonly_fields = ("id", "created")
    fieldsets = (
        (None, {"fields": ("id", "name", "provider", "base_url", "tenant_id", "enabled", "created")}),
        ("Credentials", {"fields": SECRET_FIELDS, "description": "Write-only: stored values are never shown."}),
    )
    actions = ("test_connection",)

    @admin.display(description="created at")
    def created(self, integration):
        # To the second, as the order admin shows times.
        return timezone.localtime(integration.created_at).isoformat(sep=" ", timespec="seconds")

    def get_urls(self):
        # Before the admin's own URLs: "<id>/" alone is a catch-all there.
        own = [
            path(
                "<path:object_id>/test-connection/",
                self.admin_site.admin_view(self.test_connection_view),
                name=f"{self.opts.app_label}_{self.opts.model_name}_test_connection",
            )
        ]
        return own + super().get_urls()

    @admin.action(description="Test connection (one harmless request)", permissions=["change"])
    def test_connection(self, request, queryset):
        budget = ClickBudget.from_settings()
        selected = queryset.count()
        tested = 0
        for integration in queryset.order_by("name")[: budget.limit]:
            if budget.seconds_left() <= 0:
                break
            self._test_one(request, integration, budget)
            tested += 1
        self.message_user(request, budget.describe(tested, selected, "Tested", "integrations"), messages.INFO)

    def test_connection_view(self, request, object_id):
        """The "Test connection" button of an integration's page (POST only)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        integration = self.get_object(request, unquote(object_id))
        if integration is None:
            raise Http404("no such integration")
        if not self.has_change_permission(request, integration):
            raise PermissionDenied
        self._test_one(request, integration, ClickBudget.from_settings())
        return redirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[integration.pk]))

    def _test_one(self, request, integration, budget):
        check = probe_connection(integration, max(budget.seconds_left(), 0.0))
        self.log_change(request, integration, f"Tested connection: {check.summary}")
        level = messages.SUCCESS if check.ok else messages.ERROR
        self.message_user(request, f"Test connection of {integration}: {check.summary}", level)
