"""python manage.py znet_sandbox: a fake znet server on 127.0.0.1 for tests, the demo and benchmarks.
Its options besides --host and --port are the fields of sandbox.znet.SandboxConfig."""

from sandbox.management.sandbox_command import SandboxCommand
from sandbox.znet import SandboxConfig, ZnetSandbox


class Command(SandboxCommand):
    help = "Serve znet's pin_ekle.php, pin_kontrol.php and pin_listesi.php from memory."
    sandbox_class = ZnetSandbox
    config_class = SandboxConfig
    default_port = 8765
    endpoints_path = "/servis/"
