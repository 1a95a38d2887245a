"""Rate limits of the self-service pages, counted in the database (fixed windows).

Why in the database and not in memory like :mod:`.throttle`: the self-service
limits protect the NUMEN + date of birth pair, which is guessable (a NUMEN has
8 free characters but is often known to colleagues; a birth date has ~20,000
values). A per-process counter would give an attacker the limit once per node and
forget it at each restart; a row per key in ``rate_counters`` is shared by every
node and survives restarts. The cost is one upsert per try, which these rare
pages can afford (the sign-in path, far hotter, keeps its in-memory throttle).

Keys carry no secret: an IP address, or a keyed HMAC of a NUMEN or identifier.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from academail.core.clock import Clock
from academail.store import Connection, Store
from academail.store import rate_counters as counter_repo

__all__ = ["Limit", "RateLimiter"]

_KEEP = dt.timedelta(days=1)  # longer than any window: older rows are dead


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` hits per ``window`` for each subject of the ``name`` family."""

    name: str
    limit: int
    window: dt.timedelta

    def key(self, subject: str) -> str:
        return f"{self.name}:{subject}"


class RateLimiter:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def hit_in(self, conn: Connection, limit: Limit, subject: str) -> bool:
        """Counts one hit inside the caller's unit of work; False when over the limit."""
        count = counter_repo.hit(conn, limit.key(subject), self._clock.now(), limit.window)
        return count <= limit.limit

    async def hit(self, limit: Limit, subject: str) -> bool:
        """Counts one hit in its own unit of work; False when over the limit."""
        return await self._store.run(lambda c: self.hit_in(c, limit, subject))

    def purge_in(self, conn: Connection) -> None:
        """Drops windows long over (called now and then by the pages that create rows)."""
        counter_repo.purge(conn, self._clock.now() - _KEEP)
