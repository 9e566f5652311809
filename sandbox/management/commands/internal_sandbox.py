"""python manage.py internal_sandbox: a fake tenant of the platform (its client API, as the
`internal` provider family sees it) on 127.0.0.1 for tests and the demo. Its options besides
--host and --port are the fields of sandbox.internal.SandboxConfig."""

from sandbox.internal import InternalSandbox, SandboxConfig
from sandbox.management.sandbox_command import SandboxCommand


class Command(SandboxCommand):
    help = "Serve a tenant's client/api/check and newOrder endpoints from memory."
    sandbox_class = InternalSandbox
    config_class = SandboxConfig
    default_port = 8767
    endpoints_path = "/client/api/"
