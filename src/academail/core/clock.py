"""Time as a dependency.

Everything that expires (temporary passwords, lockouts, grace periods, queue
retries) reads the time from a :class:`Clock` passed in, so tests move a
:class:`FakeClock` forward instead of sleeping (style.md §14). Times are aware
datetimes in UTC; they are shown in Europe/Paris at the edges.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

__all__ = ["PARIS", "Clock", "FakeClock", "SystemClock", "to_paris"]

PARIS = ZoneInfo("Europe/Paris")


class Clock(Protocol):
    """A source of the current time (aware, UTC)."""

    def now(self) -> dt.datetime: ...

    def today(self) -> dt.date:
        """The current date in Europe/Paris, where duty dates are meant."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        return self.now().astimezone(PARIS).date()


class FakeClock:
    """A clock that only moves when told to; for tests and simulations."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        start = start or dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC)
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def today(self) -> dt.date:
        return self._now.astimezone(PARIS).date()

    def advance(self, delta: dt.timedelta) -> None:
        if delta < dt.timedelta(0):
            raise ValueError("time does not go backwards")
        self._now += delta

    def set(self, when: dt.datetime) -> None:
        self._now = when.astimezone(dt.UTC)


def to_paris(when: dt.datetime) -> dt.datetime:
    """Shows a stored UTC time in the académie's time zone."""
    return when.astimezone(PARIS)
