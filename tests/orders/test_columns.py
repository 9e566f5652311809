"""Values written to the live table fit its declared sizes, and PostgreSQL can store them."""

from hypothesis import given
from hypothesis import strategies as st

from orders.columns import (
    ELLIPSIS,
    fit,
    fits,
    max_length,
    storable,
    storable_check_result,
    storable_place_result,
    unstorable_characters,
)
from providers.base import CheckResult, CheckState, PlaceResult, PlaceState


def test_live_sizes_are_the_model_sizes():
    assert max_length("last_message") == 250
    assert max_length("pin_code") == 120
    assert max_length("provider_message") is None


def test_a_short_value_is_kept_unchanged():
    assert fit("last_message", "failed at the provider: out of stock") == "failed at the provider: out of stock"
    assert fit("last_message", None) is None


def test_a_long_message_is_cut_with_an_ellipsis():
    value = "x" * 300
    assert fit("last_message", value) == "x" * 249 + ELLIPSIS
    assert fit("provider_message", value) == value


@given(st.text(max_size=600))
def test_fit_always_fits_and_keeps_the_start(value):
    fitted = fit("last_message", value)
    assert fits("last_message", fitted)
    assert value.startswith(fitted.removesuffix(ELLIPSIS))


# -- text PostgreSQL cannot store ----------------------------------------------------------------

# The default PROVIDER_MAX_ANSWER_BYTES: none of these messages comes near it.
ANSWER_BYTES = 65536
UNSTORABLE_NOTE = "the answer held characters the database cannot store ({}): each replaced by U+FFFD"


# Any text, lone surrogates included, with NUL and surrogates often.
any_text = st.text(st.characters(exclude_categories=()) | st.sampled_from(["\x00", "\ud800", "\udc80", "\udfff"]))


@given(any_text)
def test_storable_text_always_encodes_and_holds_no_nul(value):
    stored = storable(value)
    stored.encode("utf-8")  # a lone surrogate would raise here, as the driver does
    assert "\x00" not in stored and len(stored) == len(value)
    if unstorable_characters(value) == []:
        assert stored == value


def test_nul_and_lone_surrogates_are_replaced_and_named():
    assert storable("still \x00 processing") == "still \ufffd processing"
    assert storable("bad \ud800 text") == "bad \ufffd text"
    assert unstorable_characters("a\x00b\udcff") == ["NUL", "lone surrogate"]
    assert unstorable_characters("İşlem başarılı 😀") == [] and storable(None) is None


def test_a_check_result_is_made_storable_with_a_note():
    result, note = storable_check_result(
        CheckResult(CheckState.IN_PROGRESS, message="still \x00 processing"), ANSWER_BYTES
    )
    assert result == CheckResult(CheckState.IN_PROGRESS, message="still \ufffd processing")
    assert note == UNSTORABLE_NOTE.format("NUL")
    error, note = storable_check_result(
        CheckResult(CheckState.PROVIDER_ERROR, code="8", message="x\ud83d"), ANSWER_BYTES
    )
    assert error.message == "x\ufffd" and note == UNSTORABLE_NOTE.format("lone surrogate")
    clean = CheckResult(CheckState.COMPLETED, pin="PIN-1", message="done")
    assert storable_check_result(clean, ANSWER_BYTES) == (clean, None)


def test_a_pin_is_never_altered_to_make_it_storable():
    result, note = storable_check_result(
        CheckResult(CheckState.COMPLETED, pin="ABCD\x00EFGH", message="ok"), ANSWER_BYTES
    )
    assert result.state == CheckState.MALFORMED and note is None
    assert result.message == "malformed answer: the PIN holds characters the database cannot store (NUL)"
    assert "ABCD" not in result.message


def test_a_place_answer_is_made_storable_and_an_unstorable_order_id_left_out():
    answer = PlaceResult(PlaceState.ACCEPTED, reference="70\x0001", message="accepted \x00")
    stored, note = storable_place_result(answer, ANSWER_BYTES)
    assert stored == PlaceResult(PlaceState.ACCEPTED, reference=None, message="accepted \ufffd")
    assert note == (
        UNSTORABLE_NOTE.format("NUL") + "; the provider's order id held characters the database cannot store (NUL): "
        "not stored"
    )


def test_a_message_longer_than_an_answer_may_be_is_cut_and_marked():
    result, note = storable_check_result(CheckResult(CheckState.FAILED, message="q" * 3000), 1024)
    assert result.message == "q" * 1024 + " [answer cut at 1024 bytes]" and note is None
