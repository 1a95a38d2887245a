"""Opening the database and running units of work, one hop each.

Shape (decided with ``bench/store_shape.py``, recorded in
``docs/adr/0001-store-shape.md``): a repository operation is a plain synchronous
function of a SQLAlchemy Core :class:`~sqlalchemy.Connection`; :meth:`Store.run`
runs one such function as one transaction.

* **SQLite**: the function runs on one dedicated thread with a synchronous
  connection: one thread hop per business operation instead of one (or three) per
  statement, and a single writer, which is what SQLite wants anyway. The file is in
  WAL mode with ``synchronous=FULL`` (in WAL, NORMAL may lose the last committed
  transactions on power loss) and transactions start with ``BEGIN IMMEDIATE`` so a
  second process (the CLI beside a running server) waits instead of failing on a
  lock upgrade.
* **PostgreSQL**: the same function runs through SQLAlchemy's asyncio bridge
  (``run_sync`` over asyncpg): each statement is a network round trip, so the
  functions stay set-based.

The event loop never blocks on the database: SQLite work is on its thread, asyncpg
is asynchronous.

Both engines are created with ``hide_parameters=True``: an error's text carries the
SQL but never the bound values (names, dates of birth, hashes). The SQLite file and
its ``-wal``/``-shm`` companions are private to the service account (0600): the file
is created with that mode before SQLite opens it (SQLite gives its companions the
database file's mode), and modes left looser by an older version are tightened at
each connection.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["DatabaseError", "Connection", "Store", "normalise_url", "open_store"]

T = TypeVar("T")
Connection = sa.Connection
# Every failure of the database layer, for the edges that must report one without
# importing SQLAlchemy themselves (the CLI maps it to a message and exit code 1).
DatabaseError = sa.exc.SQLAlchemyError


class Store(Protocol):
    """Where every unit of work runs; the only door to the database."""

    dialect: str

    async def run(self, work: Callable[[sa.Connection], T]) -> T:
        """Runs ``work`` in one transaction; commits if it returns, rolls back if it raises."""
        ...

    async def run_grouped(self, work: Callable[[sa.Connection], T]) -> T:
        """Like :meth:`run`, for many small concurrent writes that each must be durable
        before their caller answers (SMTP's 250): callers may share one commit.

        ``work`` runs in its own savepoint, so one that raises is undone alone and
        its caller gets the exception; the others still commit.
        """
        ...

    async def close(self) -> None: ...


def normalise_url(url: str) -> str:
    """Accepts ``postgresql://`` and ``postgres://`` and picks the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


class SqliteStore:
    """SQLite through one dedicated thread running synchronous Core."""

    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        self._engine = sa.create_engine(url, pool_size=1, max_overflow=0, hide_parameters=True)
        path = sa.engine.make_url(url).database
        if path and path != ":memory:" and not path.startswith("file:"):
            _private_files(Path(path), create=True)
            on_connect = functools.partial(_sqlite_on_connect, Path(path))
        else:
            on_connect = functools.partial(_sqlite_on_connect, None)
        event.listen(self._engine, "connect", on_connect)
        event.listen(self._engine, "begin", _sqlite_on_begin)
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sqlite")
        self._waiting: list[tuple[Callable[[sa.Connection], Any], asyncio.Future[Any]]] = []
        self._grouping: asyncio.Task[None] | None = None

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    async def run(self, work: Callable[[sa.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._run_sync, work)

    async def run_grouped(self, work: Callable[[sa.Connection], T]) -> T:
        """Group commit: with ``synchronous=FULL`` each commit costs an fsync (about a
        millisecond here), so one commit per message caps delivery near a thousand a
        second whatever else is done. Works that arrive while a group is committing
        wait and form the next group: one fsync for all of them. A quiet server runs
        each work alone, as :meth:`run` would.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, future))
        if self._grouping is None:
            self._grouping = asyncio.ensure_future(self._commit_groups())
        return await future

    async def _commit_groups(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                group = [(w, f) for w, f in self._waiting[:_GROUP_LIMIT] if not f.cancelled()]
                del self._waiting[:_GROUP_LIMIT]
                if not group:
                    continue
                try:
                    outcomes = await loop.run_in_executor(
                        self._thread, self._run_group, [w for w, _f in group]
                    )
                except Exception as exc:  # the commit itself failed: nothing of the group is in
                    for _w, future in group:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_w, future), (value, error) in zip(group, outcomes, strict=True):
                    if future.done():
                        continue
                    if error is not None:
                        future.set_exception(error)
                    else:
                        future.set_result(value)
        finally:
            self._grouping = None

    def _run_group(
        self, works: list[Callable[[sa.Connection], Any]]
    ) -> list[tuple[Any, Exception | None]]:
        outcomes: list[tuple[Any, Exception | None]] = []
        with self._engine.begin() as conn:
            for work in works:
                savepoint = conn.begin_nested()
                try:
                    value = work(conn)
                except Exception as exc:
                    savepoint.rollback()
                    outcomes.append((None, exc))
                else:
                    savepoint.commit()
                    outcomes.append((value, None))
        return outcomes

    def _run_sync(self, work: Callable[[sa.Connection], T]) -> T:
        with self._engine.begin() as conn:
            return work(conn)

    async def run_raw(self, work: Callable[[sa.Connection], T]) -> T:
        """Runs ``work`` on a connection with no transaction begun (migrations)."""
        loop = asyncio.get_running_loop()

        def call() -> T:
            with self._engine.connect() as conn:
                return work(conn)

        return await loop.run_in_executor(self._thread, call)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._engine.dispose)
        self._thread.shutdown(wait=True)


_SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")
_GROUP_LIMIT = 256  # works per shared commit: bounds the transaction and the wait


def _private_files(path: Path, *, create: bool = False) -> None:
    """Makes the database file (created if asked) and its companions mode 0600."""
    if create:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    for suffix in _SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        try:
            if companion.stat().st_mode & 0o077:
                companion.chmod(0o600)
        except FileNotFoundError:
            continue


def _sqlite_on_connect(path: Path | None, dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own implicit
    # transactions would begin too late and never IMMEDIATE).
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
    if path is not None:  # the WAL and shared-memory files exist from here on
        _private_files(path)


def _sqlite_on_begin(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class PostgresStore:
    """PostgreSQL through asyncpg; units of work run with ``run_sync``."""

    dialect = "postgresql"

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self._engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            hide_parameters=True,
        )

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def run(self, work: Callable[[sa.Connection], T]) -> T:
        async with self._engine.begin() as conn:
            return await conn.run_sync(work)

    async def run_grouped(self, work: Callable[[sa.Connection], T]) -> T:
        """Each work its own transaction: concurrent commits already share WAL
        flushes inside PostgreSQL, and the pool gives them their concurrency."""
        return await self.run(work)

    async def run_raw(self, work: Callable[[sa.Connection], T]) -> T:
        async with self._engine.connect() as conn:
            result = await conn.run_sync(work)
            await conn.commit()
            return result

    async def close(self) -> None:
        await self._engine.dispose()


def open_store(url: str, *, pool_size: int = 10) -> SqliteStore | PostgresStore:
    """Opens the store named by ``url`` (``sqlite:///path`` or ``postgresql://…``)."""
    url = normalise_url(url)
    if url.startswith("sqlite:"):
        return SqliteStore(url)
    if url.startswith("postgresql+asyncpg://"):
        return PostgresStore(url, pool_size=pool_size)
    raise ValueError("unsupported database URL (sqlite:/// or postgresql://)")
