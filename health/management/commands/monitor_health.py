"""python manage.py monitor_health [--json]: is the order monitor keeping up?

Exit status: 0 healthy, 1 degraded (see health.report), 2 the database cannot be read.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from health.report import build_report
from health.stuck import StuckLimits
from health.text import format_text
from orders.management.options import database_error_line

# Distinct from "degraded": the monitor's state is unknown, not known to be bad.
DATABASE_UNAVAILABLE = 2


class Command(BaseCommand):
    help = "Report the order monitor's backlog and last runs; exit 1 when it is degraded."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the report as one JSON object")

    def handle(self, *args, **options):
        try:
            report = build_report(StuckLimits.from_settings())
        except DatabaseError as exc:
            raise CommandError(database_error_line(exc), returncode=DATABASE_UNAVAILABLE) from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), sort_keys=True))
        else:
            self.stdout.write(format_text(report))
        if not report.healthy:
            self.stdout.flush()
            sys.exit(1)
