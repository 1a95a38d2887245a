"""Putting a message in the outbound queue, durably, and operating the queue.

The bytes go to the blob store (fsync'd) and the rows commit (a group commit with
the other deliveries) before :meth:`MailQueue.enqueue` returns: the submission
listener answers 250 only after that, so an accepted message is never lost. In
capture mode (``queue.capture``: demo, tests) the rows are stored as ``captured``:
they are never sent, and an administrator reads them in the console.

The operator's actions (``academail queue list|retry|delete``) and the console's
list of captured mail are here too; the sending itself is :mod:`.worker`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from academail.blobs import FileBlobStore
from academail.config import Settings
from academail.core.clock import Clock
from academail.delivery.queue.captured import CapturedMail, read_captured
from academail.delivery.queue.dsn import Bouncer, Failure, Returned
from academail.delivery.router import MailRouter
from academail.store import Connection, Store
from academail.store import queue as queue_repo
from academail.store.repos.queue import CAPTURED, QUEUED, SENDING, QueueRow

__all__ = ["CAPTURED", "QUEUED", "SENDING", "Deleted", "MailQueue", "QueueEntry"]

log = structlog.get_logger(__name__)
DELETED_STATUS = "5.0.0"  # RFC 3463: other or undefined; an operator's decision


@dataclass(frozen=True)
class QueueEntry:
    """One recipient of one queued message, as an operator sees it (no content)."""

    id: int
    state: str  # queued | sending | captured
    sender: str  # "" for the null sender <>
    recipient: str
    attempts: int
    created_at: dt.datetime
    next_attempt_at: dt.datetime
    expires_at: dt.datetime
    last_error: str


@dataclass(frozen=True)
class Deleted:
    ids: list[int]
    dsns: int  # DSNs sent (with ``bounce``)


def _entry(row: QueueRow) -> QueueEntry:
    return QueueEntry(
        row.id,
        row.state,
        row.sender,
        row.recipient,
        row.attempts,
        row.created_at,
        row.next_attempt_at,
        row.expires_at,
        row.last_error,
    )


class MailQueue:
    def __init__(
        self, store: Store, blobs: FileBlobStore, clock: Clock, settings: Settings
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.clock = clock
        self.settings = settings
        # Called after each commit of new rows (the worker's wake-up): no polling
        # delay for mail submitted on this node.
        self.on_enqueued: list[Callable[[], None]] = []

    async def enqueue(
        self, sender: str, recipients: Sequence[str], raw: bytes, account_id: str | None
    ) -> None:
        wanted = list(dict.fromkeys(r for r in recipients if r))
        if not wanted:
            return
        key = await self.blobs.put(raw)
        now = self.clock.now()
        expires = now + dt.timedelta(hours=self.settings.queue.expiry_hours)
        state = CAPTURED if self.settings.queue.capture else QUEUED

        def work(conn: Connection) -> list[int]:
            return queue_repo.insert(
                conn,
                blob_key=key,
                size=len(raw),
                sender=sender,
                recipients=wanted,
                account_id=account_id,
                state=state,
                now=now,
                expires_at=expires,
            )

        await self.store.run_grouped(work)
        if not await self.blobs.exists(key):  # a garbage collection raced us
            await self.blobs.put(raw)
        if state == QUEUED:
            for listener in self.on_enqueued:
                listener()

    async def entries(self, states: Sequence[str] = (), limit: int = 1000) -> list[QueueEntry]:
        """The rows in the queue, oldest first (every state when ``states`` is empty)."""
        rows = await self.store.run(lambda c: queue_repo.list_rows(c, states, limit))
        return [_entry(r) for r in rows]

    async def retry(self, ids: Sequence[int] | None = None) -> list[int]:
        """Makes waiting rows due now (all with None); rows being sent are left alone.
        Returns the ids changed."""
        now = self.clock.now()
        changed = await self.store.run(lambda c: queue_repo.make_due(c, ids, now))
        if changed:
            for listener in self.on_enqueued:
                listener()
        return changed

    async def delete(self, ids: Sequence[int], bounce_via: MailRouter | None = None) -> Deleted:
        """Removes rows and gives back their blob references. With ``bounce_via``,
        their senders get a DSN first (one per message), except the null sender."""
        rows = await self.store.run(lambda c: queue_repo.get(c, ids))
        dsns = 0
        if bounce_via is not None:
            dsns = await self._bounce_deleted(rows, bounce_via)
        now = self.clock.now()
        gone = await self.store.run(lambda c: queue_repo.delete(c, [r.id for r in rows], now))
        return Deleted([r.id for r in gone], dsns)

    async def _bounce_deleted(self, rows: Sequence[QueueRow], router: MailRouter) -> int:
        bouncer = Bouncer(router, self.blobs, self.clock, self.settings.smtp.hostname)
        messages: dict[tuple[str, str, dt.datetime], list[QueueRow]] = {}
        for row in rows:
            if row.sender:
                messages.setdefault((row.blob_key, row.sender, row.created_at), []).append(row)
        sent = 0
        for (key, sender, arrival), group in messages.items():
            failures = [
                Failure(
                    r.recipient,
                    DELETED_STATUS,
                    "X-Academail; message supprime de la file par l'administrateur "
                    "(deleted from the queue by the administrator)",
                )
                for r in group
            ]
            headers = await bouncer.original_headers(key)
            sent += await bouncer.bounce(Returned(sender, arrival, headers), failures)
        return sent

    async def captured(self, limit: int = 100) -> list[CapturedMail]:
        """Mail kept by capture mode, newest first, one entry per message."""
        rows = await self.store.run(
            lambda c: queue_repo.list_rows(c, [CAPTURED], limit, newest_first=True)
        )
        return await read_captured(rows, self.blobs)
