"""The queue worker: sends due mail through a :class:`Transport`, retries, returns.

Each pass claims due rows with a lease (``store.queue.claim_due``: a row is
claimed by one worker only, whatever the number of tasks, processes or nodes),
groups the rows of one message and one domain into one SMTP transaction (at most
:data:`MAX_RECIPIENTS` recipients, the minimum RFC 5321 §4.5.3.1.8 lets a server
accept) and acts on each recipient's outcome:

* delivered: the row is deleted and its blob reference given back;
* deferred (4xx, no connection, timeout, DNS SERVFAIL): ``attempts`` + 1, next
  attempt after ``queue.retry_minutes`` (the last delay repeats), never later than
  the expiry, so the last attempt happens when the message expires; the error is
  kept for ``academail queue list`` (a remote reply, never message content);
* failed (5xx, no such domain, null MX) or deferred once the message expired
  (``queue.expiry_hours``): the sender gets one DSN per message listing every
  recipient that failed in the pass (RFC 3464; never to the null sender), then
  the rows are deleted.

Delivery is at least once: a lease outlives the bounded time of a transaction
(:attr:`QueueWorker.lease`), so a live worker never sees its rows taken, but a node
that dies after the remote ``250`` and before its commit leaves rows that are sent
again when the lease runs out. Clocks of several nodes must agree to well within
the lease (NTP).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from academail.core.errors import NotFound
from academail.delivery.queue.dsn import Bouncer, Failure, Returned
from academail.delivery.queue.enqueue import MailQueue
from academail.delivery.queue.transport import Envelope, Outcome, RecipientResult, Transport
from academail.delivery.router import MailRouter
from academail.store import Connection
from academail.store import queue as queue_repo
from academail.store.repos.queue import QueueRow

__all__ = ["MAX_RECIPIENTS", "POLL_SECONDS", "QueueWorker", "RunReport"]

log = structlog.get_logger(__name__)
MAX_RECIPIENTS = 100
BATCH = 200  # rows claimed per query
POLL_SECONDS = 15.0  # without a wake-up: mail queued by other nodes, retries coming due
LEASE_FLOOR = dt.timedelta(minutes=30)
MessageKey = tuple[str, str, dt.datetime]  # blob, sender, arrival: one enqueued message


@dataclass
class RunReport:
    """Counts of one :meth:`QueueWorker.run_once`, per recipient (DSNs per message)."""

    delivered: int = 0
    deferred: int = 0
    failed: int = 0
    dsns: int = 0


@dataclass
class _Returning:
    rows: list[QueueRow] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    expired: list[bool] = field(default_factory=list)


def _transactions(rows: Sequence[QueueRow]) -> list[list[QueueRow]]:
    """Rows of one message and domain together, at most :data:`MAX_RECIPIENTS` and
    never one address twice in a transaction (two identical messages queued at the
    same instant look like one)."""
    groups: dict[tuple[str, str, dt.datetime, str], list[list[QueueRow]]] = {}
    for row in rows:
        chunks = groups.setdefault((row.blob_key, row.sender, row.created_at, row.domain), [])
        for chunk in chunks:
            if len(chunk) < MAX_RECIPIENTS and all(r.recipient != row.recipient for r in chunk):
                chunk.append(row)
                break
        else:
            chunks.append([row])
    return [chunk for chunks in groups.values() for chunk in chunks]


def _all(recipients: Sequence[str], status: str, text: str) -> list[RecipientResult]:
    return [
        RecipientResult(r, Outcome.DEFERRED, status, f"X-Academail; {text}") for r in recipients
    ]


class QueueWorker:
    """Background sender of the outbound queue; one per process (several are safe)."""

    def __init__(self, queue: MailQueue, transport: Transport, router: MailRouter) -> None:
        self._queue = queue
        self._store = queue.store
        self._clock = queue.clock
        self._settings = queue.settings.queue
        self._transport = transport
        self._bouncer = Bouncer(router, queue.blobs, queue.clock, queue.settings.smtp.hostname)
        self._wake = asyncio.Event()
        self._in_flight: dict[int, dt.datetime] = {}  # row → the lease this worker holds
        self._task: asyncio.Task[None] | None = None

    @property
    def lease(self) -> dt.timedelta:
        """How long claimed rows stay ours: twice the time a batch may take."""
        return max(LEASE_FLOOR, dt.timedelta(seconds=40 * self._settings.timeout_seconds))

    def wake(self) -> None:
        """Runs a pass now (new mail queued here, or an operator's retry)."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self.run_forever(), name="outbound-queue"
        )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run_forever(self) -> None:
        """Passes until cancelled; leases of rows in progress are given back at the end."""
        self._queue.on_enqueued.append(self.wake)
        try:
            while True:
                self._wake.clear()
                try:
                    await self.run_once()
                except Exception:  # the database went away: the next pass retries
                    log.exception("outbound queue pass failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
        finally:
            self._queue.on_enqueued.remove(self.wake)
            await self._release()

    async def _release(self) -> None:
        leases, now = dict(self._in_flight), self._clock.now()
        self._in_flight.clear()
        if leases:
            try:
                await self._store.run(lambda c: queue_repo.release(c, leases, now))
            except Exception:  # the leases run out by themselves
                log.exception("queue leases not given back")

    async def run_once(self) -> RunReport:
        """Sends everything due now; returns what happened."""
        report = RunReport()
        while True:
            rows = await self._claim()
            if not rows:
                return report
            self._in_flight.update({r.id: r.next_attempt_at for r in rows})
            await self._process(rows, report)  # raises only when cancelled
            for row in rows:
                self._in_flight.pop(row.id, None)
            if len(rows) < BATCH:
                return report

    async def _claim(self) -> list[QueueRow]:
        now = self._clock.now()
        lease_until = now + self.lease
        return await self._store.run(lambda c: queue_repo.claim_due(c, now, lease_until, BATCH))

    async def _process(self, rows: Sequence[QueueRow], report: RunReport) -> None:
        returning: dict[MessageKey, _Returning] = {}
        limit = asyncio.Semaphore(max(1, self._settings.concurrency))
        # Every transaction of the batch ends by half the lease, even those that waited
        # for a turn: the rows are still ours when their outcome is recorded.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lease.total_seconds() / 2

        async def one(group: list[QueueRow]) -> None:
            async with limit:
                try:
                    if loop.time() >= deadline:  # no time left: back to the queue, untried
                        await self._give_back(group)
                        return
                    await self._attempt(group, report, returning, deadline)
                except Exception:  # rows stay leased and come back when the lease ends
                    log.exception("queue transaction not recorded", rows=[r.id for r in group])

        await asyncio.gather(*(one(group) for group in _transactions(rows)))
        for key, entry in returning.items():
            try:
                await self._return(key, entry, report)
            except Exception:
                log.exception("DSN not sent", rows=[r.id for r in entry.rows])

    async def _give_back(self, group: list[QueueRow]) -> None:
        leases, now = {r.id: r.next_attempt_at for r in group}, self._clock.now()
        await self._store.run(lambda c: queue_repo.release(c, leases, now))

    async def _attempt(
        self,
        group: list[QueueRow],
        report: RunReport,
        returning: dict[MessageKey, _Returning],
        deadline: float,
    ) -> None:
        first = group[0]
        recipients = [r.recipient for r in group]
        try:
            raw = await self._queue.blobs.get(first.blob_key)
        except NotFound:
            log.error("queued message unreadable", rows=[r.id for r in group])
            results = _all(recipients, "4.3.0", "message illisible (message unreadable)")
        else:
            envelope = Envelope(first.sender, recipients, first.domain, raw)
            results = await self._send(envelope, deadline)
        await self._record(group, results, report, returning)

    async def _send(self, envelope: Envelope, deadline: float) -> list[RecipientResult]:
        recipients = list(envelope.recipients)
        try:
            async with asyncio.timeout_at(deadline):
                results = await self._transport.deliver(envelope)
        except TimeoutError:
            return _all(recipients, "4.4.7", "delivery took too long (envoi trop long)")
        except Exception:
            log.exception("transport failed", domain=envelope.domain)
            return _all(recipients, "4.3.0", "internal error (erreur interne)")
        if [r.recipient for r in results] != recipients:
            log.error("transport results do not match the recipients", domain=envelope.domain)
            return _all(recipients, "4.3.0", "internal error (erreur interne)")
        return results

    def _next_attempt(self, row: QueueRow, now: dt.datetime) -> dt.datetime:
        delays = self._settings.retry_minutes or [5]
        delay = delays[min(row.attempts, len(delays) - 1)]
        return min(now + dt.timedelta(minutes=delay), row.expires_at)

    async def _record(
        self,
        group: list[QueueRow],
        results: list[RecipientResult],
        report: RunReport,
        returning: dict[MessageKey, _Returning],
    ) -> None:
        now = self._clock.now()
        delivered: list[int] = []
        deferred: list[tuple[int, dt.datetime, str]] = []
        for row, result in zip(group, results, strict=True):
            if result.outcome is Outcome.DELIVERED:
                delivered.append(row.id)
            elif result.outcome is Outcome.DEFERRED and now < row.expires_at:
                error = result.diagnostic or result.status
                deferred.append((row.id, self._next_attempt(row, now), error))
            else:
                entry = returning.setdefault(
                    (row.blob_key, row.sender, row.created_at), _Returning()
                )
                entry.rows.append(row)
                entry.failures.append(
                    Failure(row.recipient, result.status, result.diagnostic, result.remote_mta, now)
                )
                entry.expired.append(result.outcome is Outcome.DEFERRED)

        def work(conn: Connection) -> None:
            queue_repo.delete(conn, delivered, now)
            for row_id, at, error in deferred:
                queue_repo.defer(conn, row_id, at, error)

        await self._store.run(work)
        report.delivered += len(delivered)
        report.deferred += len(deferred)
        log.info(
            "queue transaction",
            domain=group[0].domain,
            delivered=len(delivered),
            deferred=len(deferred),
            failed=len(group) - len(delivered) - len(deferred),
            statuses=sorted({r.status for r in results}),
        )

    async def _return(self, key: MessageKey, entry: _Returning, report: RunReport) -> None:
        """The DSN first (its headers come from the blob the rows still hold), then
        the rows go: a crash in between sends the DSN again, never loses it."""
        blob_key, sender, arrival = key
        if sender:
            headers = await self._bouncer.original_headers(blob_key)
            returned = Returned(sender, arrival, headers)
            if await self._bouncer.bounce(returned, entry.failures, expired=all(entry.expired)):
                report.dsns += 1
        else:
            log.info("failed mail from the null sender dropped", rows=[r.id for r in entry.rows])
        now = self._clock.now()
        ids = [r.id for r in entry.rows]
        await self._store.run(lambda c: queue_repo.delete(c, ids, now))
        report.failed += len(entry.rows)
