"""The `internal` family's HTTP client: another tenant of the platform, asked through its client
API. One status request per order (client/api/check), order placing (POST
client/api/newOrder), and for "test connection" a status check of an order that cannot exist.
The token travels in the `api-token` header, never in a URL (providers.client_api);
`X-Tenant-Host` (the host name of `"baseUrl"`) tells the platform which tenant is meant."""

import uuid
from dataclasses import replace
from urllib.parse import urlsplit

from providers.base import CheckState, ConnectionCheck, PlaceResult, PlaceState
from providers.client_api import CHECK_PATH, PLACE_REFUSED_HINT, WHAT_TO_CHECK, ClientApiClient, place_path
from providers.http import (
    ProviderHTTPError,
    check_result_of_http_error,
    connection_check_of_http_error,
    http_get,
    http_send_once,
    place_result_of_http_error,
)
from providers.internal.parser import is_own_reference, parse_place_answer, parse_status_answer, wire_reference
from providers.json_answers import error_message
from providers.place_answers import DUPLICATE_HTTP_STATUS, says_used_before
from providers.redaction import mask_secrets

# HTTP answers to newOrder that say the order was not taken: a bad request, the token, the
# endpoint or package. 409 (and any error saying the order_uuid was used) is a duplicate instead.
_PLACE_REFUSED_STATUSES = (400, 401, 403, 404, 422)


class InternalClient(ClientApiClient):
    batch_size = 1

    def __init__(self, integration, session_pool_size=8, *, limits):
        super().__init__(integration, session_pool_size, limits=limits)
        self.base_url = self.base_url.strip()
        self.tenant_host = urlsplit(self.base_url).hostname or ""
        self.session.headers["X-Tenant-Host"] = self.tenant_host

    def _configuration_problem(self):
        if self.base_url and not self.tenant_host:
            return "integration's baseUrl has no host name (expected e.g. http://shop2.example:3000)"
        return super()._configuration_problem()

    def reference_for(self, order):
        """Our own order id, however stored (the platform's Django side stores it dashed in
        provider_referans), as 32 hex digits: asked with uuid=1. The tenant's ids are UUIDs too,
        so only the comparison with the order's id tells a dashed reference of ours from theirs."""
        reference = super().reference_for(order)
        if reference and _is_uuid_of(reference, order.pk):
            return order.pk.hex
        return reference

    def _check_status(self, reference, deadline):
        by_uuid = is_own_reference(reference)
        params: dict[str, str | int] = {"orders": wire_reference(reference)}
        if by_uuid:
            params["uuid"] = 1
        try:
            answer = http_get(
                self.session, f"{self.base_url}/{CHECK_PATH}", params, deadline=deadline, limits=self.limits
            )
        except ProviderHTTPError as exc:
            return check_result_of_http_error(exc, WHAT_TO_CHECK)
        result = parse_status_answer(answer.body, reference, by_uuid)
        # The tenant's texts are stored as said: only our registered secrets are masked in them.
        return replace(result, message=mask_secrets(answer.marked(result.message)))

    def _place_order(self, reference, request, deadline):
        params: dict[str, str | int] = {"qty": request.quantity}
        if request.player_id:
            params["user_identifier"] = request.player_id
        if request.player_info:
            params["extra_field"] = request.player_info
        params["order_uuid"] = wire_reference(reference)
        try:
            # Sent once: a repeated newOrder after a lost answer only meets the order_uuid check.
            answer = http_send_once(
                "POST",
                self.session,
                f"{self.base_url}/{place_path(request.product)}",
                params,
                deadline=deadline,
                limits=self.limits,
            )
        except ProviderHTTPError as exc:
            result = _place_result_of_http_error(exc)
        else:
            result = parse_place_answer(answer.body)
            result = replace(result, message=answer.marked(result.message))
        return replace(result, message=mask_secrets(result.message))

    def _check_connection(self, deadline):
        """One status check of a random order UUID: it changes nothing, needs the apiToken and the
        tenant host, and a working tenant answers that it does not know the order."""
        probe = uuid.uuid4().hex
        try:
            answer = http_get(
                self.session,
                f"{self.base_url}/{CHECK_PATH}",
                {"orders": wire_reference(probe), "uuid": 1},
                deadline=deadline,
                limits=self.limits,
            )
        except ProviderHTTPError as exc:
            return connection_check_of_http_error(exc, WHAT_TO_CHECK)
        result = parse_status_answer(answer.body, probe, by_uuid=True)
        if result.state in (CheckState.MALFORMED, CheckState.PROVIDER_ERROR):
            return ConnectionCheck(ok=False, summary=f"failed: {mask_secrets(result.message)}")
        return ConnectionCheck(ok=True, summary=f"OK: tenant {self.tenant_host} answered a status check")


def _place_result_of_http_error(exc: ProviderHTTPError) -> PlaceResult:
    # Masked before more words are added: a token the tenant cut short must not be followed by them.
    said = mask_secrets(error_message(exc.body))
    if exc.status_code == DUPLICATE_HTTP_STATUS or says_used_before(said):
        # The tenant already has an order under our order_uuid: followed, never failed.
        return PlaceResult(PlaceState.DUPLICATE, message=said or str(exc))
    if exc.status_code in _PLACE_REFUSED_STATUSES:
        hint = "" if exc.status_code in (400, 422) else PLACE_REFUSED_HINT
        message = f"{exc}: {said}{hint}" if said else f"{exc}{hint}"
        return PlaceResult(PlaceState.REFUSED, message=message, provider_text=said)
    return place_result_of_http_error(exc)


def _is_uuid_of(reference: str, order_id: uuid.UUID) -> bool:
    try:
        return uuid.UUID(reference.strip()) == order_id
    except ValueError:
        return False
