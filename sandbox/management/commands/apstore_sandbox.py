"""python manage.py apstore_sandbox: a fake apstore (barakat) server on 127.0.0.1 for tests, the
demo and benchmarks."""

from django.core.management.base import BaseCommand, CommandError

from sandbox.apstore import ApstoreSandbox, SandboxConfig
from sandbox.http import rate as _rate


class Command(BaseCommand):
    help = "Serve apstore's client/api/check, newOrder and profile endpoints from memory."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8766)
        parser.add_argument("--token", default=SandboxConfig.token, help="api-token header value the sandbox accepts")
        parser.add_argument(
            "--checks-until-final", type=int, default=2, help="the N-th status check gives the final state"
        )
        parser.add_argument("--fail-ratio", type=_rate, default=0.0, help="share of placed orders that end rejected")
        parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
        parser.add_argument("--error-status-rate", type=_rate, default=0.0, help="share of checks answered non-OK")
        parser.add_argument("--http500-rate", type=_rate, default=0.0)
        parser.add_argument("--slow-rate", type=_rate, default=0.0)
        parser.add_argument("--slow-seconds", type=float, default=30.0)
        parser.add_argument("--malformed-rate", type=_rate, default=0.0)
        parser.add_argument("--omit-rate", type=_rate, default=0.0, help="share of orders left out of a check answer")
        parser.add_argument(
            "--first-place-delay",
            type=float,
            default=0.0,
            help="seconds the answer to an order's first place request is late (the order is taken at once)",
        )
        parser.add_argument("--balance", type=float, default=SandboxConfig.balance)
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, **options):
        if options["checks_until_final"] < 1:
            raise CommandError("--checks-until-final must be at least 1")
        if options["first_place_delay"] < 0:
            raise CommandError("--first-place-delay must not be negative")
        if not options["token"]:
            raise CommandError("--token must not be empty")
        config = SandboxConfig(
            token=options["token"],
            checks_until_final=options["checks_until_final"],
            fail_ratio=options["fail_ratio"],
            latency=options["latency_ms"] / 1000,
            error_status_rate=options["error_status_rate"],
            http500_rate=options["http500_rate"],
            slow_rate=options["slow_rate"],
            slow_seconds=options["slow_seconds"],
            malformed_rate=options["malformed_rate"],
            omit_rate=options["omit_rate"],
            balance=options["balance"],
            first_place_delay=options["first_place_delay"],
            seed=options["seed"],
        )
        ApstoreSandbox(config).serve_from_command(self, options["host"], options["port"], "/client/api/")
