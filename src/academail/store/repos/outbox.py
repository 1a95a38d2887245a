"""The notification outbox: mail and SMS waiting to be sent, or captured for reading."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from academail.store.tables import outbox

__all__ = ["OutboxMessage", "add", "latest"]


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
) -> None:
    conn.execute(
        outbox.insert(),
        [
            {
                "channel": channel,
                "recipient": r,
                "subject": subject,
                "body": body,
                "created_at": now,
            }
            for r in recipients
        ],
    )


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
