"""Values written to the live table fit its declared sizes."""

from hypothesis import given
from hypothesis import strategies as st

from orders.columns import ELLIPSIS, fit, fits, max_length


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
