"""The admin's "test connection": one harmless request to an integration's provider."""

import logging
import time

from providers.base import ConnectionCheck
from providers.http import HttpLimits
from providers.models import Integration
from providers.redaction import redact
from providers.registry import UnknownProvider, client_class_for

log = logging.getLogger(__name__)


def probe_connection(integration: Integration, max_seconds: float) -> ConnectionCheck:
    """Ask the provider one question that changes nothing (znet: the catalog, apstore: the
    balance) within `max_seconds`, and summarise the answer without any secret. The admin's
    click comes here: the HTTP settings are read here, once."""
    try:
        client = client_class_for(integration.provider)(
            integration, session_pool_size=1, limits=HttpLimits.from_settings()
        )
    except UnknownProvider as exc:
        return ConnectionCheck(ok=False, summary=f"not configured: {exc}")
    try:
        return client.check_connection(deadline=time.monotonic() + max_seconds)
    except Exception as exc:  # a bug in one client must not become an error page
        log.exception("provider client failed")
        return ConnectionCheck(ok=False, summary=redact(f"failed: unexpected client error: {type(exc).__name__}"))
    finally:
        client.close()
