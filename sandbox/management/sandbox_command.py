"""What the sandbox management commands share: their options (--host, --port and the fields of
the sandbox's config, sandbox.options) and serving the sandbox until Ctrl-C."""

from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sandbox.http import SandboxServer
from sandbox.options import OptionError, add_config_options, config_from_options


class SandboxCommand(BaseCommand):
    """Subclasses name the sandbox, its config dataclass, the default port and the path its
    endpoints live under (printed with the address)."""

    sandbox_class: Callable[[Any], SandboxServer]  # built from the config
    config_class: type
    default_port: int
    endpoints_path: str

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=self.default_port)
        add_config_options(parser, self.config_class)

    def handle(self, *args, **options):
        try:
            config = config_from_options(self.config_class, options)
        except OptionError as exc:
            raise CommandError(str(exc)) from None
        self.serve(self.sandbox_class(config), options["host"], options["port"])

    def serve(self, sandbox: SandboxServer, host: str, port: int) -> None:
        """Serve until Ctrl-C. Prints the real address (--port 0 picks a free one), never the
        credentials the sandbox accepts."""
        try:
            sandbox.start(host, port)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from None
        self.stdout.write(f"{type(sandbox).__name__} on {sandbox.base_url}{self.endpoints_path} (Ctrl-C stops it)")
        self.stdout.flush()
        try:
            sandbox.wait()
        except KeyboardInterrupt:
            pass
        finally:
            sandbox.stop()
