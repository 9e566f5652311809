"""apstore's (barakat's) HTTP client: batch status checks (client/api/check), order placing
(client/api/newOrder) and the balance (client/api/profile). The token travels in the
`api-token` header, never in a URL."""

from dataclasses import replace
from urllib.parse import quote

from providers.apstore.parser import is_uuid_reference, parse_balance, parse_batch_status, parse_place_answer
from providers.base import ConnectionCheck, PlaceResult, PlaceState, ProviderClient, configuration_error
from providers.http import (
    REFUSED_STATUSES,
    ProviderHTTPError,
    check_result_of_http_error,
    connection_check_of_http_error,
    http_get,
    http_get_once,
    place_result_of_http_error,
)
from providers.redaction import mask_secrets, register_secret

CHECK_PATH = "client/api/check"
PLACE_PATH = "client/api/newOrder/{product}/params"
PROFILE_PATH = "client/api/profile"


class ApstoreClient(ProviderClient):
    batch_size = 50

    def __init__(self, integration, session_pool_size=8):
        super().__init__(integration, session_pool_size)
        self.token = (integration.api_token or "").strip()
        register_secret(self.token)
        self.session.headers.update({"api-token": self.token, "Accept": "application/json"})

    def check_statuses(self, references, deadline=None):
        problem = self._configuration_problem()
        if problem:
            return dict.fromkeys(references, configuration_error(problem))
        # Our own UUIDs and the provider's order ids cannot share a request: uuid=1 says which.
        uuids = [reference for reference in references if is_uuid_reference(reference)]
        order_ids = [reference for reference in references if not is_uuid_reference(reference)]
        results = {}
        for group, by_uuid in ((uuids, True), (order_ids, False)):
            if group:
                results.update(self._check_group(group, by_uuid, deadline))
        return {reference: results[reference] for reference in references}

    def place_order(self, reference, request, deadline=None):
        problem = self._configuration_problem()
        if problem:
            return PlaceResult(PlaceState.REFUSED, message=problem)
        params = {"qty": request.quantity, "order_uuid": reference}
        if request.player_id:
            params["playerId"] = request.player_id
        path = PLACE_PATH.format(product=quote(str(request.product).strip(), safe=""))
        try:
            # Sent once: a repeated newOrder after a lost answer only meets the order_uuid check.
            answer = http_get_once(self.session, self._url(path), params, deadline=deadline)
        except ProviderHTTPError as exc:
            return _place_result_of_http_error(exc)
        result = parse_place_answer(answer.body)
        return replace(result, message=mask_secrets(result.message))

    def balance(self, deadline=None):
        """The account balance. Raises ProviderHTTPError when there is no readable answer."""
        problem = self._configuration_problem()
        if problem:
            raise ProviderHTTPError(problem, transient=False)
        answer = http_get(self.session, self._url(PROFILE_PATH), deadline=deadline)
        balance = parse_balance(answer.body)
        if balance is None:
            raise ProviderHTTPError("malformed answer: no balance in the profile", transient=False)
        return balance

    def check_connection(self, deadline=None):
        """One balance request (client/api/profile): it changes nothing and needs the apiToken."""
        problem = self._configuration_problem()
        if problem:
            return ConnectionCheck(ok=False, summary=f"not configured: {problem}")
        try:
            balance = self.balance(deadline)
        except ProviderHTTPError as exc:
            return connection_check_of_http_error(exc, "baseUrl and apiToken")
        return ConnectionCheck(ok=True, summary=f"OK: balance {balance:.2f}")

    def _check_group(self, references, by_uuid, deadline):
        params: dict[str, str | int] = {"orders": "[" + ",".join(reference.strip() for reference in references) + "]"}
        if by_uuid:
            params["uuid"] = 1
        try:
            answer = http_get(self.session, self._url(CHECK_PATH), params, deadline=deadline)
        except ProviderHTTPError as exc:
            return dict.fromkeys(references, check_result_of_http_error(exc, "baseUrl and apiToken"))
        results = parse_batch_status(answer.body, references)
        # Provider texts are stored as said: only our registered secrets are masked in them.
        return {ref: replace(result, message=mask_secrets(result.message)) for ref, result in results.items()}

    def _configuration_problem(self):
        if not self.base_url:
            return "integration has no baseUrl"
        if not self.token:
            return "integration has no apiToken"
        return None


def _place_result_of_http_error(exc):
    if exc.status_code in REFUSED_STATUSES:
        # Refused before any order was made: a definite no, not an unknown outcome.
        return PlaceResult(PlaceState.REFUSED, message=f"{exc} (check the integration's baseUrl, apiToken and product)")
    return place_result_of_http_error(exc)
