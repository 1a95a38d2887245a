"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

__all__ = ["UtcDateTime"]


class UtcDateTime(sa.types.TypeDecorator[dt.datetime]):
    """An aware UTC datetime on both dialects.

    SQLite has no time zones and SQLAlchemy hands back naive values there, so the
    value is stored as naive UTC and read back as aware UTC; a naive value given to
    the store is a programming error, refused rather than guessed.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - only raw SQLite text
            value = dt.datetime.fromisoformat(value)
        if not isinstance(value, dt.datetime):
            raise TypeError("the database returned a non-datetime value")
        return value.replace(tzinfo=dt.UTC)
