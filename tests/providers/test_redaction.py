import logging

from providers.redaction import RedactSecretsFilter, mask_pin, redact, register_secret


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
