"""What the apstore (barakat) and internal clients share: both providers answer the same kind of
client API, with paths under client/api/, the integration's apiToken in the `api-token` header
(never in a URL) and JSON answers."""

from urllib.parse import quote

from providers.base import ProviderClient
from providers.redaction import register_secret

CHECK_PATH = "client/api/check"
PLACE_PATH = "client/api/newOrder/{product}/params"
WHAT_TO_CHECK = "baseUrl and apiToken"
# Added to a refused newOrder: the token, the URL or the package id is wrong.
PLACE_REFUSED_HINT = " (check the integration's baseUrl, apiToken and product)"


class ClientApiClient(ProviderClient):
    """Base of the clients of a client API: the token header, and no request without a token."""

    def __init__(self, integration, session_pool_size=8, *, limits):
        super().__init__(integration, session_pool_size, limits=limits)
        self.token = (integration.api_token or "").strip()
        register_secret(self.token)
        self.session.headers.update({"api-token": self.token, "Accept": "application/json"})

    def _configuration_problem(self):
        problem = super()._configuration_problem()
        if problem is None and not self.token:
            return "integration has no apiToken"
        return problem


def place_path(product: object) -> str:
    """The newOrder path of a package id (quoted: it is a path segment)."""
    return PLACE_PATH.format(product=quote(str(product).strip(), safe=""))
