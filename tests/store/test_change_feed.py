"""The change feed of mailboxes: in one process on both dialects, and across processes
on PostgreSQL (LISTEN/NOTIFY).

The cross-process tests open a second platform on the same PostgreSQL database, as a
second process or node would. They are parametrised on PostgreSQL only
(``@postgresql_only``): LISTEN/NOTIFY is a PostgreSQL feature, and a SQLite
deployment is one process by design, where the in-process tests above them apply.

No test waits for something *not* to happen: to show that an event came only once,
a sentinel notification is sent after it, and, PostgreSQL delivering notifications
in commit order, its arrival proves every earlier echo was already handled.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from academail.config import Settings
from academail.core.clock import FakeClock
from academail.mail import MailboxEvent
from academail.mail.feed import CHANNEL, MAX_WIRE_UIDS, RESYNC, encode_event
from academail.runtime import Platform, open_platform
from academail.store import Connection
from academail.store.notify import Backoff, PgListener, notify, start_listener
from tests.conftest import PG_ADMIN_URL
from tests.fixtures.agents import active_agent
from tests.store.test_mail_store import message

postgresql_only = pytest.mark.parametrize("backend", ["postgresql"])
SENTINEL_MAILBOX = 2**40  # no real mailbox has this id
WAIT = 20  # seconds: a guard against a hang, never an assertion


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _next(queue: asyncio.Queue[MailboxEvent]) -> MailboxEvent:
    return await asyncio.wait_for(queue.get(), WAIT)


async def _drained(platform: Platform, queue: asyncio.Queue[MailboxEvent]) -> list[MailboxEvent]:
    """What ``queue`` holds once every notification sent so far has been handled."""
    if platform.store.dialect == "postgresql":
        barrier = platform.mail.feed.subscribe(SENTINEL_MAILBOX)
        payload = encode_event(MailboxEvent(SENTINEL_MAILBOX, "flags", (1,), 1), "sentinel")
        await platform.store.run(lambda conn: notify(conn, CHANNEL, [payload]))
        assert (await _next(barrier)).mailbox_id == SENTINEL_MAILBOX
        platform.mail.feed.unsubscribe(SENTINEL_MAILBOX, barrier)
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


@pytest.fixture
async def other(
    platform: Platform, settings: Settings, clock: FakeClock
) -> AsyncIterator[Platform]:
    """A second platform on the same database and data directory: another process."""
    async with open_platform(settings, clock) as opened:
        yield opened


# -- in one process, both dialects ---------------------------------------------------------


async def test_local_subscribers_hear_each_change_exactly_once(platform: Platform):
    _l, account = await active_agent(platform)
    inbox = await platform.mail.mailbox(account, "INBOX")
    archives = await platform.mail.mailbox(account, "Archives")
    queue = platform.mail.feed.subscribe(inbox.id)
    copies = platform.mail.feed.subscribe(archives.id)
    first = await platform.mail.deliver([account], message(1))
    await platform.mail.append(account, "INBOX", message(2), ["\\Draft"])
    modseq = await platform.mail.set_flags(account, "INBOX", [1, 2], ["\\Seen"], "add")
    await platform.mail.copy(account, "INBOX", [1, 2], "Archives")
    await platform.mail.expunge(account, "INBOX", [1])
    events = await _drained(platform, queue)
    assert [(e.kind, e.uids) for e in events] == [
        ("append", (1,)),
        ("append", (2,)),
        ("flags", (1, 2)),
        ("expunge", (1,)),
    ]
    assert events[0].modseq == first.delivered[account].modseq
    assert events[2].modseq == modseq
    assert [(e.kind, e.uids) for e in await _drained(platform, copies)] == [("append", (1, 2))]


async def test_changes_that_change_nothing_tell_nobody(platform: Platform):
    _l, account = await active_agent(platform)
    await platform.mail.deliver([account], message(1))
    inbox = await platform.mail.mailbox(account, "INBOX")
    queue = platform.mail.feed.subscribe(inbox.id)
    await platform.mail.set_flags(account, "INBOX", [1], [], "add")
    await platform.mail.expunge(account, "INBOX")  # nothing is \Deleted
    await platform.mail.copy(account, "INBOX", [99], "Archives")
    assert await _drained(platform, queue) == []


async def test_an_unsubscribed_queue_hears_nothing_more(platform: Platform):
    _l, account = await active_agent(platform)
    inbox = await platform.mail.mailbox(account, "INBOX")
    kept, dropped = platform.mail.feed.subscribe(inbox.id), platform.mail.feed.subscribe(inbox.id)
    platform.mail.feed.unsubscribe(inbox.id, dropped)
    await platform.mail.deliver([account], message(1))
    assert [e.uids for e in await _drained(platform, kept)] == [(1,)]
    assert dropped.empty()


async def test_sqlite_has_no_listener_and_postgresql_one(platform: Platform):
    listener = await start_listener(
        platform.store,  # type: ignore[arg-type]
        {},
        on_listening=lambda: None,
        on_trouble=lambda exc: None,
    )
    try:
        assert (listener is None) == (platform.store.dialect == "sqlite")
    finally:
        if listener is not None:
            await listener.stop()


# -- across processes, PostgreSQL -----------------------------------------------------------


@postgresql_only
async def test_another_process_hears_append_flags_expunge(platform: Platform, other: Platform):
    _l, account = await active_agent(platform)
    inbox = await platform.mail.mailbox(account, "INBOX")
    archives = await platform.mail.mailbox(account, "Archives")
    local = platform.mail.feed.subscribe(inbox.id)
    remote = other.mail.feed.subscribe(inbox.id)
    remote_copies = other.mail.feed.subscribe(archives.id)
    await platform.mail.deliver([account], message(1))
    await platform.mail.append(account, "INBOX", message(2))
    await platform.mail.set_flags(account, "INBOX", [1, 2], ["\\Seen", "$Important"], "add")
    await platform.mail.copy(account, "INBOX", [1, 2], "Archives")
    await platform.mail.expunge(account, "INBOX", [2])
    heard = [await _next(remote) for _ in range(4)]
    assert [(e.kind, e.uids) for e in heard] == [
        ("append", (1,)),
        ("append", (2,)),
        ("flags", (1, 2)),
        ("expunge", (2,)),
    ]
    assert heard == await _drained(platform, local)  # the same events, MODSEQs included
    copied = await _next(remote_copies)
    assert (copied.kind, copied.uids) == ("append", (1, 2))
    assert await _drained(other, remote) == []


@postgresql_only
async def test_changes_in_either_process_reach_the_other_once(platform: Platform, other: Platform):
    _l, account = await active_agent(platform)
    inbox = await platform.mail.mailbox(account, "INBOX")
    here, there = platform.mail.feed.subscribe(inbox.id), other.mail.feed.subscribe(inbox.id)
    await other.mail.deliver([account], message(1))
    assert [(e.kind, e.uids) for e in await _drained(platform, here)] == [("append", (1,))]
    await platform.mail.set_flags(account, "INBOX", [1], ["\\Flagged"], "add")
    assert [(e.kind, e.uids) for e in await _drained(other, there)] == [
        ("append", (1,)),
        ("flags", (1,)),
    ]
    assert [(e.kind, e.uids) for e in await _drained(platform, here)] == [("flags", (1,))]


@postgresql_only
async def test_a_rolled_back_change_is_never_announced(platform: Platform, other: Platform):
    _l, account = await active_agent(platform)
    inbox = await platform.mail.mailbox(account, "INBOX")
    remote = other.mail.feed.subscribe(inbox.id)

    def work(conn: Connection) -> None:
        platform.mail.feed.stage(conn, [MailboxEvent(inbox.id, "append", (7,), 7)])
        raise LookupError("annulé")

    with pytest.raises(LookupError):
        await platform.store.run(work)
    assert await _drained(other, remote) == []


@postgresql_only
async def test_long_uid_lists_travel_compact_or_as_resync(platform: Platform, other: Platform):
    _l, account = await active_agent(platform)
    inbox = await platform.mail.mailbox(account, "INBOX")
    remote = other.mail.feed.subscribe(inbox.id)
    contiguous = MailboxEvent(inbox.id, "append", tuple(range(1, MAX_WIRE_UIDS + 1)), 40)
    scattered = MailboxEvent(inbox.id, "expunge", tuple(range(1, 1200, 2)), 41)
    too_scattered = MailboxEvent(inbox.id, "flags", tuple(range(1, 6000, 2)), 42)
    too_many = MailboxEvent(inbox.id, "append", tuple(range(1, MAX_WIRE_UIDS + 2)), 43)
    events = [contiguous, scattered, too_scattered, too_many]
    await platform.store.run(lambda conn: platform.mail.feed.stage(conn, events))
    heard = [await _next(remote) for _ in events]
    assert heard[:2] == [contiguous, scattered]
    assert heard[2:] == [
        MailboxEvent(inbox.id, RESYNC, (), 42),
        MailboxEvent(inbox.id, RESYNC, (), 43),
    ]


@postgresql_only
async def test_a_terminated_listener_reconnects_and_asks_for_a_resync(
    platform: Platform, other: Platform, settings: Settings
):
    _l, account = await active_agent(platform)
    inbox = await platform.mail.mailbox(account, "INBOX")
    remote = other.mail.feed.subscribe(inbox.id)
    admin = await asyncpg.connect(_dsn(PG_ADMIN_URL))
    try:
        terminated = await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity, pg_terminate_backend(pid) AS killed"
            " WHERE application_name = 'academail-listen' AND datname = $1 AND killed",
            _database(settings),
        )
    finally:
        await admin.close()
    assert terminated == 2  # both processes lost their LISTEN connection
    assert await _next(remote) == MailboxEvent(inbox.id, RESYNC, (), 0)
    await platform.mail.deliver([account], message(1))
    heard = await _next(remote)
    assert (heard.kind, heard.uids) == ("append", (1,))


@postgresql_only
async def test_the_listener_retries_with_backoff_until_the_database_returns(store_url: str):
    database = _database_of(store_url)
    troubles: list[Exception] = []
    retried, listening = asyncio.Event(), asyncio.Event()
    heard: list[str] = []
    arrived = asyncio.Event()
    sessions = 0

    def hear(payload: str) -> None:
        heard.append(payload)
        arrived.set()

    def trouble(exc: Exception) -> None:
        troubles.append(exc)
        if len(troubles) >= 3:  # the loss, then at least two refused attempts
            retried.set()

    def listened() -> None:
        nonlocal sessions
        sessions += 1
        if sessions == 2:
            listening.set()

    listener = PgListener(
        _dsn(store_url),
        {"academail_essai": hear},
        on_listening=listened,
        on_trouble=trouble,
        backoff=Backoff(first=0.01, longest=0.05),
        ping_every=0.05,
    )
    await listener.start()
    admin = await asyncpg.connect(_dsn(PG_ADMIN_URL))
    try:
        assert listener.listening and sessions == 1
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'academail-listen' AND datname = $1",
            database,
        )
        await asyncio.wait_for(retried.wait(), WAIT)
        assert not listening.is_set()
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        await asyncio.wait_for(listening.wait(), WAIT)
    finally:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        await admin.close()
    sender = await asyncpg.connect(_dsn(store_url))
    try:
        await sender.execute("SELECT pg_notify('academail_essai', 'bonjour Amiens')")
    finally:
        await sender.close()
    await asyncio.wait_for(arrived.wait(), WAIT)
    await listener.stop()
    assert heard == ["bonjour Amiens"]
    assert not listener.listening


def _database(settings: Settings) -> str:
    return _database_of(settings.database_url)


def _database_of(url: str) -> str:
    return url.rpartition("/")[2]
