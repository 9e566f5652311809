from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "budgets"
    # A label of the monitor's own, like monitor_orders / monitor_providers.
    label = "monitor_budgets"
    verbose_name = "Request budgets"
