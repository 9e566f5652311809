"""The client API's webhook signature, version v1 (the platform's account page calls it so).

canonical = METHOD \n PATH \n TIMESTAMP \n NONCE \n hex(sha256(body)), no trailing newline;
signature = lowercase hex HMAC-SHA256(secret, canonical). METHOD is upper case, PATH the URL's
path only (no query). Pure: no Django.
"""

import hashlib
import hmac

VERSION = "v1"


def canonical(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The five lines the signature covers."""
    lines = (method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest())
    return "\n".join(lines).encode()


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The X-Webhook-Signature value of a delivery."""
    return hmac.new(secret.encode(), canonical(method, path, timestamp, nonce, body), hashlib.sha256).hexdigest()


def signature_matches(secret: str, given: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bool:
    """True when `given` is the signature of this delivery; compared in constant time."""
    expected = sign(secret, method, path, timestamp, nonce, body)
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode("utf-8", "replace"))
