import logging

from providers.redaction import RedactSecretsFilter, mask_pin, mask_pins, mask_secrets, redact, register_secret, scrub


def test_credentials_in_urls_are_redacted():
    url = "http://h/servis/pin_kontrol.php?kod=BAYI1&sifre=p%40ss&tahsilat_api_islem_id=42"
    assert redact(url) == "http://h/servis/pin_kontrol.php?kod=***&sifre=***&tahsilat_api_islem_id=42"


def test_registered_secrets_are_redacted_anywhere():
    register_secret("Very$ecret-77")
    assert "Very$ecret-77" not in redact("password was Very$ecret-77 and Very%24ecret-77 encoded")


def test_mask_pin_shows_only_last_four():
    assert mask_pin("ABCD-EFGH-1234") == "****1234"
    assert mask_pin("123") == "****"
    assert mask_pin(None) == "-"


def test_log_filter_redacts_message_and_traceback():
    register_secret("filter-secret-99")
    try:
        raise ValueError("failed for sifre=filter-secret-99")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "url %s", ("kod=abc&sifre=zzz",), sys.exc_info())
    RedactSecretsFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "filter-secret-99" not in text and "zzz" not in text
    assert "sifre=***" in text


def test_provider_texts_keep_their_words_and_lose_only_registered_secrets():
    register_secret("Kayitli-Sifre-4410")
    text = "Kod: A|B|C teslim, sifre: Kayitli-Sifre-4410"
    assert mask_secrets(text) == "Kod: A|B|C teslim, sifre: ***"
    assert mask_secrets("Kod: A|B|C teslim") == "Kod: A|B|C teslim"
    assert mask_secrets(None) is None and mask_secrets("") == ""


def test_urls_exception_texts_and_log_lines_still_lose_every_credential_pattern():
    assert redact("Kod: A|B|C teslim") == "Kod: *** teslim"
    url = "GET /servis/pin_ekle.php?kod=BAYI9&sifre=xyz&oyun=1"
    assert redact(url) == "GET /servis/pin_ekle.php?kod=***&sifre=***&oyun=1"


def test_mask_pins_masks_pins_shown_as_pins_only():
    assert mask_pins("stored pin=ABCD-EFGH-1234 for x") == "stored pin=****1234 for x"
    assert mask_pins('{"pinCode": "ABCDEFGH99", "pin_code_full": "ZZZZ-0000-4444"}') == (
        '{"pinCode": "****GH99", "pin_code_full": "****4444"}'
    )
    assert mask_pins("answer 'OK|2|ABCD-1234-5678|done'") == "answer 'OK|2|****5678|done'"
    # Already masked, missing, or not a PIN: unchanged.
    for text in ("pin=****1234", "pin=-", "OK|1|-|wait", "GET /servis/pin_kontrol.php?x=1", "pin code missing"):
        assert mask_pins(text) == text


def test_scrub_walks_nested_data():
    register_secret("scrub-secret-42")
    event = {
        "message": "GET /x?kod=K&sifre=S failed",
        "extra": {"integration": {"kod": "K9", "sifre": "anything", "api_token": "T", "name": "znet"}},
        "breadcrumbs": [{"data": {"http.query": "kod=a&sifre=b", "status": 200}}, ("pin=ABCDEFGH1234",)],
        "contexts": {"order": {"pin": "LONGPIN-5555", "attempts": 3, "note": "key scrub-secret-42"}},
    }
    assert scrub(event) == {
        "message": "GET /x?kod=***&sifre=*** failed",
        "extra": {"integration": {"kod": "***", "sifre": "***", "api_token": "***", "name": "znet"}},
        "breadcrumbs": [{"data": {"http.query": "kod=***&sifre=***", "status": 200}}, ["pin=****1234"]],
        "contexts": {"order": {"pin": "****5555", "attempts": 3, "note": "key ***"}},
    }
