"""The HTTP session a provider client talks through: keep-alive connections to one integration,
only to the addresses providers.addresses allows."""

import requests

from providers.addresses import GuardedAdapter


def build_session(pool_size: int) -> requests.Session:
    """One session per integration, its connection pool as large as the requests the run sends
    to that integration at once (more would be opened and closed again for nothing)."""
    session = requests.Session()
    # Retries are ours (tenacity, providers.http), so urllib3 must not retry behind our back.
    adapter = GuardedAdapter(pool_connections=1, pool_maxsize=max(pool_size, 1), max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
