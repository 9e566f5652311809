"""Request budgets in the admin: an operator sets an integration's requests a second, in flight
and (internal) the other tenant's per-minute limit; the pause a provider asked for is shown and
can be cleared."""

from django import forms
from django.contrib import admin

from budgets.budget import budget_of_row, family_budget
from budgets.models import RequestBudget
from providers.models import Integration


class RequestBudgetForm(forms.ModelForm):
    integration_id = forms.TypedChoiceField(label="integration", coerce=str, choices=())

    class Meta:
        model = RequestBudget
        fields = ("integration_id", "requests_per_second", "max_in_flight", "requests_per_minute", "paused_until")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["integration_id"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(str(i.pk), i.name) for i in Integration.objects.order_by("name").only("id", "name")]
        if "integration_id" in self.initial:
            self.initial["integration_id"] = str(self.initial["integration_id"])
        if not self.instance._state.adding:
            field.disabled = True

    def clean_requests_per_second(self):
        value = self.cleaned_data["requests_per_second"]
        if not 0.01 <= value <= 1000:
            raise forms.ValidationError("Between 0.01 and 1000 requests a second.")
        return value

    def clean_max_in_flight(self):
        value = self.cleaned_data["max_in_flight"]
        if not 1 <= value <= 256:
            raise forms.ValidationError("Between 1 and 256 requests at once.")
        return value


@admin.register(RequestBudget)
class RequestBudgetAdmin(admin.ModelAdmin):
    form = RequestBudgetForm
    list_display = (
        "integration",
        "requests_per_second",
        "max_in_flight",
        "requests_per_minute",
        "in_effect",
        "paused_until",
    )
    fields = (
        "integration_id",
        "requests_per_second",
        "max_in_flight",
        "requests_per_minute",
        "paused_until",
        "default",
    )
    readonly_fields = ("default",)

    @admin.display(description="integration")
    def integration(self, budget):
        integration = Integration.objects.filter(pk=budget.integration_id).only("name").first()
        return integration.name if integration else f"{budget.integration_id} (no such integration)"

    @admin.display(description="in effect")
    def in_effect(self, budget):
        provider = Integration.objects.filter(pk=budget.integration_id).values_list("provider", flat=True).first()
        effective = budget_of_row(budget, provider)
        return f"{effective.per_second:g}/s, {effective.in_flight} in flight"

    @admin.display(description="family default")
    def default(self, budget):
        provider = Integration.objects.filter(pk=budget.integration_id).values_list("provider", flat=True).first()
        effective = family_budget(provider)
        return f"{effective.per_second:g}/s, {effective.in_flight} in flight"
