from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "dispatch"
    # No models: a label of the monitor's own, like its other apps', all the same.
    label = "monitor_dispatch"
    verbose_name = "Dispatch"
