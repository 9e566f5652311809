"""What the apstore and internal parser tests share: JSON bodies, and the hypothesis strategies
of their property tests (providers.json_answers reads both families' answers)."""

import json
import re

from hypothesis import strategies as st

# Any JSON value, nested a little: what a broken provider or proxy may send anywhere.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)

# One code of a PIN: no line break, no blank at its ends, not the "-" placeholder.
codes = (
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=16)
    .map(str.strip)
    .filter(lambda code: code and code != "-")
)
_padding = st.sampled_from(["", " ", "  ", "\t"])


def _codes_as_text(parts):
    found, line_break, pad = parts
    return line_break.join(f"{pad}{code}{pad}" for code in found), "\n".join(found)


# (a PIN field's value, the PIN a parser reads from it): no PIN (None, "", "-", " - ", blanks),
# one code or several one a line (\n or \r\n, padded), a list of codes, a number.
pin_values = st.one_of(
    st.sampled_from([None, "", "-", " - ", "   ", []]).map(lambda value: (value, None)),
    st.tuples(st.lists(codes, min_size=1, max_size=3), st.sampled_from(["\n", "\r\n"]), _padding).map(_codes_as_text),
    st.lists(codes, min_size=1, max_size=3).map(lambda found: (found, "\n".join(found))),
    st.integers(min_value=0, max_value=10**12).map(lambda number: (number, str(number))),
)


def body(answer):
    return json.dumps(answer, ensure_ascii=False).encode("utf-8")


def spellings_of(words):
    """One of `words` in any letter case, or padded with blanks."""
    return st.sampled_from(list(words)).flatmap(
        lambda word: st.sampled_from([word, word.upper(), word.capitalize(), f" {word} "])
    )


def _word_key(word):
    return re.sub(r"[\s_-]+", "", word.lower())


def unknown_words(known):
    """Status words none of `known` (in any case, with or without blanks, "_", "-") spells."""
    keys = {_word_key(word) for word in known}
    return (
        st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)
        .map(str.strip)
        .filter(lambda word: word and _word_key(word) and _word_key(word) not in keys)
    )
