from django.apps import AppConfig


class HooksConfig(AppConfig):
    name = "hooks"
    # A label of the monitor's own, like monitor_orders / monitor_providers.
    label = "monitor_hooks"
    verbose_name = "Webhooks"
