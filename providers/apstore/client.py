"""apstore's (barakat's) HTTP client: batch status checks (client/api/check), order placing
(client/api/newOrder) and the balance (client/api/profile). The token travels in the
`api-token` header, never in a URL (providers.client_api)."""

from dataclasses import replace

from providers.apstore.parser import is_uuid_reference, parse_balance, parse_batch_status, parse_place_answer
from providers.base import ConnectionCheck, PlaceResult, PlaceState
from providers.client_api import CHECK_PATH, PLACE_REFUSED_HINT, WHAT_TO_CHECK, ClientApiClient, place_path
from providers.http import (
    REFUSED_STATUSES,
    ProviderHTTPError,
    check_result_of_http_error,
    connection_check_of_http_error,
    http_get,
    http_send_once,
    place_result_of_http_error,
)
from providers.json_answers import error_message
from providers.place_answers import DUPLICATE_HTTP_STATUS, says_used_before
from providers.redaction import mask_secrets

PROFILE_PATH = "client/api/profile"


class ApstoreClient(ClientApiClient):
    batch_size = 50

    def balance(self, deadline=None):
        """The account balance. Raises ProviderHTTPError when there is no readable answer."""
        problem = self._configuration_problem()
        if problem:
            raise ProviderHTTPError(problem, transient=False)
        answer = http_get(self.session, f"{self.base_url}/{PROFILE_PATH}", deadline=deadline, limits=self.limits)
        balance = parse_balance(answer.body)
        if balance is None:
            raise ProviderHTTPError("malformed answer: no balance in the profile", transient=False)
        return balance

    def _check_statuses(self, references, deadline):
        # Our own UUIDs and the provider's order ids cannot share a request: uuid=1 says which.
        uuids = [reference for reference in references if is_uuid_reference(reference)]
        order_ids = [reference for reference in references if not is_uuid_reference(reference)]
        results = {}
        for group, by_uuid in ((uuids, True), (order_ids, False)):
            if group:
                results.update(self._check_group(group, by_uuid, deadline))
        return {reference: results[reference] for reference in references}

    def _check_group(self, references, by_uuid, deadline):
        params: dict[str, str | int] = {"orders": "[" + ",".join(reference.strip() for reference in references) + "]"}
        if by_uuid:
            params["uuid"] = 1
        try:
            answer = http_get(
                self.session, f"{self.base_url}/{CHECK_PATH}", params, deadline=deadline, limits=self.limits
            )
        except ProviderHTTPError as exc:
            return dict.fromkeys(references, check_result_of_http_error(exc, WHAT_TO_CHECK))
        results = parse_batch_status(answer.body, references)
        # Provider texts are stored as said: only our registered secrets are masked in them.
        return {
            ref: replace(result, message=mask_secrets(answer.marked(result.message))) for ref, result in results.items()
        }

    def _place_order(self, reference, request, deadline):
        params = {"qty": request.quantity, "order_uuid": reference}
        if request.player_id:
            params["playerId"] = request.player_id
        try:
            # Sent once: a repeated newOrder after a lost answer only meets the order_uuid check.
            answer = http_send_once(
                "GET",
                self.session,
                f"{self.base_url}/{place_path(request.product)}",
                params,
                deadline=deadline,
                limits=self.limits,
            )
        except ProviderHTTPError as exc:
            return _place_result_of_http_error(exc)
        result = parse_place_answer(answer.body)
        return replace(result, message=mask_secrets(answer.marked(result.message)))

    def _check_connection(self, deadline):
        """One balance request (client/api/profile): it changes nothing and needs the apiToken."""
        try:
            balance = self.balance(deadline)
        except ProviderHTTPError as exc:
            return connection_check_of_http_error(exc, WHAT_TO_CHECK)
        return ConnectionCheck(ok=True, summary=f"OK: balance {balance:.2f}")


def _place_result_of_http_error(exc):
    said = error_message(exc.body) if exc.body else ""
    if exc.status_code == DUPLICATE_HTTP_STATUS or (exc.status_code in REFUSED_STATUSES and says_used_before(said)):
        # The order_uuid was used before: apstore has the order, to be followed, never failed.
        return PlaceResult(PlaceState.DUPLICATE, message=mask_secrets(f"{exc}: {said}" if said else str(exc)))
    if exc.status_code in REFUSED_STATUSES:
        # Refused before any order was made: a definite no, not an unknown outcome.
        return PlaceResult(PlaceState.REFUSED, message=f"{exc}{PLACE_REFUSED_HINT}")
    return place_result_of_http_error(exc)
