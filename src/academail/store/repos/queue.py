"""The outbound queue's rows (tables.mail_queue): one per remote recipient.

Each row holds one reference on its message's blob (``blob_refs``), taken in the
same transaction that inserts it and given back in the transaction that deletes
the row (:func:`delete`), so the garbage collector cannot take the bytes of a
message still waiting to leave, and a delivered message's bytes are not kept.

States: ``queued`` (waiting for ``next_attempt_at``), ``sending`` (leased by a
worker until ``next_attempt_at``; a lease that ran out — a crashed node — is
claimed again) and ``captured`` (capture mode: never sent).

Claiming is one ``UPDATE … RETURNING`` whose condition is re-checked by the
database on the row it locks: two workers (other tasks, processes or nodes) that
race for the same due row cannot both get it. On PostgreSQL the inner select also
skips rows another transaction holds (``FOR UPDATE SKIP LOCKED``) instead of
waiting for them; SQLite has one writer at a time and ignores the clause.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from academail.store.repos.mail import add_blob_refs, zero_blobs
from academail.store.tables import mail_queue

__all__ = [
    "CAPTURED",
    "QUEUED",
    "SENDING",
    "QueueRow",
    "claim_due",
    "defer",
    "delete",
    "get",
    "insert",
    "list_rows",
    "make_due",
    "release",
    "row_of",
]

QUEUED = "queued"
SENDING = "sending"
CAPTURED = "captured"


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


def claim_due(
    conn: sa.Connection, now: dt.datetime, lease_until: dt.datetime, limit: int
) -> list[QueueRow]:
    """Leases up to ``limit`` due rows (queued and due, or a lease that ran out) until
    ``lease_until`` and returns them; rows another worker got first are not returned."""
    due = sa.and_(mail_queue.c.state.in_([QUEUED, SENDING]), mail_queue.c.next_attempt_at <= now)
    candidates = (
        sa.select(mail_queue.c.id)
        .where(due)
        .order_by(mail_queue.c.next_attempt_at, mail_queue.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = conn.execute(
        mail_queue.update()
        .where(mail_queue.c.id.in_(candidates.scalar_subquery()), due)
        .values(state=SENDING, next_attempt_at=lease_until)
        .returning(*mail_queue.c)
    )
    return sorted((row_of(r) for r in claimed), key=lambda r: r.id)


def defer(conn: sa.Connection, row_id: int, next_attempt_at: dt.datetime, error: str) -> bool:
    """One more failed attempt: back to ``queued`` until ``next_attempt_at``."""
    done = conn.execute(
        mail_queue.update()
        .where(mail_queue.c.id == row_id, mail_queue.c.state == SENDING)
        .values(
            state=QUEUED,
            attempts=mail_queue.c.attempts + 1,
            next_attempt_at=next_attempt_at,
            last_error=error[:500],
        )
    )
    return done.rowcount == 1


def release(conn: sa.Connection, leases: Mapping[int, dt.datetime], now: dt.datetime) -> int:
    """Gives back leases without counting an attempt (a worker stopping).

    ``leases`` maps each row to the lease this worker took (its claimed
    ``next_attempt_at``): a row whose lease ran out and that another worker claimed
    since has another lease, and is left to that worker.
    """
    released = 0
    for row_id, lease in sorted(leases.items()):
        done = conn.execute(
            mail_queue.update()
            .where(
                mail_queue.c.id == row_id,
                mail_queue.c.state == SENDING,
                mail_queue.c.next_attempt_at == lease,
            )
            .values(state=QUEUED, next_attempt_at=now)
        )
        released += int(done.rowcount)
    return released


def delete(conn: sa.Connection, ids: Sequence[int], now: dt.datetime) -> list[QueueRow]:
    """Deletes rows and gives back their blob references; returns the rows that this
    call deleted (a row already gone — deleted by an operator meanwhile — is not
    returned and its reference is not given back twice)."""
    if not ids:
        return []
    gone = [
        row_of(r)
        for r in conn.execute(
            mail_queue.delete().where(mail_queue.c.id.in_(list(ids))).returning(*mail_queue.c)
        )
    ]
    if gone:
        zero_blobs(conn, [r.blob_key for r in gone], now)
    return sorted(gone, key=lambda r: r.id)


def get(conn: sa.Connection, ids: Sequence[int]) -> list[QueueRow]:
    if not ids:
        return []
    rows = conn.execute(
        sa.select(mail_queue).where(mail_queue.c.id.in_(list(ids))).order_by(mail_queue.c.id)
    )
    return [row_of(r) for r in rows]


def list_rows(
    conn: sa.Connection, states: Sequence[str] = (), limit: int = 1000, newest_first: bool = False
) -> list[QueueRow]:
    query = sa.select(mail_queue).limit(limit)
    if states:
        query = query.where(mail_queue.c.state.in_(list(states)))
    order = mail_queue.c.id.desc() if newest_first else mail_queue.c.id
    return [row_of(r) for r in conn.execute(query.order_by(order))]


def make_due(conn: sa.Connection, ids: Sequence[int] | None, now: dt.datetime) -> list[int]:
    """Waiting rows (all of them if ``ids`` is None) become due now; leased rows are
    left alone (a worker is sending them). Returns the ids changed."""
    query = mail_queue.update().where(mail_queue.c.state == QUEUED)
    if ids is not None:
        if not ids:
            return []
        query = query.where(mail_queue.c.id.in_(list(ids)))
    changed = conn.execute(query.values(next_attempt_at=now).returning(mail_queue.c.id))
    return sorted(int(r.id) for r in changed)
