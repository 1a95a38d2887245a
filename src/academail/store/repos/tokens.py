"""Single-use tokens (reset links, confirmation codes, "it wasn't me" links)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from academail.store.tables import one_time_tokens

__all__ = ["Token", "add", "bump_attempts", "consume", "live_of", "peek", "revoke_kind"]


@dataclass(frozen=True)
class Token:
    id_hash: str
    kind: str
    account_id: str
    expires_at: dt.datetime
    attempts: int
    data: dict[str, Any]


def add(
    conn: sa.Connection,
    id_hash: str,
    kind: str,
    account_id: str,
    now: dt.datetime,
    expires_at: dt.datetime,
    data: dict[str, Any] | None = None,
    attempts: int = 0,
) -> None:
    """A new token; ``attempts`` carries the wrong tries of the code it replaces."""
    conn.execute(
        one_time_tokens.insert().values(
            id_hash=id_hash,
            kind=kind,
            account_id=account_id,
            created_at=now,
            expires_at=expires_at,
            data=data or {},
            attempts=attempts,
        )
    )


def peek(conn: sa.Connection, id_hash: str, kind: str, now: dt.datetime) -> Token | None:
    """A live (unused, unexpired) token, without using it."""
    row = (
        conn.execute(
            sa.select(one_time_tokens).where(
                one_time_tokens.c.id_hash == id_hash,
                one_time_tokens.c.kind == kind,
                one_time_tokens.c.used_at.is_(None),
                one_time_tokens.c.expires_at > now,
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return Token(
        row["id_hash"],
        row["kind"],
        row["account_id"],
        row["expires_at"],
        row["attempts"],
        dict(row["data"]),
    )


def consume(conn: sa.Connection, id_hash: str, kind: str, now: dt.datetime) -> Token | None:
    """Uses a live token once: the UPDATE … WHERE used_at IS NULL makes it single-use
    even when two requests race."""
    token = peek(conn, id_hash, kind, now)
    if token is None:
        return None
    done = conn.execute(
        one_time_tokens.update()
        .where(one_time_tokens.c.id_hash == id_hash, one_time_tokens.c.used_at.is_(None))
        .values(used_at=now)
    )
    return token if done.rowcount == 1 else None


def bump_attempts(conn: sa.Connection, id_hash: str) -> None:
    conn.execute(
        one_time_tokens.update()
        .where(one_time_tokens.c.id_hash == id_hash)
        .values(attempts=one_time_tokens.c.attempts + 1)
    )


def revoke_kind(conn: sa.Connection, account_id: str, kind: str, now: dt.datetime) -> None:
    """Ends every live token of one kind for an account (a new code replaces the old)."""
    conn.execute(
        one_time_tokens.update()
        .where(
            one_time_tokens.c.account_id == account_id,
            one_time_tokens.c.kind == kind,
            one_time_tokens.c.used_at.is_(None),
        )
        .values(used_at=now)
    )


def live_of(conn: sa.Connection, account_id: str, kind: str, now: dt.datetime) -> list[Token]:
    rows = conn.execute(
        sa.select(one_time_tokens).where(
            one_time_tokens.c.account_id == account_id,
            one_time_tokens.c.kind == kind,
            one_time_tokens.c.used_at.is_(None),
            one_time_tokens.c.expires_at > now,
        )
    ).mappings()
    return [
        Token(
            r["id_hash"],
            r["kind"],
            r["account_id"],
            r["expires_at"],
            r["attempts"],
            dict(r["data"]),
        )
        for r in rows
    ]
