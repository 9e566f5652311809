"""python manage.py apstore_sandbox: a fake apstore (barakat) server on 127.0.0.1 for tests, the
demo and benchmarks. Its options besides --host and --port are the fields of
sandbox.apstore.SandboxConfig."""

from sandbox.apstore import ApstoreSandbox, SandboxConfig
from sandbox.management.sandbox_command import SandboxCommand


class Command(SandboxCommand):
    help = "Serve apstore's client/api/check, newOrder and profile endpoints from memory."
    sandbox_class = ApstoreSandbox
    config_class = SandboxConfig
    default_port = 8766
    endpoints_path = "/client/api/"
