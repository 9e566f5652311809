"""znet's answer shapes -> one result each; the parser never raises."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.base import CheckResult, CheckState, PlaceState
from providers.znet.parser import (
    EMPTY_ANSWER_MESSAGE,
    NO_REASON_MESSAGE,
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


def test_failed_with_empty_reason_says_so_in_the_monitors_words_only():
    result = parse_status_answer(b"OK|3||")
    assert result.state == CheckState.FAILED
    # "providerMessage" gets only what the provider said; the note goes to "lastMessage".
    assert (result.message, result.note) == ("", NO_REASON_MESSAGE)


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
        b"ok|",
        b"OK|x|y",
        b"OK|2a|PIN",
        "OK|\u0662|PIN".encode(),  # an Arabic-Indic digit is not one of znet's states
        b"OK|1\n<html>",
        b"garbage|text",
        b"3|first line\nsecond line",
        b"\xff\xfe\x00broken",
    ],
)
def test_anything_else_is_malformed(body):
    result = parse_status_answer(body)
    assert result.state == CheckState.MALFORMED
    assert result.message.startswith("malformed answer")


def test_a_malformed_line_never_quotes_what_may_be_a_pin():
    result = parse_status_answer(b"OK|SECRET-PIN-0000|done")
    assert result.state == CheckState.MALFORMED
    assert "SECRET-PIN" not in result.message and result.message.startswith("malformed answer: 'OK|...|...")


# -- the shapes of the field and of the platform's notes ----------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"ok|2|AB12-CD34|Teslim edildi", CheckResult(CheckState.COMPLETED, pin="AB12-CD34", message="Teslim edildi")),
        (b"Ok|1||bekliyor", CheckResult(CheckState.IN_PROGRESS, message="bekliyor")),
        (b"\xef\xbb\xbfOK|2|AB12|d", CheckResult(CheckState.COMPLETED, pin="AB12", message="d")),
        (
            b"  OK | 2 | AB12-CD34 | Teslim edildi  ",
            CheckResult(CheckState.COMPLETED, pin="AB12-CD34", message="Teslim edildi"),
        ),
        (b"\xef\xbb\xbf ok | 3 | - | Stok yok ", CheckResult(CheckState.FAILED, message="Stok yok")),
        (b"OK|1", CheckResult(CheckState.IN_PROGRESS)),
        (b"OK|1 ", CheckResult(CheckState.IN_PROGRESS)),
        ("OK|1| - |Açıklama".encode(), CheckResult(CheckState.IN_PROGRESS, message="Açıklama")),
        ("OK|3| - |Açıklama".encode(), CheckResult(CheckState.FAILED, message="Açıklama")),
        (b"OK|3| - |", CheckResult(CheckState.FAILED, note=NO_REASON_MESSAGE)),
        (b"OK|2| - |Hesaba yuklendi", CheckResult(CheckState.COMPLETED, message="Hesaba yuklendi")),
    ],
    ids=[
        "lower-ok",
        "capital-ok",
        "bom",
        "spaces",
        "bom-spaces-lower",
        "bare",
        "bare-blank",
        "dash-pending",
        "dash-failed",
        "dash-failed-no-reason",
        "dash-completed",
    ],
)
def test_every_shape_of_a_status_line_is_read(body, expected):
    assert parse_status_answer(body) == expected


@pytest.mark.parametrize(
    "pin_field",
    ["AAAA-1111\nBBBB-2222", "AAAA-1111\r\nBBBB-2222", " AAAA-1111 \n\n BBBB-2222 \n", "AAAA-1111\n-\nBBBB-2222"],
)
def test_several_codes_one_a_line_are_all_kept_newline_separated(pin_field):
    result = parse_status_answer(f"OK|2|{pin_field}|2 adet teslim edildi".encode())
    assert result == CheckResult(CheckState.COMPLETED, pin="AAAA-1111\nBBBB-2222", message="2 adet teslim edildi")


@pytest.mark.parametrize("durum", ["0", "4", "9", "12"])
def test_a_state_znet_does_not_document_keeps_the_order_in_progress_and_is_named(durum):
    result = parse_status_answer(f"OK|{durum}| - |Beklemede".encode())
    assert result == CheckResult(CheckState.IN_PROGRESS, message="Beklemede", unknown_status=durum)
    assert result.state not in (CheckState.COMPLETED, CheckState.FAILED) and not result.is_error


def test_place_answers():
    accepted = parse_place_answer(b"OK|97.50|10250.00")
    assert accepted.accepted and (accepted.cost_amount, accepted.cost_currency) == (Decimal("97.50"), "TRY")
    refused = parse_place_answer("3|Kupur Bilgisi Bulunamadı".encode())
    assert not refused.accepted and not refused.uncertain
    assert refused.message == "3: Kupur Bilgisi Bulunamadı"
    garbled = parse_place_answer(b"<html>")
    assert not garbled.accepted and garbled.uncertain


@pytest.mark.parametrize(
    ("body", "cost"),
    [
        (b"OK|97.50|10250.00", Decimal("97.50")),
        (b"ok|12|88", Decimal("12.00")),
        (b"\xef\xbb\xbf OK | 97,505 | 10250,00 ", Decimal("97.51")),  # rounded half-up to kurus
        (b"OK|0|10250.00", Decimal("0.00")),
    ],
)
def test_the_dealer_cost_of_an_accepted_order_is_read_in_try(body, cost):
    result = parse_place_answer(body)
    assert (result.state, result.cost_amount, result.cost_currency) == (PlaceState.ACCEPTED, cost, "TRY")


@pytest.mark.parametrize(
    "body", [b"OK", b"OK|", b"OK|-|10250.00", b"OK|abc|1", b"OK|-5|1", b"OK|NaN|1", b"OK|1e999999|1"]
)
def test_an_accepted_order_without_a_readable_cost_has_none(body):
    result = parse_place_answer(body)
    assert (result.state, result.cost_amount, result.cost_currency) == (PlaceState.ACCEPTED, None, None)


@pytest.mark.parametrize(
    "line",
    [
        "4|Daha Önce Gönderilmiş (166189)",
        "4|DAHA ÖNCE GÖNDERİLMİŞ (166189)",
        "4|daha önce gönderilmiş",
        "3|Daha once gonderilmis",
        "6|Bu referans ile daha önce işlem yapılmış",
        "6|BU REFERANS İLE DAHA ÖNCE İŞLEM YAPILMIŞ",
        "6|Bu referans ile daha once islem yapilmis",
        "12|Bu referans ile daha önce işlem yapılmış",  # another code, same words
        "7|Bu kupur daha önce iptal edilmiş",  # "before": znet has something under it; never refunded
        "5|Reference already used",
    ],
)
def test_a_repeated_reference_means_znet_has_the_order(line):
    result = parse_place_answer(line.encode())
    assert result.state == PlaceState.DUPLICATE
    assert result.provider_has_order and not result.accepted and not result.uncertain
    assert result.message == line.replace("|", ": ", 1)


@pytest.mark.parametrize(
    "line", ["6|Bakiye yetersiz", "3|Kupur Bilgisi Bulunamadı", "3|Eksik parametre", "4|Önce giriş yapın"]
)
def test_other_error_lines_are_refusals(line):
    result = parse_place_answer(line.encode())
    assert result.state == PlaceState.REFUSED and not result.provider_has_order


@given(st.binary(max_size=300))
def test_parser_never_raises_on_arbitrary_bytes(body):
    result = parse_status_answer(body)
    assert result.state in set(CheckState)
    parse_place_answer(body)


_field = st.text(alphabet=st.characters(blacklist_characters="|\r\n", blacklist_categories=("Cs",)), max_size=20)
# A code of a PIN: no separator, no line break, not blank.
_code = st.text(
    alphabet=st.characters(blacklist_characters="|\r\n", blacklist_categories=("Cs", "Zs", "Cc")),
    min_size=1,
    max_size=16,
).filter(lambda code: code.strip() and code.strip() != "-")
# The PIN field: codes one a line (\n or \r\n), maybe with placeholders and padding among them.
_pin_fields = st.tuples(
    st.lists(_code, max_size=3),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from(["", " ", " - ", "-"]),
).map(lambda parts: (parts[1].join(parts[0]) if parts[0] else parts[2], parts[0]))
_heads = st.sampled_from(["OK", "ok", "Ok", "oK"])
_pads = st.sampled_from(["", " ", "  "])


@given(
    head=_heads,
    bom=st.booleans(),
    pad=_pads,
    durum=st.sampled_from(["1", "2", "3", "4", "7", "15"]),
    pin=_pin_fields,
    description=_field,
)
def test_every_shape_of_a_status_line_is_classified_by_its_state(head, bom, pad, durum, pin, description):
    pin_field, codes = pin
    line = pad.join(["", head, "|", durum, "|", pin_field, "|", description, ""])
    result = parse_status_answer((("\ufeff" if bom else "") + line).encode())

    expected = {"1": CheckState.IN_PROGRESS, "2": CheckState.COMPLETED, "3": CheckState.FAILED}
    assert result.state == expected.get(durum, CheckState.IN_PROGRESS)
    assert result.unknown_status == (None if durum in expected else durum)
    assert result.pin == ("\n".join(code.strip() for code in codes) or None if durum == "2" else None)
    if description.strip():
        assert result.message == description.strip()


@given(head=_heads, pad=_pads, durum=st.sampled_from(["1", "3"]), placeholder=st.sampled_from(["", " ", " - ", "-"]))
def test_pending_and_failed_lines_never_carry_a_pin(head, pad, durum, placeholder):
    result = parse_status_answer(f"{pad}{head}{pad}|{durum}|{placeholder}|{pad}Açıklama".encode())
    assert result.pin is None and not result.is_error


@given(
    cost=st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False),
    balance=st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False),
    head=_heads,
    pad=_pads,
)
def test_an_accepted_place_answer_carries_its_cost_in_try(cost, balance, head, pad):
    result = parse_place_answer(f"{pad}{head}{pad}|{pad}{cost}{pad}|{balance}{pad}".encode())
    assert (result.state, result.cost_amount, result.cost_currency) == (PlaceState.ACCEPTED, cost, "TRY")


_turkish_spellings = st.sampled_from(
    ["Daha Önce Gönderilmiş", "DAHA ÖNCE GÖNDERİLMİŞ", "daha önce", "DAHA ONCE", "daha once"]
)


@given(code=st.integers(min_value=0, max_value=99), words=_turkish_spellings, before=_field, after=_field)
def test_a_place_refusal_saying_before_in_any_case_means_znet_has_the_order(code, words, before, after):
    result = parse_place_answer(f"{code}|{before} {words} {after}".encode())
    assert result.state == PlaceState.DUPLICATE and result.provider_has_order


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
