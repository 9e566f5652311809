"""How much provider work one admin click may do: a few items and a short deadline, so that a
click during a provider outage ends well within the web server's worker timeout."""

import time
from dataclasses import dataclass, field

from django.conf import settings


@dataclass
class ClickBudget:
    limit: int  # items (orders, integrations) one click handles at most
    seconds: float  # no new provider request starts after this
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def from_settings(cls) -> "ClickBudget":
        return cls(limit=settings.MONITOR_ADMIN_CHECK_LIMIT, seconds=settings.MONITOR_ADMIN_CHECK_SECONDS)

    def seconds_left(self) -> float:
        return self.started + self.seconds - time.monotonic()

    def describe(self, done: int, selected: int, verb: str, noun: str) -> str:
        """e.g. "Checked 5 of 7 selected orders (at most 5 per click, 10 s)." plus what is left."""
        text = f"{verb} {done} of {selected} selected {noun} (at most {self.limit} per click, {self.seconds:g} s)."
        if done < selected:
            text += f" {selected - done} not {verb.lower()}: select them again."
        return text
