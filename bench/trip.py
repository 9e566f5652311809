"""The trip of one order through the code: `python bench/trip.py`.

Runs `check_pending_orders` (in this process, on a throw-away SQLite file) for one sent order that
the znet sandbox completes at its first check, with a profile hook on every thread. Prints:

- every project file in which a function ran (imports are not counted; migrations, the sandbox
  and this script left out): the whole trip, side steps included (request pacing, schedules,
  the metrics file, the Sentry check-in);
- the pairs of files that call each other (a call back up: a module calling into one that called
  it; a function handed down and called back counts as its own module's);
- the spine: the project files on the call stack when the order's row is written (the claim and
  the stored answer) and when its status request is sent.
"""

import inspect
import io
import os
import sys
import tempfile
import threading
import traceback
import uuid
from datetime import timedelta
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings_dev"
os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='trip-')}/trip.sqlite3"
# The sandbox listens on 127.0.0.1, an address integrations may not point at unless allowed.
os.environ.setdefault("MONITOR_ALLOWED_PROVIDER_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("LOG_LEVEL", "ERROR")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from orders.models import ExternalStatus, Order  # noqa: E402
from orders.platform_tables import Customer, LedgerUser, Tenant  # noqa: E402
from providers.models import Integration  # noqa: E402
from sandbox.znet import SandboxConfig, ZnetSandbox  # noqa: E402

LEFT_OUT = ("bench", "sandbox", "tests", ".venv")


def project_file(filename: str) -> str | None:
    if filename.startswith("<"):
        return None
    try:
        relative = Path(filename).resolve().relative_to(PROJECT)
    except ValueError:
        return None
    if relative.parts[0] in LEFT_OUT or "migrations" in relative.parts:
        return None
    return str(relative)


class Trace:
    """Files a function of the project ran in, and which file called which."""

    def __init__(self):
        self.files: set[str] = set()
        self.calls: set[tuple[str, str]] = set()

    def __call__(self, frame, event, arg):
        # Functions only: a module's or a class's body runs at import, not on the trip.
        if event != "call" or not frame.f_code.co_flags & inspect.CO_OPTIMIZED:
            return
        callee = project_file(frame.f_code.co_filename)
        if callee is None:
            return
        self.files.add(callee)
        caller = frame.f_back
        while caller is not None and project_file(caller.f_code.co_filename) is None:
            caller = caller.f_back
        if caller is not None and (source := project_file(caller.f_code.co_filename)) != callee:
            self.calls.add((source, callee))

    def back_up(self) -> list[tuple[str, str]]:
        return sorted((a, b) for a, b in self.calls if (b, a) in self.calls and a < b)


class Spine:
    """Project files on the stack at each write of an order's row and each provider request."""

    def __init__(self):
        self.files: set[str] = set()
        self._send = requests.Session.send

    def _note_stack(self) -> None:
        self.files.update(filter(None, (project_file(frame.filename) for frame in traceback.extract_stack())))

    def sql(self, execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("UPDATE") and "product_orders" in sql:
            self._note_stack()
        return execute(sql, params, many, context)

    def send(self, session, request, **kwargs):
        self._note_stack()
        return self._send(session, request, **kwargs)


def one_sent_order(sandbox) -> None:
    integration = Integration.objects.create(
        name="znet", provider="znet", base_url=sandbox.base_url, kod="trip-kod", sifre="trip-sifre-0815"
    )
    reference = uuid.uuid4().hex
    sandbox.add_order(reference, outcome="completed", checks_until_final=1)
    # A customer of the order's tenant: the approval's money is moved (the rates frozen).
    tenant = Tenant.objects.create(name="Trip shop", code="trip")
    customer = Customer.objects.create(tenant_id=tenant.pk, email="trip@example.test", username="trip")
    LedgerUser.objects.create(tenant_id=tenant.pk, username="trip", email="trip@example.test")
    Order.objects.create(
        tenant_id=tenant.pk,
        user_id=customer.pk,
        external_status=ExternalStatus.SENT,
        integration_id=str(integration.pk),
        provider_referans=reference,
        sent_at=timezone.now() - timedelta(minutes=5),
    )


def main():
    call_command("migrate", verbosity=0)
    sandbox = ZnetSandbox(SandboxConfig(kod="trip-kod", sifre="trip-sifre-0815", seed=1)).start()
    try:
        one_sent_order(sandbox)
        trace, spine = Trace(), Spine()
        # A plain function, so that the session binds as `self` and the spine sees every request.
        requests.Session.send = lambda session, request, **kwargs: spine.send(session, request, **kwargs)
        threading.setprofile(trace)
        sys.setprofile(trace)
        try:
            out = io.StringIO()
            with connection.execute_wrapper(spine.sql):
                call_command("check_pending_orders", stdout=out)
        finally:
            sys.setprofile(None)
            threading.setprofile(None)
            requests.Session.send = spine._send
    finally:
        sandbox.stop()
    print(out.getvalue().strip())
    print(f"== {len(trace.files)} project files on one order's trip")
    for name in sorted(trace.files):
        print(f"  {name}")
    pairs = trace.back_up()
    print(f"== {len(pairs)} pairs of files calling each other")
    for a, b in pairs:
        print(f"  {a} <-> {b}")
    print(f"== {len(spine.files)} project files on the spine (on the stack at the row's writes and the request)")
    for name in sorted(spine.files):
        print(f"  {name}")


if __name__ == "__main__":
    main()
