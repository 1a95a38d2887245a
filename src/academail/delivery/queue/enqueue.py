"""Putting a message in the outbound queue, durably.

The bytes go to the blob store (fsync'd) and the rows commit (a group commit with
the other deliveries) before :meth:`MailQueue.enqueue` returns: the submission
listener answers 250 only after that, so an accepted message is never lost. In
capture mode (``queue.capture``: demo, tests) the rows are stored as ``captured``:
they are never sent, and an administrator reads them in the console.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from academail.blobs import FileBlobStore
from academail.config import Settings
from academail.core.clock import Clock
from academail.store import Connection, Store
from academail.store import queue as queue_repo

__all__ = ["CAPTURED", "QUEUED", "MailQueue"]

QUEUED = "queued"
CAPTURED = "captured"


class MailQueue:
    def __init__(
        self, store: Store, blobs: FileBlobStore, clock: Clock, settings: Settings
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._clock = clock
        self._settings = settings

    async def enqueue(
        self, sender: str, recipients: Sequence[str], raw: bytes, account_id: str | None
    ) -> None:
        wanted = list(dict.fromkeys(r for r in recipients if r))
        if not wanted:
            return
        key = await self._blobs.put(raw)
        now = self._clock.now()
        expires = now + dt.timedelta(hours=self._settings.queue.expiry_hours)
        state = CAPTURED if self._settings.queue.capture else QUEUED

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

        await self._store.run_grouped(work)
        if not await self._blobs.exists(key):  # a garbage collection raced us
            await self._blobs.put(raw)
