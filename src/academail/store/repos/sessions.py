"""Server-side web sessions (the cookie holds a random id; the table its SHA-256)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from academail.store.tables import web_sessions

__all__ = ["SessionRow", "create", "get", "list_for", "revoke", "revoke_all", "update"]


@dataclass(frozen=True)
class SessionRow:
    id_hash: str
    account_id: str | None
    generation: int
    stage: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    ip: str
    user_agent: str
    data: dict[str, Any]
    revoked_at: dt.datetime | None


def _row(r: Any) -> SessionRow:
    return SessionRow(
        r["id_hash"],
        r["account_id"],
        r["generation"],
        r["stage"],
        r["created_at"],
        r["last_seen_at"],
        r["expires_at"],
        r["ip"],
        r["user_agent"],
        dict(r["data"]),
        r["revoked_at"],
    )


def create(conn: sa.Connection, **values: Any) -> None:
    conn.execute(web_sessions.insert().values(csrf="", **values))


def get(conn: sa.Connection, id_hash: str) -> SessionRow | None:
    row = (
        conn.execute(sa.select(web_sessions).where(web_sessions.c.id_hash == id_hash))
        .mappings()
        .first()
    )
    return _row(row) if row else None


def update(conn: sa.Connection, id_hash: str, **values: Any) -> None:
    conn.execute(web_sessions.update().where(web_sessions.c.id_hash == id_hash).values(**values))


def list_for(conn: sa.Connection, account_id: str, now: dt.datetime) -> list[SessionRow]:
    rows = conn.execute(
        sa.select(web_sessions)
        .where(
            web_sessions.c.account_id == account_id,
            web_sessions.c.revoked_at.is_(None),
            web_sessions.c.expires_at > now,
        )
        .order_by(web_sessions.c.last_seen_at.desc())
    ).mappings()
    return [_row(r) for r in rows]


def revoke(conn: sa.Connection, id_hash: str, account_id: str, now: dt.datetime) -> bool:
    done = conn.execute(
        web_sessions.update()
        .where(web_sessions.c.id_hash == id_hash, web_sessions.c.account_id == account_id)
        .values(revoked_at=now)
    )
    return done.rowcount == 1


def revoke_all(
    conn: sa.Connection, account_id: str, now: dt.datetime, keep: str | None = None
) -> None:
    query = web_sessions.update().where(
        web_sessions.c.account_id == account_id, web_sessions.c.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(web_sessions.c.id_hash != keep)
    conn.execute(query.values(revoked_at=now))
