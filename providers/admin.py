"""Integrations in the admin.

- No page shows a stored credential (kod, sifre, apiToken), for any user, in any mode: the edit
  form's inputs are write-only (a blank field keeps the stored value), and every page shows only
  whether each is set and, for values of 8 characters or more, its last 2 characters.
- The baseUrl is checked (providers.addresses); its user info or query, in rows written before
  that check, is never shown. Changing its host asks for the credentials again: they never go to
  a host other than the one they were saved for.
- Lists accept only their own filters' lookups (providers.admin_lookups).
- "Test connection" (an action, and a button on the integration's page) asks the provider one
  harmless question and shows the outcome, never the reply (providers.outcomes).
"""

import logging

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db.models import Field, Q
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone

from providers.addresses import base_url_problem, host_key, shown_url
from providers.admin_budget import ClickBudget
from providers.admin_lookups import OfferedLookupsOnly, secret_state
from providers.client_api import ClientApiClient
from providers.connection import probe_connection
from providers.models import Integration
from providers.outcomes import connection_outcome
from providers.registry import UnknownProvider, client_class_for, known_providers
from providers.znet.client import ZnetClient

log = logging.getLogger(__name__)

SECRET_FIELDS = ("kod", "sifre", "api_token")
SECRET_LABELS = {"kod": "kod", "sifre": "sifre", "api_token": "apiToken"}


def credentials_used(provider: str | None) -> tuple[str, ...]:
    """The credentials a provider family sends (every one, for a family without a client)."""
    try:
        client = client_class_for(provider)
    except UnknownProvider:
        return SECRET_FIELDS
    if issubclass(client, ZnetClient):
        return ("kod", "sifre")
    if issubclass(client, ClientApiClient):
        return ("api_token",)
    return SECRET_FIELDS


def usable_url(url: str) -> str:
    """A stored baseUrl without the user info, query and fragment the admin no longer accepts."""
    shown = shown_url(url)
    return shown.replace("***@", "", 1).removesuffix(" (query not shown)")


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
            state = secret_state(stored).capitalize()
            self.fields[name].help_text = f"{state}; leave blank to keep it." if stored else "Not set."
        # Rows the older application wrote may spell a family differently ("ZNET "): the
        # monitor reads those the same, so the choice shows them selected.
        stored_provider = (self.initial.get("provider") or "").strip().lower()
        if stored_provider in known_providers():
            self.initial["provider"] = stored_provider
        if "base_url" in self.fields:  # absent for users who may only view
            self.fields["base_url"].widget.attrs["class"] = "vURLField"
            stored_url = self.initial.get("base_url") or ""
            if usable_url(stored_url) != stored_url.strip():
                # User info or a query may hold a password: never put it into the page.
                self.initial["base_url"] = usable_url(stored_url)
                self.fields[
                    "base_url"
                ].help_text = "The stored baseUrl has a user name, password or query: saving drops them."

    def clean_base_url(self):
        base_url = (self.cleaned_data.get("base_url") or "").strip()
        if base_url:
            URLValidator(schemes=["http", "https"], message="Enter an http:// or https:// address.")(base_url)
            problem = base_url_problem(base_url)
            if problem:
                raise ValidationError(f"{problem}.")
        return base_url

    def clean(self):
        cleaned = super().clean() or {}
        entered = {name for name in SECRET_FIELDS if cleaned.get(name)}
        dropped: set[str] = set()
        if self._host_changes(cleaned):
            dropped = self._credentials_left_behind(cleaned, entered)
        for name in SECRET_FIELDS:
            if name not in entered:
                cleaned[name] = None if name in dropped else getattr(self.instance, name)
        return cleaned

    def _host_changes(self, cleaned) -> bool:
        if self.instance._state.adding or "base_url" not in cleaned:
            return False
        return host_key(cleaned["base_url"]) != host_key(self.instance.base_url)

    def _credentials_left_behind(self, cleaned, entered) -> set[str]:
        """On a new host, the stored credentials the family sends must be typed again (an error
        on each one missing); the others, not typed, are dropped. Returns those dropped."""
        old_host = host_key(self.instance.base_url)[0] or "no host"
        used = credentials_used(cleaned.get("provider") or self.instance.provider)
        stored = [name for name in SECRET_FIELDS if getattr(self.instance, name)]
        for name in stored:
            if name in used and name not in entered:
                self.add_error(
                    name,
                    f"The baseUrl's host changes: enter {SECRET_LABELS[name]} again "
                    f"(the stored one was saved for {old_host} and is sent nowhere else).",
                )
        return {name for name in stored if name not in used and name not in entered}


@admin.register(Integration)
class IntegrationAdmin(OfferedLookupsOnly, admin.ModelAdmin):
    form = IntegrationForm
    # Named here: the template's default place depends on the app label.
    change_form_template = "admin/monitor_providers/integration/change_form.html"
    list_display = ("name", "provider", "address", "enabled", "tenant_id")
    list_filter = ("provider", "enabled")
    never_looked_up = (*SECRET_FIELDS, "base_url")
    search_fields = ("name",)
    search_help_text = "A name, or a part of a baseUrl."
    readonly_fields = ("id", "created", "address", "credentials")
    fieldsets = (
        (None, {"fields": ("id", "name", "provider", "base_url", "tenant_id", "enabled", "created")}),
        (
            "Credentials",
            {
                "fields": ("credentials", *SECRET_FIELDS),
                "description": "Write-only: stored values are never shown, only whether each is set.",
            },
        ),
    )
    # For users who may only view: no input, and no stored value rendered as read-only text.
    view_fieldsets = (
        (None, {"fields": ("id", "name", "provider", "address", "tenant_id", "enabled", "created")}),
        ("Credentials", {"fields": ("credentials",), "description": "Stored values are never shown."}),
    )
    actions = ("test_connection",)

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return self.view_fieldsets
        return self.fieldsets

    @admin.display(description="created at")
    def created(self, integration):
        # To the second, as the order admin shows times.
        return timezone.localtime(integration.created_at).isoformat(sep=" ", timespec="seconds")

    @admin.display(description="baseUrl", ordering="base_url")
    def address(self, integration):
        return shown_url(integration.base_url)

    @admin.display(description="stored")
    def credentials(self, integration):
        return "; ".join(f"{SECRET_LABELS[name]}: {secret_state(getattr(integration, name))}" for name in SECRET_FIELDS)

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            # The baseUrl too, but never inside user info or a query a row may still carry.
            secret_parts = Q(base_url__contains="@") | Q(base_url__contains="?") | Q(base_url__contains="#")
            found = found | queryset.filter(base_url__icontains=term).exclude(secret_parts)
        return found, may_have_duplicates

    def get_urls(self):
        opts = self.opts
        # Before the admin's own URLs: "<id>/" alone is a catch-all there.
        own = [
            path(
                "<path:object_id>/test-connection/",
                self.admin_site.admin_view(self.test_connection_view),
                name=f"{opts.app_label}_{opts.model_name}_test_connection",
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
        opts = self.opts
        return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[integration.pk]))

    def _test_one(self, request, integration, budget):
        check = probe_connection(integration, max(budget.seconds_left(), 0.0))
        outcome = connection_outcome((integration.provider or "").strip().lower(), check)
        if outcome != check.summary:
            log.info("test connection of integration %s: %s", integration.pk, check.summary)
        self.log_change(request, integration, f"Tested connection: {outcome}")
        level = messages.SUCCESS if check.ok else messages.ERROR
        self.message_user(request, f"Test connection of {integration}: {outcome}", level)
