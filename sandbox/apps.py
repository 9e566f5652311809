from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """Fake provider servers on 127.0.0.1 for the demo, the tests and the benchmarks. Production
    never imports this app's modules; its management commands serve the fakes by hand."""

    name = "sandbox"
    verbose_name = "provider sandboxes"
