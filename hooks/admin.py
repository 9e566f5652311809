"""Webhook settings in the admin, write-only like the integrations' credentials
(providers/admin.py): the secret is never rendered (pages give the credentials' summary,
providers.admin_lookups.secret_state: "not set" / "set, ends in 4f"), a blank field
keeps the stored one and is no change in the history, no lookup or search touches it, and the
history names the field, never its value."""

import re

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from hooks.models import SECRET_LENGTH, WebhookSetting
from providers.admin_lookups import OfferedLookupsOnly, secret_state
from providers.models import Integration

_SECRET = re.compile(rf"[0-9a-fA-F]{{{SECRET_LENGTH}}}")


def internal_integration_choices():
    integrations = Integration.objects.order_by("name").only("id", "name", "provider")
    return [(str(i.pk), i.name) for i in integrations if (i.provider or "").strip().lower() == "internal"]


class WebhookSettingForm(forms.ModelForm):
    integration_id = forms.TypedChoiceField(label="integration", coerce=str, choices=())
    secret = forms.CharField(
        label="secret",
        required=False,
        max_length=SECRET_LENGTH,
        widget=forms.PasswordInput(render_value=False),
    )

    class Meta:
        model = WebhookSetting
        fields = ("integration_id", "enabled", "secret")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Without an initial value the secret cannot reach a template, and a blank field does
        # not count as a change in the admin's history.
        self.initial.pop("secret", None)
        stored = self.instance.secret
        wanted = f"Not set: the {SECRET_LENGTH} hex characters of the account page."
        state = secret_state(stored).capitalize()
        self.fields["secret"].help_text = f"{state}; leave blank to keep it." if stored else wanted
        if "integration_id" in self.fields:
            field = self.fields["integration_id"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = internal_integration_choices()
            if "integration_id" in self.initial:
                self.initial["integration_id"] = str(self.initial["integration_id"])
            if not self.instance._state.adding:
                field.disabled = True

    def clean_secret(self):
        secret = (self.cleaned_data.get("secret") or "").strip()
        if not secret:
            return self.instance.secret
        if not _SECRET.fullmatch(secret):
            raise ValidationError(f"Enter the {SECRET_LENGTH} hex characters the account page shows.")
        return secret.lower()


@admin.register(WebhookSetting)
class WebhookSettingAdmin(OfferedLookupsOnly, admin.ModelAdmin):
    form = WebhookSettingForm
    list_display = ("integration", "enabled", "secret_state", "last_event")
    list_filter = ("enabled",)
    never_looked_up = ("secret",)
    readonly_fields = ("secret_state", "webhook_path", "last_event")
    fields = ("integration_id", "enabled", "secret", "secret_state", "webhook_path", "last_event")
    view_fields = ("integration_id", "enabled", "secret_state", "webhook_path", "last_event")

    def get_fields(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return self.view_fields
        return self.fields

    @admin.display(description="integration")
    def integration(self, setting):
        integration = Integration.objects.filter(pk=setting.integration_id).only("name").first()
        return integration.name if integration else f"{setting.integration_id} (no such integration)"

    @admin.display(description="secret")
    def secret_state(self, setting):
        return secret_state(setting.secret)

    @admin.display(description="webhook URL path")
    def webhook_path(self, setting):
        if setting.integration_id is None:
            return "-"
        return reverse("internal-webhook", args=[setting.integration_id])

    @admin.display(description="last event at", ordering="last_event_at")
    def last_event(self, setting):
        if setting.last_event_at is None:
            return "never"
        return timezone.localtime(setting.last_event_at).isoformat(sep=" ", timespec="seconds")
