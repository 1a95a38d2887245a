"""Content-addressed storage for message bodies and generated files.

A blob's key is the SHA-256 of its bytes, so a copy of a message to another
mailbox or account shares the bytes. :class:`BlobStore` is the interface (an
object store can implement it later); :class:`FileBlobStore` keeps blobs as files
under the data directory. A write is durable before ``put`` returns: the bytes go
to a temporary file in the final directory, which is fsync'd, renamed into place,
and the directory is fsync'd too (a rename is not durable until its directory is).
All file work runs off the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from academail.core.errors import NotFound

__all__ = ["BlobStore", "FileBlobStore", "blob_key"]

T = TypeVar("T")


def blob_key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore(Protocol):
    """Immutable, content-addressed blobs. Reference counting is the caller's (store/)."""

    async def put(self, data: bytes) -> str:
        """Stores ``data`` durably; returns its key. Idempotent."""
        ...

    async def get(self, key: str) -> bytes:
        """Raises NotFound for an unknown key."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None:
        """Removes a blob; deleting an absent blob is not an error."""
        ...


class FileBlobStore:
    """Blobs as files ``<root>/ab/cd/<sha256>``.

    File work runs on the store's own thread pool, not the shared one: a durable
    write spends most of its time waiting in fsync (twice: the file, then its
    directory), and under a load of deliveries those waits would otherwise fill
    the shared pool and delay the parsing and hashing queued behind them. Many
    threads waiting in fsync at once also let the filesystem journal commit them
    together.
    """

    def __init__(self, root: Path, io_threads: int = 32) -> None:
        self.root = root
        self._io = concurrent.futures.ThreadPoolExecutor(io_threads, thread_name_prefix="blobs")

    async def _run(self, func: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._io, func, *args)

    def _path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise NotFound("clé de blob invalide")
        return self.root / key[:2] / key[2:4] / key

    async def put(self, data: bytes) -> str:
        return await self._run(self._put, data)

    def _put(self, data: bytes) -> str:
        key = blob_key(data)  # hashing a large message is CPU work: here, off the loop
        self._write(self._path(key), data)
        return key

    async def missing(self, keys: Sequence[str]) -> list[str]:
        """The keys whose file is absent, in one trip to the file thread pool."""
        return await self._run(lambda: [k for k in keys if not self._path(k).exists()])

    async def get(self, key: str) -> bytes:
        try:
            return await self._run(self._path(key).read_bytes)
        except FileNotFoundError as exc:
            raise NotFound("blob introuvable") from exc

    async def exists(self, key: str) -> bool:
        return await self._run(self._path(key).exists)

    async def delete(self, key: str) -> None:
        await self._run(functools.partial(self._path(key).unlink, missing_ok=True))

    # The garbage collector's three steps (see mail/store.py): a candidate's file is
    # moved aside before its reference row is deleted, and put back if the row turned
    # out to be used again; content addressing makes any copy the right one.
    async def set_aside(self, key: str) -> Path:
        path = self._path(key)
        aside = path.with_name(f".{key}.{secrets.token_hex(4)}.gc")
        try:
            await self._run(os.replace, path, aside)
        except FileNotFoundError:
            pass
        return aside

    async def restore_aside(self, key: str, aside: Path) -> None:
        path = self._path(key)

        def restore() -> None:
            if not aside.exists():
                return
            if path.exists():
                aside.unlink()
            else:
                os.replace(aside, path)

        await self._run(restore)

    async def discard_aside(self, aside: Path) -> None:
        await self._run(functools.partial(aside.unlink, missing_ok=True))

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return
        changed = _make_dirs(path.parent)
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)
        for directory in (path.parent, *changed):
            _fsync_dir(directory)


def _make_dirs(directory: Path) -> list[Path]:
    """Creates the missing levels of ``directory``; returns the directories whose
    entries this changed (the parent of each level created), deepest first.

    A new ``ab/cd`` directory is itself an entry of ``ab`` (and ``ab`` of the
    root): until those parents are fsync'd, a power loss can drop the new
    directory, and with it a blob whose own directory was fsync'd.
    """
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for level in reversed(missing):
        level.mkdir(exist_ok=True)
    return [level.parent for level in missing]


def _fsync_dir(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
