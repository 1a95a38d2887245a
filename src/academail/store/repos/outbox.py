"""The notification outbox: mail and SMS waiting to be sent, or captured for reading."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from academail.store.tables import outbox

__all__ = ["OutboxMessage", "add", "latest", "mark_sent", "unsent_emails"]


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    channel: str
    recipient: str
    subject: str
    body: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


def add(
    conn: sa.Connection,
    channel: str,
    recipients: list[str],
    subject: str,
    body: str,
    now: dt.datetime,
) -> list[int]:
    """One row per recipient; returns their ids."""
    ids = []
    for recipient in recipients:
        result = conn.execute(
            outbox.insert().values(
                channel=channel, recipient=recipient, subject=subject, body=body, created_at=now
            )
        )
        inserted = result.inserted_primary_key
        if inserted is None:
            raise RuntimeError("the outbox row got no id")
        ids.append(int(inserted[0]))
    return ids


def mark_sent(conn: sa.Connection, ids: list[int], now: dt.datetime) -> None:
    if ids:
        conn.execute(outbox.update().where(outbox.c.id.in_(ids)).values(sent_at=now))


def unsent_emails(
    conn: sa.Connection, since: dt.datetime, before: dt.datetime, limit: int = 200
) -> list[OutboxMessage]:
    """E-mail rows never handed to the mail path (the process stopped first)."""
    query = (
        sa.select(outbox)
        .where(
            outbox.c.channel == "email",
            outbox.c.sent_at.is_(None),
            outbox.c.created_at >= since,
            outbox.c.created_at < before,
        )
        .order_by(outbox.c.id)
        .limit(limit)
    )
    return [
        OutboxMessage(r.id, r.channel, r.recipient, r.subject, r.body, r.created_at, r.sent_at)
        for r in conn.execute(query)
    ]


def latest(
    conn: sa.Connection, recipient: str | None = None, limit: int = 50
) -> list[OutboxMessage]:
    query = sa.select(outbox).order_by(outbox.c.id.desc()).limit(limit)
    if recipient is not None:
        query = query.where(outbox.c.recipient == recipient)
    return [
        OutboxMessage(r.id, r.channel, r.recipient, r.subject, r.body, r.created_at, r.sent_at)
        for r in conn.execute(query)
    ]
