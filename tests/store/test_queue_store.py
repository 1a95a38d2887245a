"""The outbound queue's rows on SQLite and PostgreSQL: leases, references, states."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from academail.blobs import blob_key
from academail.delivery import compose_text
from academail.delivery.queue import (
    Envelope,
    MailQueue,
    Outcome,
    QueueWorker,
    RecipientResult,
)
from academail.runtime import Platform
from academail.store import queue as queue_repo
from academail.store.tables import blob_refs, mail_queue

LEASE = dt.timedelta(minutes=30)


def _raw(platform: Platform, n: int = 0) -> bytes:
    return compose_text(
        "Jeanne Dupont <jeanne.dupont@ac-amiens.fr>",
        ["ami@example.net"],
        f"Message {n}",
        f"Texte {n}",
        platform.clock,
        "ac-amiens.fr",
    )


async def _refcount(platform: Platform, raw: bytes) -> int:
    key = blob_key(raw)
    found = await platform.store.run(
        lambda c: (
            c.execute(sa.select(blob_refs.c.refcount).where(blob_refs.c.blob_key == key))
            .scalars()
            .all()
        )
    )
    return int(found[0]) if found else 0


async def _claim(platform: Platform, limit: int = 100) -> list[queue_repo.QueueRow]:
    now = platform.clock.now()
    return await platform.store.run(lambda c: queue_repo.claim_due(c, now, now + LEASE, limit))


async def test_concurrent_claims_never_share_a_row(platform: Platform):
    for n in range(30):
        await platform.queue.enqueue(
            "jeanne.dupont@ac-amiens.fr", [f"a{n}@example.net"], _raw(platform, n), None
        )
    claims = await asyncio.gather(*(_claim(platform, 7) for _ in range(6)))
    ids = [row.id for claim in claims for row in claim]
    assert len(ids) == len(set(ids)) == 30
    assert all(row.state == "sending" for claim in claims for row in claim)
    assert await _claim(platform) == []  # all leased


async def test_an_expired_lease_is_claimed_again(platform: Platform, clock):
    await platform.queue.enqueue("", ["a@example.net"], _raw(platform), None)
    (first,) = await _claim(platform)
    clock.advance(LEASE - dt.timedelta(seconds=1))
    assert await _claim(platform) == []
    clock.advance(dt.timedelta(seconds=1))  # the worker died: its lease ran out
    (again,) = await _claim(platform)
    assert again.id == first.id and again.attempts == 0


async def test_defer_counts_the_attempt_and_retry_skips_rows_being_sent(platform: Platform, clock):
    raw = _raw(platform)
    await platform.queue.enqueue("", ["a@example.net", "b@example.net"], raw, None)
    first, second = await _claim(platform)
    later = clock.now() + dt.timedelta(minutes=5)
    assert await platform.store.run(lambda c: queue_repo.defer(c, first.id, later, "smtp; 451 x"))
    assert await platform.queue.retry() == [first.id]  # the other one is being sent
    rows = {e.id: e for e in await platform.queue.entries()}
    assert (rows[first.id].state, rows[first.id].attempts) == ("queued", 1)
    assert rows[first.id].next_attempt_at == clock.now()
    assert rows[first.id].last_error == "smtp; 451 x"
    assert rows[second.id].state == "sending"
    # A lease that is not the one held (another worker claimed the row since) stays.
    stale = {second.id: second.next_attempt_at - dt.timedelta(minutes=1)}
    assert await platform.store.run(lambda c: queue_repo.release(c, stale, clock.now())) == 0
    held = {second.id: second.next_attempt_at}
    released = await platform.store.run(lambda c: queue_repo.release(c, held, clock.now()))
    assert released == 1 and await platform.queue.retry([second.id]) == [second.id]


async def test_each_reference_is_given_back_once(platform: Platform):
    raw = _raw(platform)
    await platform.queue.enqueue("", ["a@example.net", "b@example.net"], raw, None)
    assert await _refcount(platform, raw) == 2
    ids = [e.id for e in await platform.queue.entries()]
    results = await asyncio.gather(*(platform.queue.delete(ids) for _ in range(3)))
    assert sorted(i for r in results for i in r.ids) == sorted(ids)  # each row deleted once
    assert await _refcount(platform, raw) == 0


class _Stuck:
    """A transport that never answers (a remote server that hangs)."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()

    async def deliver(self, envelope: Envelope) -> list[RecipientResult]:
        self.entered.set()
        await asyncio.Event().wait()
        return [RecipientResult(r, Outcome.DELIVERED, "2.0.0", "") for r in envelope.recipients]


async def _states(queue: MailQueue) -> Sequence[tuple[str, dt.datetime]]:
    return [(e.state, e.next_attempt_at) for e in await queue.entries()]


async def test_stopping_the_worker_gives_its_leases_back(platform: Platform, clock):
    await platform.queue.enqueue("", ["a@example.net"], _raw(platform), None)
    transport = _Stuck()
    worker = QueueWorker(platform.queue, transport, platform.router)
    worker.start()
    await asyncio.wait_for(transport.entered.wait(), 10)
    assert await _states(platform.queue) == [("sending", clock.now() + worker.lease)]
    await worker.stop()
    assert await _states(platform.queue) == [("queued", clock.now())]
    count = await platform.store.run(
        lambda c: c.execute(sa.select(sa.func.count()).select_from(mail_queue)).scalar_one()
    )
    assert count == 1


class _Slow:
    """A transport slower than the time a batch may take."""

    async def deliver(self, envelope: Envelope) -> list[RecipientResult]:
        await asyncio.sleep(30)
        return [RecipientResult(r, Outcome.DELIVERED, "2.0.0", "") for r in envelope.recipients]


async def test_a_batch_never_outlives_its_lease(platform: Platform, monkeypatch, clock):
    """The first transaction is cut at half the lease (an attempt, deferred); the
    second, still waiting for its turn, goes back to the queue untried."""
    one_at_a_time = dataclasses.replace(
        platform.settings, queue=dataclasses.replace(platform.settings.queue, concurrency=1)
    )
    queue = MailQueue(platform.store, platform.blobs, platform.clock, one_at_a_time)
    for n in range(2):
        await queue.enqueue("", [f"a{n}@example.net"], _raw(platform, n), None)
    monkeypatch.setattr(QueueWorker, "lease", property(lambda self: dt.timedelta(seconds=0.5)))
    report = await QueueWorker(queue, _Slow(), platform.router).run_once()
    assert (report.deferred, report.delivered) == (1, 0)
    first, second = await queue.entries()
    assert (first.state, first.attempts) == ("queued", 1)
    assert first.last_error == "X-Academail; delivery took too long (envoi trop long)"
    assert (second.state, second.attempts, second.next_attempt_at) == ("queued", 0, clock.now())
