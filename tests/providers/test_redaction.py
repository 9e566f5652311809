import logging
import string
from contextlib import contextmanager
from urllib.parse import quote, quote_plus, urlencode

from hypothesis import assume, given
from hypothesis import strategies as st

from providers import redaction
from providers.redaction import (
    RedactSecretsFilter,
    excerpt,
    mask_pin,
    mask_pins,
    mask_secrets,
    redact,
    register_secret,
    scrub,
)


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


# -- a reply that echoes the request: masked before it is cut, at every offset -------------------

SECRET_CHARACTERS = string.ascii_letters + string.digits + "-_.$@%+!"
secrets_ = st.text(alphabet=SECRET_CHARACTERS, min_size=4, max_size=24)


@contextmanager
def registered_for_now(*values):
    """`values` registered as secrets only inside the block: the examples hypothesis makes up
    must not stay registered and mask ordinary words in later tests."""
    with redaction._lock:
        before = set(redaction._known_secrets)
    for value in values:
        register_secret(value)
    try:
        yield
    finally:
        with redaction._lock:
            redaction._known_secrets.intersection_update(before)


def echoed_url(kod, sifre):
    """What znet's error page repeats: the request line, the query encoded as requests sends it."""
    query = urlencode({"kod": kod, "sifre": sifre, "tahsilat_api_islem_id": "4f1c"})
    return f"Error in request!: GET /servis/pin_kontrol.php?{query}"


def starts_of(secret):
    """The first 4 characters of a secret in every spelling it is registered in."""
    return {form[:4] for form in (secret, quote(secret, safe=""), quote_plus(secret))}


def assert_no_start_of(secrets, text):
    for secret in secrets:
        for start in starts_of(secret):
            assert start not in text, (secret, text)


@given(kod=secrets_, sifre=secrets_, data=st.data())
def test_a_reply_cut_anywhere_across_a_secret_keeps_none_of_its_start(kod, sifre, data):
    """The reply cut at any offset (by the provider, or by the answer size limit), then quoted
    at any length: neither the quote nor the provider's words as stored keep 4 characters of a
    registered secret."""
    reply = echoed_url(kod, sifre)
    around = reply.replace(quote_plus(kod), "").replace(quote_plus(sifre), "")
    assume(not any(start in around for secret in (kod, sifre) for start in starts_of(secret)))
    secret_at = reply.index("sifre=") + len("sifre=")
    provider_cut = data.draw(st.integers(secret_at, len(reply)), label="reply cut at")
    said = reply[:provider_cut]
    quote_length = data.draw(st.integers(1, len(said) + 1), label="quoted up to")

    with registered_for_now(kod, sifre):
        assert_no_start_of((kod, sifre), excerpt(said, quote_length))
        assert_no_start_of((kod, sifre), excerpt(said, quote_length, provider_words=True))
        assert_no_start_of((kod, sifre), mask_secrets(said))


@given(token=secrets_, lead=st.integers(0, 90))
def test_a_token_header_echoed_across_the_cut_keeps_none_of_its_start(token, lead):
    reply = "x" * lead + f"Error in request!: api-token: {token} GET /client/api/check?orders=[7]"
    assume(not any(start in reply.replace(token, "") for start in starts_of(token)))

    with registered_for_now(token):
        for length in range(lead, lead + 60):
            assert_no_start_of((token,), excerpt(reply, length))
            assert_no_start_of((token,), excerpt(reply[:length], 80, provider_words=True))


def test_a_cut_secret_is_masked_where_the_text_ends_or_an_ellipsis_follows():
    register_secret("Kesik-Sifre-5521")
    assert mask_secrets("wrong password Kesik-Sif") == "wrong password ***"
    assert mask_secrets("wrong password Kesik-Sif... try again") == "wrong password ***... try again"
    assert mask_secrets("wrong password Kesik-Sif… try again") == "wrong password ***… try again"
    # Fewer than 4 characters, or followed by more words: a provider's words as said.
    assert mask_secrets("wrong password Kes") == "wrong password Kes"
    assert mask_secrets("Kesik-Sifa is a word") == "Kesik-Sifa is a word"


def test_excerpt_masks_before_it_cuts():
    register_secret("Uzun-Sifre-0077")
    text = "sifre=Uzun-Sifre-0077 and more"
    assert excerpt(text, 10) == "sifre=***…"  # masked, then cut: not "sifre=Uzu…"
    assert excerpt(text, 200) == "sifre=*** and more"
    assert excerpt("Kod: A|B", 200, provider_words=True) == "Kod: A|B"  # a provider's words keep their patterns
    assert excerpt(None, 10) is None and excerpt("", 10) == ""
    assert len(excerpt("y" * 500, 80)) == 80
