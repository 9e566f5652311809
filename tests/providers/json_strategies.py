"""What the apstore and internal parser tests share: JSON bodies, and the hypothesis strategies
of their property tests (providers.json_answers reads both families' answers)."""

import json

from hypothesis import strategies as st

# Any JSON value, nested a little: what a broken provider or proxy may send anywhere.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
# A PIN field's value: none, the "no PIN" markers, or any text.
pins = st.one_of(st.none(), st.just("-"), st.just(""), st.text(min_size=1, max_size=20))


def body(answer):
    return json.dumps(answer, ensure_ascii=False).encode("utf-8")


def spellings_of(words):
    """One of `words` in any letter case, or padded with blanks."""
    return st.sampled_from(list(words)).flatmap(
        lambda word: st.sampled_from([word, word.upper(), word.capitalize(), f" {word} "])
    )


def expected_pin(value):
    """The PIN a parser reads from a PIN field holding `value` (one of `pins`)."""
    return value.strip() if value and value.strip() not in ("", "-") else None
