"""What every family's place answer shares: telling "this reference was used before" (the
provider has the order) from a refusal, and reading the price it charged."""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# HTTP 409 Conflict to a place request: the provider already has an order under our reference.
DUPLICATE_HTTP_STATUS = 409

# Turkish letters folded to the ASCII letters people type instead: "İ".lower() is "i̇" (with a
# combining dot) and "I".lower() is "i", not the Turkish "ı", so plain lower() misses matches.
_TURKISH_FOLD = str.maketrans("İIıÖöÜüŞşĞğÇç", "iiioouussggcc", "\u0307")
# znet: `4|Daha Önce Gönderilmiş (166189)` (its document, bill endpoint) and the older
# `6|Bu referans ile daha önce işlem yapılmış`; both say "before", which is what counts.
_SAYS_BEFORE = re.compile(r"\bdaha once\b")
_SAYS_ALREADY_USED = re.compile(r"\balready (?:been )?used\b")
# The client APIs: "order_uuid already used", "Duplicate order_uuid", "The order uuid has
# already been taken.": our reference named, and said to exist already.
_NAMES_REFERENCE = re.compile(r"\border[ _-]?uuid\b|\breferans\b|\breference\b")
_SAYS_EXISTS = re.compile(r"\b(?:already|duplicate|exists|taken|used)\b")


def fold(text: str) -> str:
    """`text` lower-cased with Turkish letters as ASCII and blanks collapsed, for matching words."""
    return " ".join(text.translate(_TURKISH_FOLD).lower().split())


def says_used_before(text: str) -> bool:
    """Whether a refusal says our reference was used before: the provider has that order, which
    must then be followed, never failed (failing it refunds an order the provider delivers)."""
    folded = fold(text or "")
    if _SAYS_BEFORE.search(folded) or _SAYS_ALREADY_USED.search(folded):
        return True
    return bool(_NAMES_REFERENCE.search(folded) and _SAYS_EXISTS.search(folded))


def amount_of(value: object) -> Decimal | None:
    """A price as the provider wrote it (a JSON number, "97.50", "97,50"), rounded half-up to
    0.01; None when it is not a finite amount of at least 0."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    text = str(value).strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        amount = Decimal(text)
        if not amount.is_finite() or amount < 0:
            return None
        return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # not a number, or too many digits to round
        return None
