"""apstore's JSON answers -> results, for every shape the provider (or a broken proxy) may send."""

import json
import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.apstore.parser import (
    NO_REASON_MESSAGE,
    is_uuid_reference,
    parse_balance,
    parse_batch_status,
    parse_place_answer,
)
from providers.base import NOT_MENTIONED_MESSAGE, CheckResult, CheckState, PlaceState
from tests.providers.json_strategies import body, json_values, pin_values, spellings_of, unknown_words

# The words of platform.md section 4; `accept` as the platform's Django side reads it.
COMPLETED_WORDS = ("success", "ok", "done", "complete", "completed", "accept")
FAILED_WORDS = ("reject", "rejected", "failed", "fail", "error", "cancelled", "canceled")
IN_PROGRESS_WORDS = ("wait", "pending", "processing", "inprogress", "queued", "queue", "accepted")
EXPECTED_STATE = {
    **dict.fromkeys(COMPLETED_WORDS, CheckState.COMPLETED),
    **dict.fromkeys(FAILED_WORDS, CheckState.FAILED),
    **dict.fromkeys(IN_PROGRESS_WORDS, CheckState.IN_PROGRESS),
}


def ok(*entries):
    return body({"status": "OK", "data": list(entries)})


def one(entry, reference="7"):
    return parse_batch_status(ok({"order_id": 7, **entry}), [reference])[reference]


# -- order status words ------------------------------------------------------------------------


@pytest.mark.parametrize("word", list(EXPECTED_STATE))
@pytest.mark.parametrize("spelling", [str.lower, str.upper, str.title, lambda w: f"  {w}\t"])
def test_status_words_are_read_case_insensitively_and_trimmed(word, spelling):
    assert one({"status": spelling(word)}).state == EXPECTED_STATE[word]


@pytest.mark.parametrize("word", ["in progress", "In_Progress", "IN-PROGRESS"])
def test_blanks_underscores_and_dashes_inside_a_word_do_not_change_it(word):
    assert one({"status": word}).state == CheckState.IN_PROGRESS


@pytest.mark.parametrize(("status", "said"), [("approved", "approved"), (" On_Hold ", "On_Hold"), ("1", "1"), (2, "2")])
def test_an_unknown_status_word_keeps_the_order_in_progress_and_names_the_word(status, said):
    results = parse_batch_status(
        ok(
            {"order_id": 1, "status": status, "pin": "NOT-YET", "note": "Manuel kontrol"},
            {"order_id": 2, "status": "ok"},
        ),
        ["1", "2"],
    )
    assert results["1"] == CheckResult(CheckState.IN_PROGRESS, message="Manuel kontrol", unknown_status=said)
    assert results["2"].state == CheckState.COMPLETED


@pytest.mark.parametrize("status", ["", "  ", None, ["accept"], {"x": 1}, True])
def test_an_entry_without_a_status_word_is_malformed_for_that_order_only(status):
    results = parse_batch_status(ok({"order_id": 1, "status": status}, {"order_id": 2, "status": "accept"}), ["1", "2"])
    assert results["1"].state == CheckState.MALFORMED
    assert "no order status word" in results["1"].message
    assert results["2"].state == CheckState.COMPLETED


def test_a_missing_order_status_is_malformed():
    assert one({}).state == CheckState.MALFORMED


@pytest.mark.parametrize("word", list(EXPECTED_STATE))
def test_the_word_may_be_under_state(word):
    assert one({"state": word}).state == EXPECTED_STATE[word]


def test_status_wins_over_state_and_state_is_read_when_status_says_nothing():
    assert one({"status": "wait", "state": "done"}).state == CheckState.IN_PROGRESS
    assert one({"status": "", "state": "done"}).state == CheckState.COMPLETED
    assert one({"status": None, "state": "canceled"}).state == CheckState.FAILED


# -- PINs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["pin", "code", "voucher", "serial"])
def test_a_completed_order_carries_its_pin_trimmed(field):
    result = one({"status": "accept", field: "  ABCD-1234 5678 \n"})
    assert result == CheckResult(CheckState.COMPLETED, pin="ABCD-1234 5678")


@pytest.mark.parametrize(
    "value",
    [
        "AAAA-1111\nBBBB-2222",
        " AAAA-1111 \r\n BBBB-2222 \n",
        ["AAAA-1111", " BBBB-2222 "],
        ["AAAA-1111", "-", "BBBB-2222"],
    ],
)
def test_several_codes_are_all_kept_one_a_line(value):
    assert one({"status": "completed", "voucher": value}).pin == "AAAA-1111\nBBBB-2222"


def test_the_pin_fields_are_read_in_order_pin_code_voucher_serial():
    assert one({"status": "ok", "serial": "S", "voucher": "V", "code": "C"}).pin == "C"
    assert one({"status": "ok", "serial": "S", "voucher": "-", "code": ""}).pin == "S"


def test_a_non_ascii_pin_is_kept_exactly():
    assert one({"status": "done", "pin": "ŞİFRE-ğüç-١٢٣-✓"}).pin == "ŞİFRE-ğüç-١٢٣-✓"


@pytest.mark.parametrize("value", ["", "   ", "-", " - ", None])
def test_an_empty_or_dash_pin_means_no_pin(value):
    result = one({"status": "accept", "pin": value})
    assert result.state == CheckState.COMPLETED
    assert result.pin is None


def test_without_any_pin_field_a_completed_order_has_no_pin():
    assert one({"status": "success"}).pin is None


def test_pin_wins_over_code_and_code_is_used_when_pin_is_empty():
    assert one({"status": "accept", "pin": "P-1", "code": "C-1"}).pin == "P-1"
    assert one({"status": "accept", "pin": "-", "code": "C-1"}).pin == "C-1"


def test_a_numeric_pin_is_kept_as_text():
    assert one({"status": "accept", "pin": 12345678}).pin == "12345678"


def test_a_pin_on_an_unfinished_or_failed_order_is_not_reported():
    # On a rejected order `code` may be an error code, never a PIN to hand to the customer.
    assert one({"status": "wait", "pin": "P-1"}).pin is None
    assert one({"status": "reject", "code": "E42"}).pin is None


# -- messages ----------------------------------------------------------------------------------


def test_replay_api_lines_are_joined_and_win_over_note_and_message():
    result = one({"status": "reject", "replay_api": [" out of stock ", "", 5, "refunded"], "note": "n", "message": "m"})
    assert result == CheckResult(CheckState.FAILED, message="out of stock; refunded")


def test_note_then_message_then_desc_are_used_when_replay_api_says_nothing():
    assert one({"status": "wait", "replay_api": [], "note": " queued ", "message": "m"}).message == "queued"
    assert one({"status": "wait", "replay_api": None, "note": "", "message": "in line"}).message == "in line"
    assert one({"status": "canceled", "replay_api": [" "], "note": None, "desc": " Stok yok "}).message == "Stok yok"


def test_a_single_replay_api_string_is_taken_as_is():
    assert one({"status": "accept", "pin": "P", "replay_api": "delivered"}).message == "delivered"


def test_a_rejection_without_a_reason_still_says_what_happened():
    assert one({"status": "cancelled"}) == CheckResult(CheckState.FAILED, note=NO_REASON_MESSAGE)


# -- matching entries to references ------------------------------------------------------------


def test_references_the_answer_does_not_mention_get_a_provider_error_of_their_own():
    results = parse_batch_status(ok({"order_id": 1, "status": "accept", "pin": "X"}), ["1", "2"])
    assert results["1"].state == CheckState.COMPLETED
    assert results["2"] == CheckResult(CheckState.PROVIDER_ERROR, message=NOT_MENTIONED_MESSAGE)


def test_an_empty_data_list_mentions_no_order():
    results = parse_batch_status(ok(), ["1", "2"])
    assert {r.message for r in results.values()} == {NOT_MENTIONED_MESSAGE}


def test_an_order_id_number_matches_its_text_reference():
    answer = ok({"order_id": 70001, "status": "wait"}, {"order_id": "70002", "status": "done"})
    results = parse_batch_status(answer, ["70001", "70002"])
    assert results["70001"].state == CheckState.IN_PROGRESS
    assert results["70002"].state == CheckState.COMPLETED


def test_entries_are_found_by_order_uuid_whatever_its_spelling():
    ours = uuid.uuid4()
    answer = ok({"order_id": 5, "order_uuid": str(ours).upper(), "status": "accept", "pin": "P"})
    for reference in (ours.hex, str(ours)):
        assert parse_batch_status(answer, [reference])[reference].pin == "P"


def test_an_entry_naming_its_order_by_id_is_found():
    answer = ok({"id": 70001, "status": "completed", "serial": "S-1"}, {"id": "70002", "state": "error", "desc": "x"})
    results = parse_batch_status(answer, ["70001", "70002"])
    assert results["70001"] == CheckResult(CheckState.COMPLETED, pin="S-1")
    assert results["70002"] == CheckResult(CheckState.FAILED, message="x")


def test_an_id_beside_an_order_id_never_names_another_order():
    # `id` names the order only when there is no `order_id`: here it may be a row number.
    answer = ok({"order_id": 5, "id": 6, "status": "accept", "pin": "PIN-OF-5"})
    results = parse_batch_status(answer, ["5", "6"])
    assert results["5"].pin == "PIN-OF-5"
    assert results["6"].message == NOT_MENTIONED_MESSAGE


def test_an_answer_without_a_top_level_status_is_read_from_its_data_list():
    answer = body({"data": [{"order_id": 5, "status": "ok", "voucher": "V-5"}]})
    results = parse_batch_status(answer, ["5", "6"])
    assert results["5"] == CheckResult(CheckState.COMPLETED, pin="V-5")
    assert results["6"].message == NOT_MENTIONED_MESSAGE
    assert parse_batch_status(body({"status": None, "data": []}), ["5"])["5"].message == NOT_MENTIONED_MESSAGE


def test_an_entry_with_a_null_order_uuid_is_found_by_its_order_id():
    results = parse_batch_status(ok({"order_id": 5, "order_uuid": None, "status": "accept", "pin": "P"}), ["5"])
    assert results["5"].pin == "P"


def test_the_first_of_two_entries_for_one_order_wins():
    results = parse_batch_status(ok({"order_id": 5, "status": "wait"}, {"order_id": 5, "status": "reject"}), ["5"])
    assert results["5"].state == CheckState.IN_PROGRESS


def test_entries_that_are_not_objects_are_skipped():
    results = parse_batch_status(ok("5", 5, None, [5], {"order_id": 6, "status": "wait"}), ["5", "6"])
    assert results["5"].message == NOT_MENTIONED_MESSAGE
    assert results["6"].state == CheckState.IN_PROGRESS


def test_a_byte_order_mark_and_surrounding_blanks_are_tolerated():
    raw = "\ufeff  " + json.dumps({"status": "ok", "data": [{"order_id": 1, "status": "wait"}]}) + "\n"
    assert parse_batch_status(raw.encode("utf-8"), ["1"])["1"].state == CheckState.IN_PROGRESS


# -- answers about the query, not the orders ---------------------------------------------------


def test_a_non_ok_status_is_a_provider_error_for_every_reference():
    results = parse_batch_status(body({"status": "ERROR", "message": "Too many requests"}), ["1", "2"])
    assert results == dict.fromkeys(["1", "2"], CheckResult(CheckState.PROVIDER_ERROR, message="Too many requests"))


def test_a_non_ok_status_without_a_message_names_the_status():
    result = parse_batch_status(body({"status": "FAIL"}), ["1"])["1"]
    assert result.state == CheckState.PROVIDER_ERROR
    assert "FAIL" in result.message


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"<html><body>502 Bad Gateway</body></html>",
        b'{"status": "OK", "data": [',
        b"[]",
        b'"OK"',
        b"null",
        b'{"data": null}',
        b'{"data": {"order_id": 1}}',
        b'{"status": 1, "data": []}',
        b'{"status": "OK"}',
        b'{"status": "OK", "data": null}',
        b'{"status": "OK", "data": {"order_id": 1, "status": "accept"}}',
        b"\xff\xfe\x00garbage",
        b"[" * 100_000,
    ],
)
def test_unreadable_or_wrongly_shaped_answers_are_malformed_for_every_reference(raw):
    results = parse_batch_status(raw, ["1", "2"])
    assert set(results) == {"1", "2"}
    assert all(r.state == CheckState.MALFORMED and r.message.startswith("malformed answer") for r in results.values())


def test_non_utf8_bytes_are_reported_as_such():
    assert parse_batch_status(b'{"status": "OK", "data": ["\xe9"]}', ["1"])["1"].message == (
        "malformed answer: not valid UTF-8"
    )


# -- placing an order --------------------------------------------------------------------------


def test_an_accepted_order_reports_the_providers_order_id():
    result = parse_place_answer(body({"status": "OK", "data": {"order_id": 70001, "status": "wait", "price": 2.5}}))
    assert result.accepted and not result.uncertain
    assert result.reference == "70001"
    assert "70001" in result.message


def test_an_accepted_order_carries_its_price_and_the_currency_the_answer_names():
    priced = parse_place_answer(body({"status": "OK", "data": {"order_id": 7, "price": "2.505", "currency": "usd"}}))
    assert (priced.cost_amount, priced.cost_currency) == (Decimal("2.51"), "USD")
    top_currency = parse_place_answer(body({"status": "OK", "currency": "TRY", "data": {"id": 7, "price": 90}}))
    assert (top_currency.reference, top_currency.cost_amount, top_currency.cost_currency) == ("7", Decimal(90), "TRY")
    # Without a currency, the cost is in the currency the order's cost is kept in (left as it is).
    bare = parse_place_answer(body({"status": "OK", "data": {"order_id": 7, "price": 2.5}}))
    assert (bare.cost_amount, bare.cost_currency) == (Decimal("2.50"), None)
    for price in (None, "free", -1, True, [2]):
        unpriced = parse_place_answer(body({"status": "OK", "data": {"order_id": 7, "price": price}}))
        assert unpriced.accepted and (unpriced.cost_amount, unpriced.cost_currency) == (None, None)


@pytest.mark.parametrize("word", ["reject", "Failed", "rejected", "error", "cancelled", "canceled", "fail"])
def test_a_refusal_inside_a_top_level_ok_is_refused_not_accepted(word):
    result = parse_place_answer(
        body({"status": "OK", "data": {"order_id": 70001, "status": word, "message": "Insufficient stock"}})
    )
    assert (result.state, result.message) == (PlaceState.REFUSED, "Insufficient stock")
    no_reason = parse_place_answer(body({"status": "OK", "data": {"status": word}}))
    assert no_reason.state == PlaceState.REFUSED and word in no_reason.message


def test_a_refusal_inside_ok_that_says_the_uuid_was_used_is_a_duplicate():
    result = parse_place_answer(body({"status": "OK", "data": {"status": "failed", "desc": "order_uuid already used"}}))
    assert result.state == PlaceState.DUPLICATE


@pytest.mark.parametrize("word", ["wait", "pending", "accept", "on_hold", None])
def test_any_other_word_inside_ok_with_an_order_id_is_accepted(word):
    assert parse_place_answer(body({"status": "OK", "data": {"order_id": 1, "status": word}})).accepted


def test_a_refused_order_keeps_the_providers_message_and_is_certain():
    result = parse_place_answer(body({"status": "ERROR", "message": "Insufficient balance"}))
    assert (result.accepted, result.uncertain, result.message) == (False, False, "Insufficient balance")


@pytest.mark.parametrize(
    "message",
    [
        "order_uuid already used",
        "The order uuid has already been taken.",
        "Duplicate order_uuid",
        "ORDER-UUID EXISTS",
        "Bu sipariş daha önce gönderilmiş",
        "Reference already used",
    ],
)
def test_an_already_used_order_uuid_means_apstore_has_the_order(message):
    result = parse_place_answer(body({"status": "ERROR", "message": message}))
    assert result.state == PlaceState.DUPLICATE
    assert result.provider_has_order and not result.accepted and not result.uncertain
    assert result.message == message


@pytest.mark.parametrize("message", ["order_uuid must be a UUID", "Order already cancelled", "package not found"])
def test_other_refusals_naming_the_uuid_or_already_are_refusals(message):
    result = parse_place_answer(body({"status": "ERROR", "message": message}))
    assert result.state == PlaceState.REFUSED


@pytest.mark.parametrize(
    "raw",
    [b"", b"<html>504</html>", b"\xff", b'{"status": "OK"}', b'{"status": "OK", "data": {"status": "wait"}}', b"[]"],
)
def test_an_unreadable_place_answer_leaves_the_outcome_unknown(raw):
    result = parse_place_answer(raw)
    assert (result.accepted, result.uncertain) == (False, True)


# -- balance and references --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"balance": 10250.5}, 10250.5),
        ({"balance": "99.90"}, 99.9),
        ({"status": "OK", "data": {"balance": 3}}, 3.0),
        ({"balance": "lots"}, None),
        ({"balance": True}, None),
        ({"balance": "nan"}, None),
        ({}, None),
    ],
)
def test_balance(answer, expected):
    assert parse_balance(body(answer)) == expected


def test_balance_of_an_unreadable_answer_is_none():
    assert parse_balance(b"<html>") is None


@pytest.mark.parametrize(
    ("reference", "ours"),
    [
        (uuid.uuid4().hex, True),
        (str(uuid.uuid4()), True),
        (uuid.uuid4().hex.upper(), True),
        ("70001", False),
        ("abc", False),
        (uuid.uuid4().hex[:31], False),
        ("{" + str(uuid.uuid4()) + "}", False),
    ],
)
def test_our_uuids_are_told_apart_from_provider_order_ids(reference, ours):
    assert is_uuid_reference(reference) is ours


# -- properties --------------------------------------------------------------------------------

REFERENCES = ["1", "70001", uuid.UUID(int=7).hex, "abc"]


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_the_parser_never_raises_on_arbitrary_bytes(raw):
    results = parse_batch_status(raw, REFERENCES)
    assert set(results) == set(REFERENCES)
    assert all(isinstance(result, CheckResult) for result in results.values())
    assert isinstance(parse_place_answer(raw).accepted, bool)
    parse_balance(raw)


@settings(max_examples=300)
@given(json_values, st.sampled_from(["OK", "ok", "ERROR"]))
def test_the_parser_never_raises_on_arbitrary_json_in_any_place(data, status):
    for answer in (data, {"status": status, "data": data}, {"status": status, "data": [data]}):
        results = parse_batch_status(body(answer), REFERENCES)
        assert set(results) == set(REFERENCES)
        parse_place_answer(body(answer))


words = spellings_of(EXPECTED_STATE)
entries = st.fixed_dictionaries(
    {
        "word": st.one_of(words, unknown_words(EXPECTED_STATE)),
        "status_field": st.sampled_from(["status", "state"]),
        "pin": pin_values,
        "pin_field": st.sampled_from(["pin", "code", "voucher", "serial"]),
        "reason": st.text(max_size=20),
        "reason_field": st.sampled_from(["replay_api", "note", "message", "desc"]),
        "id_field": st.sampled_from(["order_id", "id"]),
    }
)


def _entry(order_id, e):
    reason = [e["reason"]] if e["reason_field"] == "replay_api" else e["reason"]
    return {
        e["id_field"]: order_id,
        e["status_field"]: e["word"],
        e["pin_field"]: e["pin"][0],
        e["reason_field"]: reason,
    }


@settings(max_examples=300)
@given(
    st.dictionaries(st.integers(1, 10**9), entries, max_size=8),
    st.sets(st.integers(1, 10**9), max_size=3),
    st.sampled_from([{"status": "OK"}, {"status": "ok"}, {}]),
)
def test_valid_answers_are_classified_correctly(orders, unknown_ids, top):
    data = [_entry(order_id, e) for order_id, e in orders.items()]
    references = [str(order_id) for order_id in orders] + [str(i) for i in unknown_ids - set(orders)]
    results = parse_batch_status(body({**top, "data": data}), references)
    assert set(results) == set(references)
    for order_id, e in orders.items():
        result = results[str(order_id)]
        known = EXPECTED_STATE.get(e["word"].strip().lower())
        assert result.state == (known or CheckState.IN_PROGRESS)
        assert result.unknown_status == (None if known else e["word"].strip())
        assert result.pin == (e["pin"][1] if known == CheckState.COMPLETED else None)
        if e["reason"].strip():
            assert result.message == e["reason"].strip()
        assert not result.is_error
    for order_id in unknown_ids - set(orders):
        assert results[str(order_id)].message == NOT_MENTIONED_MESSAGE


@settings(max_examples=200)
@given(
    word=st.one_of(spellings_of(FAILED_WORDS), spellings_of(COMPLETED_WORDS + IN_PROGRESS_WORDS)),
    order_id=st.one_of(st.none(), st.integers(1, 10**9)),
    reason=st.text(max_size=20),
    reason_field=st.sampled_from(["replay_api", "note", "message", "desc"]),
)
def test_a_place_answer_inside_ok_is_refused_exactly_when_its_word_says_failed(word, order_id, reason, reason_field):
    data = {"status": word, reason_field: [reason] if reason_field == "replay_api" else reason}
    if order_id is not None:
        data["order_id"] = order_id
    result = parse_place_answer(body({"status": "OK", "data": data}))
    if word.strip().lower() in FAILED_WORDS:
        assert result.state in (PlaceState.REFUSED, PlaceState.DUPLICATE)
    else:
        assert result.state == (PlaceState.ACCEPTED if order_id is not None else PlaceState.UNKNOWN)
