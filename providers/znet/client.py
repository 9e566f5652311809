"""znet's HTTP client: one status request per order (pin_kontrol.php), order placing (pin_ekle.php)."""

import logging
import uuid
from dataclasses import replace

from providers.base import PlaceResult, PlaceState, ProviderClient
from providers.http import (
    ProviderHTTPError,
    check_result_of_http_error,
    connection_check_of_http_error,
    http_get,
    http_send_once,
    pause_integration,
    place_result_of_http_error,
)
from providers.place_answers import DUPLICATE_HTTP_STATUS, says_used_before
from providers.redaction import mask_secrets, redact
from providers.znet.parser import parse_catalog_answer, parse_place_answer, parse_status_answer, says_try_later
from providers.znet.referans import new_referans

log = logging.getLogger(__name__)

STATUS_PATH = "servis/pin_kontrol.php"
PLACE_PATH = "servis/pin_ekle.php"
CATALOG_PATH = "servis/pin_listesi.php"


class ZnetClient(ProviderClient):
    batch_size = 1
    # znet's orders have no id of their own: the referans is what both platform checkers find
    # in "externalOrderId" and ask pin_kontrol.php about.
    reference_is_external_id = True
    credential_fields = ("kod", "sifre")

    def _check_status(self, reference, deadline):
        try:
            answer = http_get(
                self.session,
                f"{self.base_url}/{STATUS_PATH}",
                self._params(tahsilat_api_islem_id=reference),
                deadline=deadline,
                limits=self.limits,
            )
        except ProviderHTTPError as exc:
            return check_result_of_http_error(exc, "baseUrl and credentials")
        result = parse_status_answer(answer.body)
        if says_try_later(result.code) and getattr(self.session, "request_gate", None) is not None:
            # With request budgets the pause is the integration's; without, the error backoff is the order's.
            pause_integration(self.session, self.limits.throttle_pause_seconds)
            result = replace(result, throttled=True)
        return replace(result, message=mask_secrets(answer.marked(result.message)))

    def _check_connection(self, deadline):
        """One catalog request (pin_listesi.php): it changes nothing and needs kod and sifre."""
        try:
            answer = http_get(
                self.session, f"{self.base_url}/{CATALOG_PATH}", self._params(), deadline=deadline, limits=self.limits
            )
        except ProviderHTTPError as exc:
            return connection_check_of_http_error(exc, "baseUrl and credentials")
        result = parse_catalog_answer(answer.body)
        return replace(result, summary=redact(result.summary))

    def place_reference(self, order_id: uuid.UUID) -> str:
        """Digits only, as the platform sends them (providers.znet.referans): not our order id."""
        return new_referans()

    def _place_order(self, reference, request, deadline):
        params = self._params(
            oyun=request.product,
            kupur=request.denomination,
            referans=reference,
            musteri_tel=request.player_id,
            oyuncu_bilgi=request.player_info,
        )
        try:
            # Sent once: a repeated pin_ekle after a lost answer only meets znet's duplicate check.
            answer = http_send_once(
                "GET", self.session, f"{self.base_url}/{PLACE_PATH}", params, deadline=deadline, limits=self.limits
            )
        except ProviderHTTPError as exc:
            return replace(_place_result_of_http_error(exc), reference=reference)
        result = parse_place_answer(answer.body)
        if says_try_later(answer.body.decode("utf-8", "replace").split("|", 1)[0].strip()):
            # The order's own outcome is the parser's, as before.
            pause_integration(self.session, self.limits.throttle_pause_seconds)
        return replace(result, message=mask_secrets(answer.marked(result.message)), reference=reference)

    def _params(self, **extra):
        return {"kod": self.integration.kod, "sifre": self.integration.sifre, **extra}


_MAX_ERROR_BODY = 200


def _place_result_of_http_error(exc: ProviderHTTPError) -> PlaceResult:
    said = (exc.body or b"").decode("utf-8", "replace").strip()[:_MAX_ERROR_BODY]
    refused_as_used = exc.status_code is not None and 400 <= exc.status_code < 500 and says_used_before(said)
    if exc.status_code == DUPLICATE_HTTP_STATUS or refused_as_used:
        # The referans was used before: znet has the order (HTTP 409, or a refusal saying so).
        return PlaceResult(PlaceState.DUPLICATE, message=mask_secrets(f"{exc}: {said}" if said else str(exc)))
    return place_result_of_http_error(exc)
