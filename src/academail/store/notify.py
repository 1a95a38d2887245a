"""Cross-process notifications on PostgreSQL: ``NOTIFY`` in a unit of work, one ``LISTEN``.

Several processes (and nodes) share one PostgreSQL; what one of them changes, the
others must hear of without polling (an IMAP session in IDLE on another node).

* **Sending**: :func:`notify` queues ``pg_notify`` inside the caller's unit of work,
  so PostgreSQL sends the payloads at commit and only if the transaction commits:
  no listener hears of a change that was rolled back, none misses one that
  committed while the sender stayed up. The cost, measured on 2 cores with 32
  concurrent writers: about half the commits per second of the same transactions
  without ``NOTIFY`` (PostgreSQL serialises notifying commits, WAL flush included,
  under one cluster-wide lock), so grouping writes into fewer transactions pays
  twice. On SQLite it does nothing: one process, whose in-process feed already
  told everyone.
* **Receiving**: :class:`PgListener` keeps one dedicated asyncpg connection per
  process (never a pooled one, and never through a transaction-pooling bouncer:
  ``LISTEN`` belongs to a session). It hands each payload to the handler of its
  channel, pings the connection now and then so a silent network loss is noticed,
  and reconnects with exponential backoff and jitter after a loss (PostgreSQL
  restart, failover, ``pg_terminate_backend``). Notifications sent while it was
  not listening are gone: ``on_listening`` runs after every successful ``LISTEN``
  so the caller can tell its subscribers to re-read what they hold.

A payload must stay under :data:`PAYLOAD_LIMIT` bytes; callers keep it compact.
Payloads come from our own processes through the database, and still the handler
validates them before use.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import asyncpg
import sqlalchemy as sa

from academail.store.engine import PostgresStore, SqliteStore

__all__ = ["PAYLOAD_LIMIT", "Backoff", "PgListener", "notify", "start_listener"]

# PostgreSQL refuses a payload of 8000 bytes or more (default BLCKSZ).
PAYLOAD_LIMIT = 8000

_SQLALCHEMY_QUERY_KEYS = ("prepared_statement_cache_size", "prepared_statement_name_func")
_NOTIFY_ALL = sa.text("SELECT pg_notify(:channel, p) FROM unnest(CAST(:payloads AS text[])) AS p")


def notify(conn: sa.Connection, channel: str, payloads: Sequence[str]) -> None:
    """Queues ``payloads`` on ``channel``, sent when this unit of work commits.

    One round trip whatever their number. PostgreSQL folds identical payloads of
    one transaction into one, so each payload should name what changed (a MODSEQ).
    """
    if payloads and conn.dialect.name == "postgresql":
        conn.execute(_NOTIFY_ALL, {"channel": channel, "payloads": list(payloads)})


@dataclass(frozen=True)
class Backoff:
    """Seconds between reconnection attempts: ``first``, doubling up to ``longest``.

    Each wait is drawn between half and all of the current step, so processes that
    lost the database together do not all knock at the same instant.
    """

    first: float = 0.2
    longest: float = 15.0

    def wait(self, step: float) -> float:
        return step * (0.5 + secrets.randbelow(501) / 1000)

    def next(self, step: float) -> float:
        return min(step * 2, self.longest)


class PgListener:
    """The one ``LISTEN`` connection of a process; see the module docstring.

    ``handlers`` maps a channel to a plain function of the payload, called on the
    event loop (keep it short; it must not block). ``on_trouble`` receives every
    failure (connection refused, lost, a handler that raised) for the caller to log;
    the listener itself never gives up until :meth:`stop`.
    """

    def __init__(
        self,
        dsn: str,
        handlers: Mapping[str, Callable[[str], None]],
        *,
        on_listening: Callable[[], None],
        on_trouble: Callable[[Exception], None],
        backoff: Backoff | None = None,
        ping_every: float = 30.0,
        timeout: float = 10.0,
    ) -> None:
        self._dsn = dsn
        self._handlers = dict(handlers)
        self._on_listening = on_listening
        self._on_trouble = on_trouble
        self._backoff = backoff or Backoff()
        self._ping_every = ping_every
        self._timeout = timeout
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._first_attempt = asyncio.Event()

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def start(self) -> None:
        """Returns once the first attempt is over, successful or not; retries go on
        in the background. So a process that starts beside a healthy database is
        already listening when it begins to serve, and one that starts during a
        failover is not held up."""
        if self._task is not None:
            raise RuntimeError("listener already started")
        self._task = asyncio.create_task(self._run(), name="academail-listen")
        await self._first_attempt.wait()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close()

    async def _run(self) -> None:
        step = self._backoff.first
        while True:
            try:
                lost = await self._listen()
            except Exception as exc:  # refused, timed out, auth, LISTEN failed: retry
                self._first_attempt.set()
                self._on_trouble(exc)
                await asyncio.sleep(self._backoff.wait(step))
                step = self._backoff.next(step)
                continue
            step = self._backoff.first
            self._first_attempt.set()
            self._report(self._on_listening)
            await self._watch(lost)
            await self._close()
            self._on_trouble(ConnectionResetError("LISTEN connection lost"))

    async def _listen(self) -> asyncio.Event:
        conn = await asyncpg.connect(
            self._dsn,
            timeout=self._timeout,
            server_settings={"application_name": "academail-listen"},
        )
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        try:
            for channel in self._handlers:
                await conn.add_listener(channel, self._dispatch)
        except BaseException:
            conn.terminate()
            raise
        self._conn = conn
        return lost

    async def _watch(self, lost: asyncio.Event) -> None:
        """Returns when the connection is gone, or silent to a ping."""
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), self._ping_every)
                return
            conn = self._conn
            if conn is None or conn.is_closed():
                return
            try:
                await conn.execute("SELECT 1", timeout=self._timeout)
            except Exception as exc:  # the ping failed: the connection is unusable
                self._on_trouble(exc)
                return

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None or conn.is_closed():
            return
        try:
            await conn.close(timeout=self._timeout)
        except Exception as exc:  # a dead peer: drop the socket instead
            self._on_trouble(exc)
            conn.terminate()

    def _dispatch(self, _conn: object, _pid: int, channel: str, payload: str) -> None:
        handler = self._handlers.get(channel)
        if handler is not None:
            self._report(lambda: handler(payload))

    def _report(self, call: Callable[[], None]) -> None:
        try:
            call()
        except Exception as exc:  # a handler's bug must not stop the listener
            self._on_trouble(exc)


async def start_listener(
    store: SqliteStore | PostgresStore,
    handlers: Mapping[str, Callable[[str], None]],
    *,
    on_listening: Callable[[], None],
    on_trouble: Callable[[Exception], None],
) -> PgListener | None:
    """Starts the listener of a PostgreSQL store; ``None`` on SQLite (one process)."""
    if not isinstance(store, PostgresStore):
        return None
    # asyncpg reads unknown query keys as server settings: drop SQLAlchemy's own.
    url = store.engine.url.set(drivername="postgresql").difference_update_query(
        _SQLALCHEMY_QUERY_KEYS
    )
    listener = PgListener(
        url.render_as_string(hide_password=False),
        handlers,
        on_listening=on_listening,
        on_trouble=on_trouble,
    )
    await listener.start()
    return listener
