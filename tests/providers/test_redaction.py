import logging

from providers.redaction import RedactSecretsFilter, mask_pin, mask_secrets, redact, register_secret


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
