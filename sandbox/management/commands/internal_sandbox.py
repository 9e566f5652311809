"""python manage.py internal_sandbox: a fake tenant of the platform (its client API, as the
`internal` provider family sees it) on 127.0.0.1 for tests and the demo."""

from django.core.management.base import BaseCommand, CommandError

from sandbox.http import rate as _rate
from sandbox.internal import InternalSandbox, SandboxConfig


class Command(BaseCommand):
    help = "Serve a tenant's client/api/check and newOrder endpoints from memory."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8767)
        parser.add_argument("--token", default=SandboxConfig.token, help="api-token header value the sandbox accepts")
        parser.add_argument(
            "--tenant-host",
            default=SandboxConfig.tenant_host,
            help="X-Tenant-Host the sandbox answers to: the host name of the integration's baseUrl",
        )
        parser.add_argument(
            "--checks-until-final", type=int, default=2, help="the N-th status check gives the final state"
        )
        parser.add_argument("--fail-ratio", type=_rate, default=0.0, help="share of placed orders that end rejected")
        parser.add_argument(
            "--approve-at-once", action="store_true", help="newOrder answers approved with the PIN at once"
        )
        parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, **options):
        if options["checks_until_final"] < 1:
            raise CommandError("--checks-until-final must be at least 1")
        if not options["token"]:
            raise CommandError("--token must not be empty")
        config = SandboxConfig(
            token=options["token"],
            tenant_host=options["tenant_host"],
            checks_until_final=options["checks_until_final"],
            fail_ratio=options["fail_ratio"],
            approve_at_once=options["approve_at_once"],
            latency=options["latency_ms"] / 1000,
            seed=options["seed"],
        )
        InternalSandbox(config).serve_from_command(self, options["host"], options["port"], "/client/api/")
