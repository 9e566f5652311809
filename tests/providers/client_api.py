"""What the client tests of the apstore and internal families share (both speak the client API of
providers.client_api): integrations pointing at a sandbox, and our order references."""

import uuid

from providers.models import Integration
from sandbox.http import SandboxServer


def integration_for(provider: str, sandbox: SandboxServer, token: str, base_url: str | None = None) -> Integration:
    """An integration (not saved) of `provider` asking `sandbox`, or `base_url` when given."""
    base_url = sandbox.base_url if base_url is None else base_url
    return Integration(name=f"{provider} sandbox", provider=provider, base_url=base_url, api_token=token)


def our_reference() -> str:
    """What dispatch_order stores: the order's UUID as 32 hex digits."""
    return uuid.uuid4().hex
