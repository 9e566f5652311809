"""Optional error reports to Sentry (SENTRY_DSN unset = off), scrubbed like the logs.

Sentry sees more than the log lines do: the raw arguments of log calls, exception texts, and
breadcrumbs of every HTTP request, whose query string carries znet's `kod` and `sifre`. Every
event and breadcrumb goes through providers.redaction.scrub before it leaves the process. Local
variables of stack frames and request bodies (the integration form posts credentials) are never
collected. Each check_pending_orders run sends a Sentry Crons check-in, so a run that stops
coming is noticed.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import sentry_sdk
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from sentry_sdk.types import Breadcrumb, BreadcrumbHint, Event, Hint, MonitorConfig
from sentry_sdk.utils import BadDsn

from providers.redaction import scrub


def init_sentry(dsn: str, environment: str, release: str | None) -> None:
    """Start reporting to `dsn`. Called from config/settings.py only when SENTRY_DSN is set."""
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    try:
        sentry_sdk.init(
            dsn=dsn,
            environment=environment,
            release=release or None,
            send_default_pii=False,
            include_local_variables=False,  # frame locals hold PINs, answers and credentials
            max_request_body_size="never",  # the admin's integration form posts credentials
            before_send=scrub_event,
            before_breadcrumb=scrub_breadcrumb,
            integrations=[DjangoIntegration(), LoggingIntegration()],
        )
    except BadDsn:
        # The DSN holds the project key: name the problem, not the value.
        raise ImproperlyConfigured("SENTRY_DSN is not a Sentry DSN (https://key@host/project-id)") from None


def scrub_event(event: Event, hint: Hint) -> Event | None:
    """before_send: the whole event (message, exception values, breadcrumbs, request, extra,
    contexts) with credentials redacted and recognisable PINs masked."""
    return scrub(event)


def scrub_breadcrumb(crumb: Breadcrumb, hint: BreadcrumbHint) -> Breadcrumb | None:
    """before_breadcrumb: an HTTP breadcrumb's url and query (`kod=***&sifre=***`), a log
    breadcrumb's message and data."""
    return scrub(crumb)


@contextmanager
def cron_check_in() -> Iterator[None]:
    """One Sentry Crons check-in around a scheduled run (SENTRY_CRONS_MONITOR): in progress, then
    ok, or error when the run raised. Sentry creates the monitor from SENTRY_CRONS_SCHEDULE when
    it does not exist yet. Does nothing when Sentry is off."""
    if not sentry_sdk.get_client().is_active():
        yield
        return
    config: MonitorConfig = {
        "schedule": {"type": "crontab", "value": settings.SENTRY_CRONS_SCHEDULE},
        "timezone": "UTC",
        "checkin_margin": 5,  # minutes late before Sentry calls the run missed
        "max_runtime": 10,  # minutes in progress before Sentry calls the run failed
    }
    with sentry_sdk.monitor(monitor_slug=settings.SENTRY_CRONS_MONITOR, monitor_config=config):
        yield
