"""Group commit for delivery: concurrent messages stored by one unit of work.

Each delivery must be durable before SMTP says 250, and each durable commit costs
an fsync (SQLite ``synchronous=FULL``) or a WAL flush and the NOTIFY lock
(PostgreSQL). One commit per message caps a server near a few hundred messages a
second whatever else is done. Here deliveries that arrive while a batch is being
stored wait and form the next batch: one transaction, a fixed handful of
set-based statements (store/repos/delivery.py), one commit — and each caller
still gets its own result. A quiet server stores each message alone, at once.

A batch that fails as a whole (a database error) is retried message by message,
so one poisoned delivery cannot fail the others.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from academail.blobs import FileBlobStore
from academail.core.errors import NotFound
from academail.mail.feed import ChangeFeed, MailboxEvent
from academail.mail.model import AppendResult, DeliveryResult, ParsedMessage
from academail.store import Connection, Store
from academail.store.repos import delivery as delivery_repo

__all__ = ["BATCH_LIMIT", "DeliveryBatcher", "DeliveryJob", "message_row"]

BATCH_LIMIT = 200  # messages per shared commit: bounds the transaction and the wait
QUOTA_FULL = "boîte aux lettres pleine : quota dépassé"


@dataclass
class DeliveryJob:
    account_ids: list[str]
    mailbox: str
    parsed: ParsedMessage
    raw: bytes
    blob_key: str
    received: dt.datetime
    ensure_inbox: Callable[[Connection, str], None]
    future: asyncio.Future[tuple[DeliveryResult, list[MailboxEvent]]] = field(repr=False)


@dataclass
class _Planned:
    job: DeliveryJob
    account_id: str
    mailbox_id: int


class DeliveryBatcher:
    def __init__(
        self,
        store: Store,
        blobs: FileBlobStore,
        feed: ChangeFeed,
        quota_limit: Callable[[str], int],
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._feed = feed
        self._quota_limit = quota_limit
        self._waiting: list[DeliveryJob] = []
        self._running: asyncio.Task[None] | None = None

    async def submit(self, job: DeliveryJob) -> tuple[DeliveryResult, list[MailboxEvent]]:
        self._waiting.append(job)
        if self._running is None:
            self._running = asyncio.ensure_future(self._drain())
        return await job.future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[:BATCH_LIMIT]
                del self._waiting[:BATCH_LIMIT]
                await self._store_batch(batch)
        finally:
            self._running = None

    async def _store_batch(self, batch: list[DeliveryJob]) -> None:
        try:
            outcomes = await self._store.run(lambda conn: self._work(conn, batch))
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0].future.done():
                    batch[0].future.set_exception(exc)
                return
            for job in batch:  # one by one: only the poisoned message fails
                await self._store_batch([job])
            return
        await self._restore_raced_blobs(batch)
        for job, outcome in zip(batch, outcomes, strict=True):
            if job.future.done():
                continue
            if isinstance(outcome, Exception):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(outcome)

    async def _restore_raced_blobs(self, batch: list[DeliveryJob]) -> None:
        """A garbage collection may have taken a blob between our write and our
        commit (the same bytes, unreferenced for long): now that the rows hold it,
        write it again. One check for the whole batch."""
        raws = {job.blob_key: job.raw for job in batch}
        for key in await self._blobs.missing(list(raws)):
            await self._blobs.put(raws[key])

    def _work(
        self, conn: Connection, batch: list[DeliveryJob]
    ) -> list[tuple[DeliveryResult, list[MailboxEvent]] | Exception]:
        boxes = self._mailboxes(conn, batch)
        usage = delivery_repo.usage_and_roles(conn, {a for j in batch for a in j.account_ids})
        used = {a: u for a, (u, _r, _h) in usage.items()}
        outcomes: list[tuple[DeliveryResult, list[MailboxEvent]] | Exception] = []
        planned: list[_Planned] = []
        for job in batch:
            result = DeliveryResult(job.blob_key)
            missing = [a for a in job.account_ids if (a, job.mailbox) not in boxes]
            if missing:
                outcomes.append(NotFound(f"dossier introuvable : {job.mailbox}"))
                continue
            for account in job.account_ids:
                role = usage.get(account, (0, "", False))[1]
                if used.get(account, 0) + job.parsed.size > self._quota_limit(role):
                    result.refused[account] = QUOTA_FULL
                    continue
                used[account] = used.get(account, 0) + job.parsed.size
                planned.append(_Planned(job, account, boxes[(account, job.mailbox)]))
            outcomes.append((result, []))
        self._insert(conn, planned, usage, outcomes, batch)
        return outcomes

    def _mailboxes(self, conn: Connection, batch: list[DeliveryJob]) -> dict[tuple[str, str], int]:
        pairs = {(a, j.mailbox) for j in batch for a in j.account_ids}
        boxes = delivery_repo.mailbox_ids(conn, pairs)
        absent_inboxes = {a for a, name in pairs - boxes.keys() if name == "INBOX"}
        if absent_inboxes:  # an account activated before mailboxes existed
            ensure = batch[0].ensure_inbox
            for account in sorted(absent_inboxes):
                ensure(conn, account)
            boxes = delivery_repo.mailbox_ids(conn, pairs)
        return boxes

    def _insert(
        self,
        conn: Connection,
        planned: list[_Planned],
        usage: dict[str, tuple[int, str, bool]],
        outcomes: list[tuple[DeliveryResult, list[MailboxEvent]] | Exception],
        batch: list[DeliveryJob],
    ) -> None:
        if not planned:
            return
        counts: dict[int, int] = {}
        for plan in planned:
            counts[plan.mailbox_id] = counts.get(plan.mailbox_id, 0) + 1
        allocated = delivery_repo.allocate(conn, counts)
        next_uid = {box: first for box, (first, _m, _v) in allocated.items()}
        rows = []
        uids = []
        for plan in planned:
            uid = next_uid[plan.mailbox_id]
            next_uid[plan.mailbox_id] = uid + 1
            uids.append(uid)
            rows.append(_row(plan, uid, allocated[plan.mailbox_id][1]))
        ids = delivery_repo.insert_messages(conn, rows)
        texts = [_search(i, p.job.parsed) for i, p in zip(ids, planned, strict=True)]
        delivery_repo.index_texts(conn, texts)
        deltas: dict[str, tuple[int, int]] = {}
        refs: dict[str, tuple[int, int]] = {}
        events: list[MailboxEvent] = []
        by_job = {id(job): index for index, job in enumerate(batch)}
        for plan, uid in zip(planned, uids, strict=True):
            size = plan.job.parsed.size
            b, m = deltas.get(plan.account_id, (0, 0))
            deltas[plan.account_id] = (b + size, m + 1)
            _s, count = refs.get(plan.job.blob_key, (size, 0))
            refs[plan.job.blob_key] = (size, count + 1)
            _first, modseq, uidvalidity = allocated[plan.mailbox_id]
            event = MailboxEvent(plan.mailbox_id, "append", (uid,), modseq)
            events.append(event)
            outcome = outcomes[by_job[id(plan.job)]]
            if not isinstance(outcome, Exception):
                outcome[0].delivered[plan.account_id] = AppendResult(
                    plan.mailbox_id, uidvalidity, uid, modseq
                )
                outcome[1].append(event)
        existing = [a for a, (_u, _r, has_row) in usage.items() if has_row]
        delivery_repo.add_usage(conn, deltas, existing)
        delivery_repo.add_blob_refs(conn, refs)
        self._feed.stage(conn, events)


def _row(plan: _Planned, uid: int, modseq: int) -> dict[str, object]:
    job = plan.job
    return message_row(job.parsed, plan.mailbox_id, uid, modseq, "", job.received, job.blob_key)


def message_row(
    parsed: ParsedMessage,
    mailbox_id: int,
    uid: int,
    modseq: int,
    flags: str,
    when: dt.datetime,
    blob_key: str,
) -> dict[str, object]:
    """The ``messages`` row of a stored message: its place, flags and its parse."""
    return {
        "mailbox_id": mailbox_id,
        "uid": uid,
        "modseq": modseq,
        "flags": flags,
        "internal_date": when,
        "size": parsed.size,
        "blob_key": blob_key,
        "subject": parsed.subject,
        "from_address": parsed.from_address,
        "to_addresses": parsed.to_addresses,
        "cc_addresses": parsed.cc_addresses,
        "message_id": parsed.message_id,
        "in_reply_to": parsed.in_reply_to,
        "references": parsed.references,
        "sent_at": parsed.sent_at,
        "has_attachments": parsed.has_attachments,
        "envelope": parsed.envelope,
        "body_structure": parsed.body_structure,
    }


def _search(message_id: int, parsed: ParsedMessage) -> dict[str, object]:
    addresses = " ".join((parsed.from_address, parsed.to_addresses, parsed.cc_addresses))
    return {
        "id": message_id,
        "subject": parsed.subject,
        "addresses": addresses,
        "body": parsed.text,
    }
