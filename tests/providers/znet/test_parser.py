"""znet's answer shapes -> one result each; the parser never raises."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.base import CheckState, PlaceState
from providers.znet.parser import (
    EMPTY_ANSWER_MESSAGE,
    parse_catalog_answer,
    parse_place_answer,
    parse_status_answer,
)


@pytest.mark.parametrize(
    "body",
    [b"OK|1", b"OK|1||", b"OK|1||Isleminiz devam ediyor", "OK|1||İşleminiz devam ediyor\r\n".encode()],
)
def test_in_progress_shapes(body):
    result = parse_status_answer(body)
    assert result.state == CheckState.IN_PROGRESS
    assert result.pin is None


def test_completed_keeps_pin_exactly_but_trimmed():
    result = parse_status_answer("OK|2|  ABCD-12 34-ğüşİ  |Teslim edildi".encode())
    assert result.state == CheckState.COMPLETED
    assert result.pin == "ABCD-12 34-ğüşİ"
    assert result.message == "Teslim edildi"


@pytest.mark.parametrize("body", [b"OK|2", b"OK|2||", b"OK|2|-|Hesaba yuklendi", b"OK|2| - |"])
def test_completed_without_pin_stores_no_pin(body):
    result = parse_status_answer(body)
    assert result.state == CheckState.COMPLETED
    assert result.pin is None


def test_description_may_contain_separators():
    result = parse_status_answer(b"OK|2|PIN-1|a|b|c")
    assert result.pin == "PIN-1"
    assert result.message == "a|b|c"


def test_failed_with_reason():
    result = parse_status_answer(b"OK|3||Stok yetersiz")
    assert result.state == CheckState.FAILED
    assert result.message == "Stok yetersiz"


def test_failed_with_empty_reason_still_says_something():
    result = parse_status_answer(b"OK|3||")
    assert result.state == CheckState.FAILED
    assert "cancelled" in result.message


def test_error_line_keeps_code_and_message():
    result = parse_status_answer(b"4|Bakiye Yetersiz")
    assert result.state == CheckState.PROVIDER_ERROR
    assert (result.code, result.message) == ("4", "Bakiye Yetersiz")
    assert result.describe_error() == "provider error 4: Bakiye Yetersiz"


def test_try_later_error_is_not_permanent_but_credentials_are():
    assert not parse_status_answer("8|Sistem yoğun, daha sonra deneyin".encode()).permanent
    assert parse_status_answer("1|Bayi kodu veya şifre hatalı".encode()).permanent
    assert parse_status_answer("5|İşlem bulunamadı".encode()).permanent


@pytest.mark.parametrize("body", [b"", b"   ", b"\r\n", "\ufeff".encode()])
def test_empty_answer_is_a_permanent_configuration_problem(body):
    result = parse_status_answer(body)
    assert result.state == CheckState.CONFIGURATION_ERROR
    assert result.permanent
    assert result.message == EMPTY_ANSWER_MESSAGE


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>502 Bad Gateway</body></html>",
        b"OK",
        b"OK|",
        b"OK|7|x|y",
        b"OK|2|PIN\nsecond line",
        b"garbage|text",
        b"\xff\xfe\x00broken",
    ],
)
def test_anything_else_is_malformed(body):
    result = parse_status_answer(body)
    assert result.state == CheckState.MALFORMED
    assert result.message.startswith("malformed answer")


def test_a_malformed_completed_line_never_quotes_the_pin():
    result = parse_status_answer(b"OK|2|SECRET-PIN-0000|done\nmore")
    assert result.state == CheckState.MALFORMED
    assert "SECRET-PIN" not in result.message and result.message.startswith("malformed answer: 'OK|2|...")


def test_place_answers():
    assert parse_place_answer(b"OK|97.50|10250.00").accepted
    refused = parse_place_answer("3|Kupur Bilgisi Bulunamadı".encode())
    assert not refused.accepted and not refused.uncertain
    assert refused.message == "3: Kupur Bilgisi Bulunamadı"
    garbled = parse_place_answer(b"<html>")
    assert not garbled.accepted and garbled.uncertain


@pytest.mark.parametrize(
    "line",
    [
        "6|Bu referans ile daha önce işlem yapılmış",
        "6|BU REFERANS İLE DAHA ÖNCE İŞLEM YAPILMIŞ",
        "6|Bu referans ile daha once islem yapilmis",
        "12|Bu referans ile daha önce işlem yapılmış",  # another code, same words
    ],
)
def test_a_repeated_reference_means_znet_has_the_order(line):
    result = parse_place_answer(line.encode())
    assert result.state == PlaceState.DUPLICATE
    assert result.provider_has_order and not result.accepted and not result.uncertain
    assert result.message == line.replace("|", ": ", 1)


@pytest.mark.parametrize("line", ["6|Bakiye yetersiz", "7|Bu kupur daha önce iptal edilmiş", "3|Eksik parametre"])
def test_other_error_lines_are_refusals(line):
    result = parse_place_answer(line.encode())
    assert result.state == PlaceState.REFUSED and not result.provider_has_order


@given(st.binary(max_size=300))
def test_parser_never_raises_on_arbitrary_bytes(body):
    result = parse_status_answer(body)
    assert result.state in set(CheckState)
    parse_place_answer(body)


_field = st.text(alphabet=st.characters(blacklist_characters="|\r\n", blacklist_categories=("Cs",)), max_size=20)


@given(durum=st.sampled_from(["1", "2", "3"]), pin=_field, description=_field)
def test_valid_lines_are_classified_by_durum(durum, pin, description):
    result = parse_status_answer(f"OK|{durum}|{pin}|{description}".encode())
    expected = {"1": CheckState.IN_PROGRESS, "2": CheckState.COMPLETED, "3": CheckState.FAILED}[durum]
    assert result.state == expected
    if durum == "2":
        stripped = pin.strip()
        assert result.pin == (None if stripped in ("", "-") else stripped)


@given(code=st.integers(min_value=0, max_value=999), message=_field)
def test_valid_error_lines_are_provider_errors(code, message):
    result = parse_status_answer(f"{code}|{message}".encode())
    assert result.state == CheckState.PROVIDER_ERROR
    assert result.code == str(code)


@pytest.mark.parametrize(
    "body,ok,summary",
    [
        (b'{"success": true, "result": [{"id": 1}, {"id": 2}], "error": null}', True, "OK: 2 products in the catalog"),
        (b'{"success": true, "result": []}', True, "OK: 0 products in the catalog"),
        (b'{"success": false, "result": null, "error": "Yetkisiz"}', False, "refused: Yetkisiz"),
        ("1|Bayi kodu veya şifre hatalı".encode(), False, "refused: provider error 1: Bayi kodu veya şifre hatalı"),
        (b"", False, f"refused: {EMPTY_ANSWER_MESSAGE}"),
        (b"<html>502</html>", False, "failed: malformed answer: '<html>502</html>'"),
        (b'["not", "an", "object"]', False, 'failed: malformed answer: \'["not", "an", "object"]\''),
        (b"\xff\xfe", False, "failed: malformed answer: not valid UTF-8"),
    ],
    ids=["products", "empty-catalog", "success-false", "error-line", "empty-body", "html", "json-list", "not-utf8"],
)
def test_catalog_answer_is_summarised(body, ok, summary):
    check = parse_catalog_answer(body)
    assert (check.ok, check.summary) == (ok, summary)


@given(st.binary(max_size=200))
def test_catalog_parser_never_raises(body):
    check = parse_catalog_answer(body)
    assert check.summary
