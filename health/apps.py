from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"
    # No models: a label of the monitor's own, like its other apps', all the same.
    label = "monitor_health"
    verbose_name = "Health"
