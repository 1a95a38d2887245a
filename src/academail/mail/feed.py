"""The change feed of mailboxes, within one process.

IMAP sessions on other connections (IDLE, NOOP) learn about new, changed and
expunged messages from here instead of polling the mailbox table. Each listener
gets an unbounded queue of small events; a slow listener cannot block delivery.
Across processes and nodes the same events will travel through PostgreSQL
``LISTEN/NOTIFY`` (a later issue); the in-process feed is what a single node needs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

__all__ = ["ChangeFeed", "MailboxEvent"]


@dataclass(frozen=True)
class MailboxEvent:
    mailbox_id: int
    kind: str  # "append" | "flags" | "expunge" | "rename" | "delete"
    uids: tuple[int, ...]
    modseq: int


class ChangeFeed:
    def __init__(self) -> None:
        self._listeners: dict[int, set[asyncio.Queue[MailboxEvent]]] = {}

    def subscribe(self, mailbox_id: int) -> asyncio.Queue[MailboxEvent]:
        queue: asyncio.Queue[MailboxEvent] = asyncio.Queue()
        self._listeners.setdefault(mailbox_id, set()).add(queue)
        return queue

    def unsubscribe(self, mailbox_id: int, queue: asyncio.Queue[MailboxEvent]) -> None:
        listeners = self._listeners.get(mailbox_id)
        if listeners is not None:
            listeners.discard(queue)
            if not listeners:
                del self._listeners[mailbox_id]

    def publish(self, event: MailboxEvent) -> None:
        for queue in self._listeners.get(event.mailbox_id, ()):
            queue.put_nowait(event)
