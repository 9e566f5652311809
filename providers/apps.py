from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "providers"
    # Not "providers": the platform's own Django project uses that label on the same database.
    label = "monitor_providers"
    verbose_name = "Provider integrations"
