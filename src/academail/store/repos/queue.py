"""The outbound queue's rows (tables.mail_queue): one per remote recipient.

Each row holds one reference on its message's blob (``blob_refs``), taken in the
same transaction that inserts it, so the garbage collector cannot take the bytes
of a message still waiting to leave.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from academail.store.repos.mail import add_blob_refs
from academail.store.tables import mail_queue

__all__ = ["QueueRow", "insert"]


@dataclass(frozen=True)
class QueueRow:
    id: int
    blob_key: str
    size: int
    sender: str
    recipient: str
    domain: str
    account_id: str | None
    state: str
    attempts: int
    created_at: dt.datetime
    next_attempt_at: dt.datetime
    expires_at: dt.datetime
    last_error: str


def row_of(row: Any) -> QueueRow:
    return QueueRow(
        row.id,
        row.blob_key,
        row.size,
        row.sender,
        row.recipient,
        row.domain,
        row.account_id,
        row.state,
        row.attempts,
        row.created_at,
        row.next_attempt_at,
        row.expires_at,
        row.last_error,
    )


def insert(
    conn: sa.Connection,
    *,
    blob_key: str,
    size: int,
    sender: str,
    recipients: Sequence[str],
    account_id: str | None,
    state: str,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> list[int]:
    """One row per recipient, each holding a reference on the blob; returns the ids."""
    ids: list[int] = []
    for recipient in recipients:
        domain = recipient.rpartition("@")[2].lower()
        result = conn.execute(
            mail_queue.insert().values(
                blob_key=blob_key,
                size=size,
                sender=sender,
                recipient=recipient,
                domain=domain,
                account_id=account_id,
                state=state,
                attempts=0,
                created_at=now,
                next_attempt_at=now,
                expires_at=expires_at,
                last_error="",
            )
        )
        inserted = result.inserted_primary_key
        if inserted is None:
            raise RuntimeError("the queue row got no id")
        ids.append(int(inserted[0]))
    if ids:
        add_blob_refs(conn, blob_key, size, len(ids))
    return ids
