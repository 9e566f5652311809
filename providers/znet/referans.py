"""znet's `referans`: the id pin_ekle.php files an order under and pin_kontrol.php asks about.

znet's document calls it a unique id (`Tekil Id`, example `123456`), and the platform notes that
znet may not accept UUIDs: both platform implementations send digits only, a millisecond
timestamp followed by random digits, and so does the monitor.
"""

import secrets
import time

RANDOM_DIGITS = 6


def new_referans() -> str:
    """A new referans: the Unix time in milliseconds (13 digits) and RANDOM_DIGITS random digits.
    Two orders placed in the same millisecond still differ unless the random digits collide;
    dispatch_order also checks that no order holds it yet."""
    milliseconds = time.time_ns() // 1_000_000
    return f"{milliseconds}{secrets.randbelow(10**RANDOM_DIGITS):0{RANDOM_DIGITS}d}"
