"""The v1 signature: platform.md's worked example, a vector computed here step by step from the
documented algorithm, and properties over any delivery."""

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from hooks.signature import canonical, sign, signature_matches

EXAMPLE = {
    "secret": "test_secret_123",
    "method": "POST",
    "path": "/client/webhooks/order-status",
    "timestamp": "1736200000",
    "nonce": "11111111-2222-3333-4444-555555555555",
    "body": b'{"event":"order-status","event_id":"abc","status":"accept"}',
}


def test_the_worked_example_of_the_platform():
    assert hashlib.sha256(EXAMPLE["body"]).hexdigest() == (
        "d8eb872ca89b0319419f9f3b7dbd8975d30534d8f6fb0c1de12342fd8d043c97"
    )
    assert sign(**EXAMPLE) == "81e6ed34da995d5967173f96acc24aede4a33fbcd72b8398cfbe5ac0244b64dc"


def test_a_vector_computed_by_hand_from_the_documented_algorithm():
    secret = "0123456789abcdef0123456789abcdef0123456789abcdef"
    body = b'{"event":"order-status","order_id":"t-1","order_uuid":null,"status":"reject"}'
    body_hash = hashlib.sha256(body).hexdigest()
    # Five lines, upper-case method, the path without its query, no trailing newline.
    text = f"POST\n/hooks/internal/5b0c/\n1767225600\nnonce-1\n{body_hash}"
    expected = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()

    assert canonical("post", "/hooks/internal/5b0c/", "1767225600", "nonce-1", body) == text.encode()
    assert sign(secret, "post", "/hooks/internal/5b0c/", "1767225600", "nonce-1", body) == expected
    assert signature_matches(secret, expected.upper(), "POST", "/hooks/internal/5b0c/", "1767225600", "nonce-1", body)


# Header values and the path are text without lone surrogates (WSGI decodes them as Latin-1).
line = st.characters(blacklist_characters="\n", blacklist_categories=("Cs",))
delivery = st.fixed_dictionaries(
    {
        "secret": st.text(alphabet=line, min_size=1, max_size=64),
        "method": st.just("POST"),
        "path": st.text(alphabet=line, min_size=1, max_size=60),
        "timestamp": st.integers(min_value=0, max_value=10**10).map(str),
        "nonce": st.text(alphabet=line, min_size=1, max_size=40),
        "body": st.binary(max_size=300),
    }
)


@given(delivery)
def test_a_delivery_verifies_with_its_own_signature(parts):
    assert signature_matches(parts["secret"], sign(**parts), **{k: v for k, v in parts.items() if k != "secret"})


@given(delivery, st.sampled_from(["path", "timestamp", "nonce", "body", "secret"]))
def test_changing_any_signed_part_breaks_the_signature(parts, changed):
    signature = sign(**parts)
    altered = dict(parts)
    altered[changed] = parts[changed] + (b"x" if changed == "body" else "x")
    assert not signature_matches(altered["secret"], signature, **{k: v for k, v in altered.items() if k != "secret"})


@given(st.text(max_size=80))
def test_any_given_signature_text_is_compared_without_error(given_text):
    assert not signature_matches("s", given_text + "!", "POST", "/p", "1", "n", b"")
