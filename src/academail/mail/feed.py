"""The change feed of mailboxes: within one process, and across processes on PostgreSQL.

IMAP sessions on other connections (IDLE, NOOP) learn about new, changed and
expunged messages from here instead of polling the mailbox table. Each listener
gets an unbounded queue of small events; a slow listener cannot block delivery.

Across processes and nodes (PostgreSQL only; SQLite is one process):

* The mail store calls :meth:`ChangeFeed.stage` inside the unit of work that makes
  a change; the events leave as ``NOTIFY`` on :data:`CHANNEL` when, and only if,
  that transaction commits (``store/notify.py``).
* After the commit the mail store calls :meth:`ChangeFeed.publish`: the process's
  own subscribers get the full event at once, without a database round trip.
* Every process has one ``LISTEN`` connection (wired by ``runtime``) that hands
  each payload to :meth:`ChangeFeed.receive`. A payload carries the id of the feed
  that sent it, so a process drops its own echo: each event reaches each
  subscriber exactly once.
* When the listener has been away (PostgreSQL restart, failover, lost
  connection) it calls :meth:`ChangeFeed.resync_all`: every subscribed mailbox
  gets a ``resync`` event, since notifications sent meanwhile are lost.

A ``resync`` event carries no UIDs. It means "something may have changed that
this event does not list: re-read the mailbox since the MODSEQ you hold" (RFC
7162 CONDSTORE/QRESYNC give a session what it needs). Its ``modseq`` is the
mailbox's MODSEQ after the change when known, 0 after a reconnection.

Wire format (compact JSON, ASCII, always under PostgreSQL's 8000-byte limit)::

    {"o":"<feed id>","m":<mailbox id>,"k":"append","s":<modseq>,"u":"1:40,42"}

``u`` is the UID list as ascending ranges, like an IMAP sequence set; contiguous
UIDs (an append or COPY of many messages) take a few bytes whatever their number.
When the ranges would still not fit (an expunge of thousands of scattered UIDs),
or the list is longer than :data:`MAX_WIRE_UIDS`, other processes get a
``resync`` event with the same mailbox and MODSEQ instead; local subscribers
still get the full event.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from academail.observability import get_logger
from academail.store import Connection
from academail.store.notify import PAYLOAD_LIMIT, notify

__all__ = [
    "CHANNEL",
    "KINDS",
    "MAX_WIRE_UIDS",
    "RESYNC",
    "ChangeFeed",
    "MailboxEvent",
    "decode_event",
    "encode_event",
]

CHANNEL = "academail_mail"
RESYNC = "resync"
KINDS = frozenset({"append", "flags", "expunge", "rename", "delete", RESYNC})
# Beyond this many UIDs a remote subscriber re-reads the mailbox instead: it bounds
# what one payload can make a receiving process allocate.
MAX_WIRE_UIDS = 10_000
_MAX_UID = 2**32 - 1  # RFC 9051 §2.3.1.1: UIDs are 32-bit
_UID_SET = re.compile(r"[0-9]{1,10}(?::[0-9]{1,10})?(?:,[0-9]{1,10}(?::[0-9]{1,10})?)*")
_log = get_logger("academail.mail.feed")


@dataclass(frozen=True)
class MailboxEvent:
    """``kind`` is one of :data:`KINDS`; ``uids`` ascending; see the module docstring."""

    mailbox_id: int
    kind: str  # "append" | "flags" | "expunge" | "rename" | "delete" | "resync"
    uids: tuple[int, ...]
    modseq: int


class ChangeFeed:
    def __init__(self) -> None:
        self._listeners: dict[int, set[asyncio.Queue[MailboxEvent]]] = {}
        # Tells this feed's own notifications apart from other processes'.
        self.origin = secrets.token_hex(8)

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
        """Tells this process's subscribers; call it after the change committed."""
        for queue in self._listeners.get(event.mailbox_id, ()):
            queue.put_nowait(event)

    def stage(self, conn: Connection, events: Sequence[MailboxEvent]) -> None:
        """Inside the unit of work: other processes hear of ``events`` at its commit."""
        if events:
            notify(conn, CHANNEL, [encode_event(event, self.origin) for event in events])

    def receive(self, payload: str) -> None:
        """A notification from the ``LISTEN`` connection: our own echo is dropped."""
        try:
            origin, event = decode_event(payload)
        except ValueError as exc:
            _log.warning("mail.feed.bad_payload", reason=str(exc), length=len(payload))
            return
        if origin != self.origin:
            self.publish(event)

    def resync_all(self) -> None:
        """After the listener was away: every subscribed mailbox must re-read."""
        for mailbox_id in list(self._listeners):
            self.publish(MailboxEvent(mailbox_id, RESYNC, (), 0))

    def listener_trouble(self, exc: Exception) -> None:
        """Logs a failure of the ``LISTEN`` connection (it keeps retrying by itself)."""
        _log.warning("mail.feed.listener_trouble", error=type(exc).__name__, detail=str(exc)[:200])


def encode_event(event: MailboxEvent, origin: str) -> str:
    """The compact payload of ``event``, a ``resync`` when the UIDs do not fit."""
    head: dict[str, Any] = {"o": origin, "m": event.mailbox_id, "k": event.kind, "s": event.modseq}
    if event.uids and len(event.uids) <= MAX_WIRE_UIDS:
        payload = _dumps({**head, "u": _uid_ranges(event.uids)})
        if len(payload) < PAYLOAD_LIMIT:
            return payload
    if not event.uids:
        return _dumps(head)
    return _dumps({**head, "k": RESYNC})


def decode_event(payload: str) -> tuple[str, MailboxEvent]:
    """``(origin, event)``; raises ValueError on anything malformed."""
    try:
        data = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise ValueError("not JSON") from exc
    if not isinstance(data, dict):
        raise ValueError("not an object")
    origin, mailbox_id, kind = data.get("o"), data.get("m"), data.get("k")
    modseq, uid_set = data.get("s"), data.get("u", "")
    if not isinstance(origin, str) or not 0 < len(origin) <= 64:
        raise ValueError("bad origin")
    if not _is_count(mailbox_id) or mailbox_id < 1 or not _is_count(modseq):
        raise ValueError("bad mailbox or modseq")
    if kind not in KINDS or not isinstance(uid_set, str):
        raise ValueError("bad kind or uids")
    uids = _parse_ranges(uid_set)
    if uids is None:
        return origin, MailboxEvent(mailbox_id, RESYNC, (), modseq)
    return origin, MailboxEvent(mailbox_id, kind, uids, modseq)


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


def _is_count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _uid_ranges(uids: Iterable[int]) -> str:
    ordered = sorted(set(uids))
    runs: list[str] = []
    start = previous = ordered[0]
    for uid in ordered[1:] + [0]:  # 0 is never a UID: it closes the last run
        if uid == previous + 1:
            previous = uid
            continue
        runs.append(str(start) if start == previous else f"{start}:{previous}")
        start = previous = uid
    return ",".join(runs)


def _parse_ranges(text: str) -> tuple[int, ...] | None:
    """The UIDs of ``text``; None when they are too many to expand."""
    if not text:
        return ()
    if _UID_SET.fullmatch(text) is None:
        raise ValueError("bad uid set")
    bounds: list[tuple[int, int]] = []
    total = 0
    for part in text.split(","):
        low, _, high = part.partition(":")
        first, last = int(low), int(high or low)
        if not 1 <= first <= last <= _MAX_UID:
            raise ValueError("bad uid range")
        total += last - first + 1
        if total > MAX_WIRE_UIDS:
            return None
        bounds.append((first, last))
    return tuple(sorted({uid for first, last in bounds for uid in range(first, last + 1)}))
