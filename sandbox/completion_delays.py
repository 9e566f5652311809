"""How long after it was placed a sandbox order completes, drawn from a named mix of
completion times (the mixes of docs/PERFORMANCE.md, "PIN latency"). Pure: no Django.

A mix is a list of (share, from, to): that share of the orders completes between `from` and
`to` seconds after it was placed, uniformly.
"""

import random

Mix = tuple[tuple[float, float, float], ...]

REFERENCE_MIX: Mix = ((0.70, 5, 30), (0.25, 30, 300), (0.05, 300, 7200))
SLOW_PROVIDER_MIX: Mix = ((0.50, 60, 300), (0.40, 300, 1800), (0.10, 1800, 10800))
BIMODAL_MIX: Mix = ((0.60, 2, 10), (0.40, 180, 900))
# `make demo`: every order final within seconds, so the demo sees each one's event.
DEMO_MIX: Mix = ((1.0, 2, 8),)

MIXES: dict[str, Mix] = {
    "reference": REFERENCE_MIX,
    "slow": SLOW_PROVIDER_MIX,
    "bimodal": BIMODAL_MIX,
    "demo": DEMO_MIX,
}


def draw(mix: Mix, count: int, rng: random.Random) -> list[float]:
    """`count` completion times (seconds after placing) drawn from `mix`."""
    parts = rng.choices(mix, weights=[share for share, _, _ in mix], k=count)
    return [rng.uniform(low, high) for _, low, high in parts]
