"""python manage.py znet_sandbox: a fake znet server on 127.0.0.1 for tests, the demo and benchmarks."""

from django.core.management.base import BaseCommand, CommandError

from sandbox.completion_delays import MIXES
from sandbox.http import rate as _rate
from sandbox.znet import SandboxConfig, ZnetSandbox


class Command(BaseCommand):
    help = "Serve znet's pin_ekle.php, pin_kontrol.php and pin_listesi.php from memory."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--kod", default=SandboxConfig.kod, help="dealer code the sandbox accepts")
        parser.add_argument("--sifre", default=SandboxConfig.sifre, help="password the sandbox accepts")
        parser.add_argument(
            "--checks-until-final", type=int, default=2, help="the N-th status check gives the final state"
        )
        parser.add_argument("--fail-ratio", type=_rate, default=0.0, help="share of placed orders that end failed")
        parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
        parser.add_argument("--error-line-rate", type=_rate, default=0.0, help="share of checks answered 8|...")
        parser.add_argument("--http500-rate", type=_rate, default=0.0)
        parser.add_argument("--slow-rate", type=_rate, default=0.0)
        parser.add_argument("--slow-seconds", type=float, default=30.0)
        parser.add_argument("--malformed-rate", type=_rate, default=0.0)
        parser.add_argument("--empty-rate", type=_rate, default=0.0)
        parser.add_argument(
            "--first-place-delay",
            type=float,
            default=0.0,
            help="seconds the answer to an order's first place request is late (the order is taken at once)",
        )
        parser.add_argument(
            "--completion-delays",
            choices=sorted(MIXES),
            default=None,
            help="orders complete after a delay drawn from this mix of completion times "
            "(docs/PERFORMANCE.md), instead of after --checks-until-final checks",
        )
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, **options):
        if options["checks_until_final"] < 1:
            raise CommandError("--checks-until-final must be at least 1")
        if options["first_place_delay"] < 0:
            raise CommandError("--first-place-delay must not be negative")
        config = SandboxConfig(
            kod=options["kod"],
            sifre=options["sifre"],
            checks_until_final=options["checks_until_final"],
            fail_ratio=options["fail_ratio"],
            latency=options["latency_ms"] / 1000,
            error_line_rate=options["error_line_rate"],
            http500_rate=options["http500_rate"],
            slow_rate=options["slow_rate"],
            slow_seconds=options["slow_seconds"],
            malformed_rate=options["malformed_rate"],
            empty_rate=options["empty_rate"],
            first_place_delay=options["first_place_delay"],
            completion_delays=options["completion_delays"],
            seed=options["seed"],
        )
        ZnetSandbox(config).serve_from_command(self, options["host"], options["port"], "/servis/")
