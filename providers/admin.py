"""Integrations in the admin. The credentials (kod, sifre, apiToken) are write-only: no admin
page ever renders them, and a blank field on save keeps the stored value."""

from django import forms
from django.contrib import admin

from providers.models import Integration

SECRET_FIELDS = ("kod", "sifre", "api_token")


def secret_field(label):
    return forms.CharField(
        label=label,
        required=False,
        empty_value=None,
        widget=forms.PasswordInput(render_value=False),
    )


class IntegrationForm(forms.ModelForm):
    kod = secret_field("kod (dealer code)")
    sifre = secret_field("sifre (password)")
    api_token = secret_field("apiToken")

    class Meta:
        model = Integration
        fields = ("name", "provider", "base_url", "tenant_id", "enabled", *SECRET_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SECRET_FIELDS:
            # Without an initial value the secret cannot reach a template, and a blank field
            # does not count as a change in the admin's history.
            self.initial.pop(name, None)
            stored = getattr(self.instance, name)
            self.fields[name].help_text = "A value is stored; leave blank to keep it." if stored else "Not set."

    def clean(self):
        cleaned = super().clean()
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
    readonly_fields = ("id", "created_at")
    fieldsets = (
        (None, {"fields": ("id", "name", "provider", "base_url", "tenant_id", "enabled", "created_at")}),
        ("Credentials", {"fields": SECRET_FIELDS, "description": "Write-only: stored values are never shown."}),
    )
