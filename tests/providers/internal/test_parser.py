"""A tenant's client API answers -> results, for every shape the tenant (or a broken proxy) may send."""

import json
import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.base import CheckResult, CheckState, PlaceState
from providers.internal.parser import (
    NO_REASON_MESSAGE,
    NOT_LISTED_MESSAGE,
    is_own_reference,
    parse_place_answer,
    parse_status_answer,
    wire_reference,
)
from providers.json_answers import error_message
from tests.providers.json_strategies import body, json_values, pin_values, spellings_of, unknown_words

# The platform's two record shapes: NestJS (accept/reject/wait) and its Django side
# (approved/rejected/pending/sent).
EXPECTED_STATE = {
    "accept": CheckState.COMPLETED,
    "reject": CheckState.FAILED,
    "wait": CheckState.IN_PROGRESS,
    "approved": CheckState.COMPLETED,
    "rejected": CheckState.FAILED,
    "pending": CheckState.IN_PROGRESS,
    "sent": CheckState.IN_PROGRESS,
}
OURS = uuid.UUID("3f2b8a52-6c1d-4e0f-9a7b-5d4c3b2a1f09")


def one(record, reference=OURS.hex):
    return parse_status_answer(body([record]), reference)


# -- statuses ----------------------------------------------------------------------------------


@pytest.mark.parametrize("word", list(EXPECTED_STATE))
@pytest.mark.parametrize("spelling", [str.lower, str.upper, str.title, lambda w: f"  {w}\t"])
@pytest.mark.parametrize("field", ["status", "externalStatus"])
def test_status_words_are_read_from_either_field_case_insensitively(word, spelling, field):
    assert one({field: spelling(word)}).state == EXPECTED_STATE[word]


def test_status_wins_over_external_status():
    assert one({"status": "pending", "externalStatus": "approved"}).state == CheckState.IN_PROGRESS
    assert one({"status": "", "externalStatus": "rejected"}).state == CheckState.FAILED


@pytest.mark.parametrize(("status", "said"), [("completed", "completed"), (" On Hold ", "On Hold"), (2, "2")])
def test_an_unknown_status_word_keeps_the_order_in_progress_and_names_the_word(status, said):
    result = one({"status": status, "pin": "NOT-YET", "note": "Kontrol ediliyor"})
    assert result == CheckResult(CheckState.IN_PROGRESS, message="Kontrol ediliyor", unknown_status=said)


@pytest.mark.parametrize("status", ["", None, ["approved"], {"x": 1}, False])
def test_a_record_without_a_status_word_is_malformed(status):
    result = one({"status": status})
    assert result.state == CheckState.MALFORMED
    assert "no order status word" in result.message


def test_a_nestjs_record_found_by_our_order_uuid():
    records = [
        {"id": "a1", "order_uuid": str(uuid.uuid4()), "status": "accept", "quantity": 1, "pin": "NOT-OURS"},
        {"id": "a2", "order_uuid": str(OURS), "status": "accept", "quantity": 2, "pin": "P-1\nP-2", "note": None},
    ]
    assert parse_status_answer(body(records), OURS.hex) == CheckResult(CheckState.COMPLETED, pin="P-1\nP-2")
    reject = {"id": "a3", "order_uuid": str(OURS), "status": "reject", "pin": None, "note": "Stok yok"}
    assert parse_status_answer(body({"data": [reject]}), OURS.hex) == CheckResult(CheckState.FAILED, message="Stok yok")


def test_a_django_record_is_read_by_its_status_not_its_external_status():
    record = {"orderId": "77", "status": "sent", "pin": None, "note": "", "externalStatus": "done"}
    assert parse_status_answer(body([record]), OURS.hex).state == CheckState.IN_PROGRESS
    approved = {"orderId": "77", "status": "approved", "pin": "P-77", "externalStatus": "done"}
    assert parse_status_answer(body([approved]), "77") == CheckResult(CheckState.COMPLETED, pin="P-77")


def test_a_dashed_reference_asked_with_uuid_1_is_matched_as_our_order_uuid():
    # The platform's Django side stores our own id dashed: asked with uuid=1, the record naming it
    # by order_uuid is ours, and a record of another order naming it by id is not.
    ours = {"order_uuid": str(OURS), "status": "accept", "pin": "OURS"}
    assert parse_status_answer(body([ours]), str(OURS), by_uuid=True).pin == "OURS"
    theirs = {"id": str(OURS), "order_uuid": str(uuid.uuid4()), "status": "accept", "pin": "NOT-OURS"}
    assert parse_status_answer(body([theirs]), str(OURS), by_uuid=True).pin is None


def test_a_list_and_a_list_under_data_read_the_same():
    record = {"orderUuid": str(OURS), "status": "approved", "pinCode": "PIN-1"}
    bare = parse_status_answer(body([record]), OURS.hex)
    wrapped = parse_status_answer(body({"data": [record]}), OURS.hex)
    assert bare == wrapped == CheckResult(CheckState.COMPLETED, pin="PIN-1")


@pytest.mark.parametrize("answer", [[], {"data": []}])
def test_an_empty_list_is_still_processing(answer):
    assert parse_status_answer(body(answer), OURS.hex) == CheckResult(CheckState.IN_PROGRESS, note=NOT_LISTED_MESSAGE)


# -- PINs and texts ----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["pin", "pinCode"])
def test_an_approved_order_carries_its_pin_trimmed(field):
    assert one({"status": "approved", field: "  ABCD-1234 5678 \n"}).pin == "ABCD-1234 5678"


@pytest.mark.parametrize("value", ["", "   ", "-", None])
def test_an_empty_or_dash_pin_means_no_pin(value):
    result = one({"status": "approved", "pinCode": value})
    assert (result.state, result.pin) == (CheckState.COMPLETED, None)


def test_pin_wins_over_pin_code_and_numbers_are_text():
    assert one({"status": "approved", "pin": "P-1", "pinCode": "C-1"}).pin == "P-1"
    assert one({"status": "approved", "pin": "-", "pinCode": "C-1"}).pin == "C-1"
    assert one({"status": "approved", "pin": 12345678}).pin == "12345678"


def test_a_pin_on_a_pending_or_rejected_order_is_not_reported():
    assert one({"status": "pending", "pin": "P-1"}).pin is None
    assert one({"status": "rejected", "pinCode": "P-1"}).pin is None


def test_several_codes_one_a_line_are_all_kept():
    assert one({"status": "accept", "pin": " A-1 \r\n\r\n B-2 "}).pin == "A-1\nB-2"


def test_note_then_message_then_desc():
    assert one({"status": "rejected", "note": " n ", "message": "m", "desc": "d"}).message == "n"
    assert one({"status": "rejected", "note": None, "message": "m", "desc": "d"}).message == "m"
    assert one({"status": "rejected", "note": "", "message": " ", "desc": "Stok yok"}).message == "Stok yok"


def test_a_rejection_without_a_reason_still_says_what_happened():
    assert one({"status": "rejected"}) == CheckResult(CheckState.FAILED, note=NO_REASON_MESSAGE)


# -- which record is this order's --------------------------------------------------------------


def test_the_record_naming_our_uuid_is_taken_whatever_its_spelling_and_position():
    other = {"orderUuid": str(uuid.uuid4()), "status": "approved", "pinCode": "NOT-OURS"}
    for spelled in (str(OURS).upper(), OURS.hex):
        ours = {"order_uuid": spelled, "status": "approved", "pinCode": "OURS"}
        assert parse_status_answer(body([other, ours]), OURS.hex).pin == "OURS"


def test_the_tenants_own_id_is_matched_on_id_or_order_id():
    theirs = str(uuid.uuid4())
    records = [{"id": "77", "status": "pending"}, {"orderId": theirs, "status": "rejected", "note": "x"}]
    assert parse_status_answer(body(records), theirs).state == CheckState.FAILED
    assert parse_status_answer(body(records), "77").state == CheckState.IN_PROGRESS


def test_a_single_record_that_does_not_say_which_order_it_is_is_taken():
    assert one({"id": "12", "status": "approved", "pin": "P"}).pin == "P"


def test_another_orders_record_is_never_taken():
    # Its PIN belongs to someone else's order: better no answer than a wrong PIN.
    single = [{"orderUuid": str(uuid.uuid4()), "status": "approved", "pinCode": "NOT-OURS"}]
    several = [{"status": "approved", "pin": "A"}, {"status": "approved", "pin": "B"}]
    for records in (single, several):
        result = parse_status_answer(body(records), OURS.hex)
        assert result.state == CheckState.MALFORMED and result.pin is None
        assert "none of them this order" in result.message


# -- answers that are not about the order ------------------------------------------------------


def test_an_object_without_a_list_but_with_a_message_is_a_provider_error():
    result = parse_status_answer(body({"statusCode": 429, "message": "Too many requests"}), OURS.hex)
    assert result == CheckResult(CheckState.PROVIDER_ERROR, message="Too many requests")


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"<html><body>502 Bad Gateway</body></html>",
        b"[",
        b'"OK"',
        b"null",
        b"{}",
        b'{"data": null}',
        b'{"data": {"status": "approved"}}',
        b"\xff\xfe\x00garbage",
        b"[" * 100_000,
    ],
)
def test_unreadable_or_wrongly_shaped_answers_are_malformed(raw):
    result = parse_status_answer(raw, OURS.hex)
    assert result.state == CheckState.MALFORMED and result.message.startswith("malformed answer")


def test_a_byte_order_mark_and_surrounding_blanks_are_tolerated():
    raw = ("\ufeff  " + json.dumps([{"status": "pending"}]) + "\n").encode("utf-8")
    assert parse_status_answer(raw, OURS.hex).state == CheckState.IN_PROGRESS


# -- references --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "ours", "sent"),
    [
        (OURS.hex, True, str(OURS)),
        (OURS.hex.upper(), True, str(OURS)),
        (f" {OURS.hex} ", True, str(OURS)),
        # The tenant's own ids: UUIDs in the dashed form, or anything else, sent as stored.
        (str(OURS), False, str(OURS)),
        ("70001", False, "70001"),
        (OURS.hex[:31], False, OURS.hex[:31]),
    ],
)
def test_our_references_are_told_apart_and_sent_dashed(reference, ours, sent):
    assert is_own_reference(reference) is ours
    assert wire_reference(reference) == sent


# -- placing an order --------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["orderId", "id"])
def test_an_accepted_order_reports_the_tenants_order_id(field):
    theirs = str(uuid.uuid4())
    result = parse_place_answer(body({field: theirs, "status": "pending", "message": "Order created"}))
    assert (result.state, result.reference, result.message) == (PlaceState.ACCEPTED, theirs, "Order created")


def test_an_order_approved_at_once_is_accepted_and_its_pin_is_left_for_the_first_check():
    result = parse_place_answer(body({"orderId": 9, "status": "approved", "pin": "SECRET-PIN-0001"}))
    assert (result.state, result.reference) == (PlaceState.ACCEPTED, "9")
    assert "SECRET-PIN-0001" not in result.message and result.message == "accepted as order 9 (approved)"


def test_a_pending_answer_without_an_id_is_accepted():
    assert parse_place_answer(body({"status": "pending"})).state == PlaceState.ACCEPTED


@pytest.mark.parametrize("word", ["reject", "REJECT", "rejected", " Rejected "])
def test_a_rejected_order_is_refused_with_the_tenants_reason(word):
    result = parse_place_answer(body({"orderId": 9, "status": word, "note": "Yetersiz bakiye"}))
    assert (result.state, result.message) == (PlaceState.REFUSED, "Yetersiz bakiye")
    assert parse_place_answer(body({"status": word})).message == NO_REASON_MESSAGE


@pytest.mark.parametrize("word", ["wait", "accept", "sent", "pending", "approved"])
def test_a_nestjs_or_django_place_answer_is_accepted(word):
    theirs = str(uuid.uuid4())
    for answer in ({"id": theirs, "order_uuid": str(OURS), "status": word}, {"orderId": theirs, "status": word}):
        result = parse_place_answer(body(answer))
        assert (result.state, result.reference) == (PlaceState.ACCEPTED, theirs)
    assert parse_place_answer(body({"status": word})).state == PlaceState.ACCEPTED


def test_a_place_answer_carries_its_price():
    result = parse_place_answer(body({"id": "9", "status": "wait", "price": "12.5", "currency": "try"}))
    assert (result.cost_amount, result.cost_currency) == (Decimal("12.50"), "TRY")
    assert parse_place_answer(body({"id": "9", "status": "wait", "price": 3})).cost_currency is None
    assert parse_place_answer(body({"id": "9", "status": "wait"})).cost_amount is None


@pytest.mark.parametrize(
    "message",
    [
        "order_uuid already used",
        "Duplicate order_uuid",
        "The order uuid has already been taken.",
        "Bu sipariş DAHA ÖNCE GÖNDERİLMİŞ",
    ],
)
def test_an_already_used_order_uuid_means_the_tenant_has_the_order(message):
    result = parse_place_answer(body({"status": "rejected", "message": message}))
    assert result.state == PlaceState.DUPLICATE and result.provider_has_order


@pytest.mark.parametrize(
    "raw", [b"", b"<html>504</html>", b"\xff", b"{}", b"[]", b'{"status": "queued"}', b'{"orderId": null}']
)
def test_an_unreadable_place_answer_leaves_the_outcome_unknown(raw):
    result = parse_place_answer(raw)
    assert (result.state, result.uncertain) == (PlaceState.UNKNOWN, True)


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (body({"statusCode": 404, "message": "package not found"}), "package not found"),
        (
            body({"statusCode": 400, "message": ["qty must be a positive integer", "", 5, "x"]}),
            "qty must be a positive integer; x",
        ),
        (body({"error": "Bad Request"}), ""),
        (b"<html>404</html>", ""),
        (body(["message"]), ""),
    ],
)
def test_the_message_of_an_error_answer(raw, said):
    assert error_message(raw) == said


# -- properties --------------------------------------------------------------------------------

REFERENCES = [OURS.hex, str(OURS), "70001"]


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_the_parsers_never_raise_on_arbitrary_bytes(raw):
    for reference in REFERENCES:
        assert isinstance(parse_status_answer(raw, reference), CheckResult)
    assert isinstance(parse_place_answer(raw).state, PlaceState)
    assert isinstance(error_message(raw), str)


@settings(max_examples=300)
@given(json_values)
def test_the_parsers_never_raise_on_arbitrary_json_in_any_place(data):
    for answer in (data, [data], {"data": data}, {"data": [data]}):
        for reference in REFERENCES:
            result = parse_status_answer(body(answer), reference)
            assert result.pin is None or result.state == CheckState.COMPLETED
        place = parse_place_answer(body(answer))
        assert place.state != PlaceState.ACCEPTED or isinstance(answer, dict)
        error_message(body(answer))


words = spellings_of(EXPECTED_STATE)
records = st.fixed_dictionaries(
    {
        "word": st.one_of(words, unknown_words(EXPECTED_STATE)),
        "status_field": st.sampled_from(["status", "externalStatus"]),
        "pin": pin_values,
        "pin_field": st.sampled_from(["pin", "pinCode"]),
        "text": st.text(max_size=20),
        "text_field": st.sampled_from(["note", "message", "desc"]),
        "uuid_field": st.sampled_from(["order_uuid", "orderUuid"]),
        "wrapped": st.booleans(),
    }
)


@settings(max_examples=300)
@given(records, st.lists(st.uuids(), max_size=3), st.uuids(), st.booleans())
def test_valid_answers_are_classified_correctly_and_only_our_record_counts(record, others, ours, dashed):
    ours_record = {
        record["uuid_field"]: str(ours),
        record["status_field"]: record["word"],
        record["pin_field"]: record["pin"][0],
        record["text_field"]: record["text"],
    }
    decoys = [{"order_uuid": str(other), "status": "accept", "pin": "DECOY"} for other in others if other != ours]
    listed = [*decoys, ours_record]
    answer = {"data": listed} if record["wrapped"] else listed
    # Asked by our 32 hex digits, or (the platform's Django side's rows) dashed with uuid=1.
    reference, by_uuid = (str(ours), True) if dashed else (ours.hex, None)

    result = parse_status_answer(body(answer), reference, by_uuid)

    known = EXPECTED_STATE.get(record["word"].strip().lower())
    assert result.state == (known or CheckState.IN_PROGRESS)
    assert result.unknown_status == (None if known else record["word"].strip())
    assert result.pin == (record["pin"][1] if known == CheckState.COMPLETED else None)
    if record["text"].strip():
        assert result.message == record["text"].strip()
    elif known == CheckState.FAILED:
        assert (result.message, result.note) == ("", NO_REASON_MESSAGE)


@settings(max_examples=200)
@given(
    st.uuids(),
    spellings_of(("wait", "accept", "pending", "approved", "sent")),
    st.one_of(st.none(), st.text(max_size=20)),
)
def test_a_place_answer_with_an_order_id_is_accepted_and_never_shows_its_pin(order_id, word, pin):
    result = parse_place_answer(body({"orderId": str(order_id), "status": word, "pin": pin}))
    assert (result.state, result.reference) == (PlaceState.ACCEPTED, str(order_id))
    assert result.message == f"accepted as order {order_id} ({word.strip().lower()})"  # never the PIN


@settings(max_examples=200)
@given(spellings_of(("reject", "rejected")), st.one_of(st.none(), st.uuids()), st.text(max_size=20))
def test_a_place_answer_saying_reject_is_refused_whatever_else_it_holds(word, order_id, note):
    answer = {"status": word, "note": note, "orderId": None if order_id is None else str(order_id)}
    assert parse_place_answer(body(answer)).state in (PlaceState.REFUSED, PlaceState.DUPLICATE)
