"""Files of credential letters: private (0600), atomic, and never lost.

A letters file holds temporary passwords and NUMENs. It is created as a 0600
temporary file beside its destination *before* the letters are issued, so a wrong
path fails before any password changes; the letter service writes the PDF into it
before it commits the new passwords; only after the commit is it renamed into
place. If anything fails before the rename, the temporary file is removed, unless
the commit already happened: then it is kept and its path printed, because it holds
the only copy of letters whose passwords are now the valid ones.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from academail.cli.context import fail
from academail.letters import IssuedLetters, LetterSelection, LetterService

__all__ = ["PendingFile", "issue_into", "pending_file"]


class PendingFile:
    """A 0600 temporary file in the destination's directory, renamed on success."""

    def __init__(self, path: Path) -> None:
        target = path.expanduser().absolute()
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        os.fchmod(fd, 0o600)  # mkstemp's mode already, said explicitly
        self.target = target
        self.temp = Path(temp)
        self._fd = fd
        self.written = False
        self.committed = False  # the letters' passwords are the valid ones now

    def write(self, data: bytes) -> None:
        """Writes and syncs the whole content (blocking: called from a worker thread)."""
        fd, self._fd = self._fd, -1
        if fd < 0:
            raise RuntimeError("a pending file is written once")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        self.written = True

    def publish(self) -> None:
        """Renames the file into place (atomic in one directory) and syncs the directory."""
        os.replace(self.temp, self.target)
        directory = os.open(self.target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def discard(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self.temp.unlink(missing_ok=True)


@contextmanager
def pending_file(path: Path) -> Iterator[PendingFile]:
    """Creates the pending file (or fails with a message before anything else happens).

    The body issues the letters through :func:`issue_into`. The file is renamed into
    place once the letters are committed, even if something fails afterwards (closing
    the store…); it is removed when nothing was committed (an error, or no letter).
    """
    try:
        pending = PendingFile(path)
    except OSError as exc:
        fail(f"écriture impossible dans {path} : {exc.strerror or exc}")
    try:
        yield pending
    except BaseException:
        if pending.committed:
            _publish(pending, path)
        else:
            pending.discard()
        raise
    if pending.committed:
        _publish(pending, path)
    else:
        pending.discard()


def _publish(pending: PendingFile, path: Path) -> None:
    try:
        pending.publish()
    except OSError as exc:
        fail(
            f"courriers édités mais non renommés en {path} ({exc.strerror or exc}) : "
            f"ils sont dans {pending.temp}, déplacez-les vous-même",
            code=1,
        )


async def issue_into(
    pending: PendingFile, letters: LetterService, selection: LetterSelection, actor: str
) -> IssuedLetters:
    """Issues the letters of ``selection`` into ``pending`` (written before the commit)."""
    issued = await letters.issue(selection, actor, deliver=pending.write)
    pending.committed = issued.count > 0
    return issued
