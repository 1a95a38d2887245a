"""Fixed-window counters shared by every node (rate limits by IP, by NUMEN key…).

One atomic upsert per hit (``INSERT … ON CONFLICT DO UPDATE … RETURNING``, on both
SQLite ≥ 3.35 and PostgreSQL), so two nodes counting the same key at once never
lose a hit nor both see a fresh window. Keys are opaque to this module; callers
never put a secret in them (a NUMEN appears only as a keyed HMAC).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from academail.store.tables import rate_counters

__all__ = ["count_of", "hit", "purge"]


def _insert(conn: sa.Connection) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(rate_counters)


def hit(conn: sa.Connection, key: str, now: dt.datetime, window: dt.timedelta) -> int:
    """Counts one hit on ``key``; returns the count in the current window, this hit included.

    A window starts at the first hit after the previous one ended (fixed windows:
    simple, and a burst at a window's edge gets at most twice the limit).
    """
    stale = rate_counters.c.window_start <= now - window
    statement = (
        _insert(conn)
        .values(key=key[:160], window_start=now, count=1)
        .on_conflict_do_update(
            index_elements=[rate_counters.c.key],
            set_={
                "count": sa.case((stale, 1), else_=rate_counters.c.count + 1),
                "window_start": sa.case((stale, now), else_=rate_counters.c.window_start),
            },
        )
        .returning(rate_counters.c.count)
    )
    return int(conn.execute(statement).scalar_one())


def count_of(conn: sa.Connection, key: str, now: dt.datetime, window: dt.timedelta) -> int:
    """The hits of the current window of ``key``, without counting one more."""
    found = conn.execute(
        sa.select(rate_counters.c.count).where(
            rate_counters.c.key == key[:160], rate_counters.c.window_start > now - window
        )
    ).scalar()
    return int(found or 0)


def purge(conn: sa.Connection, before: dt.datetime) -> int:
    """Forgets the windows that started before ``before``; returns how many."""
    done = conn.execute(rate_counters.delete().where(rate_counters.c.window_start < before))
    return int(done.rowcount or 0)
