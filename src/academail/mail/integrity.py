"""The mail store's invariants, checked end to end: rows, counters and blob files.

What a crash must never break (issue 4's crash test runs this after every
SIGKILL, and an operator can run it on a store they doubt):

- UIDs below UIDNEXT, MODSEQs at most HIGHESTMODSEQ, an expunged UID never visible;
- each account's usage equal to the sum of its messages' sizes;
- each blob's reference count equal to the messages and queue rows using it;
- every visible message's bytes present and whole: the file exists, has the
  recorded size, and hashes to its key (so no half-written message is visible).
"""

from __future__ import annotations

from academail.blobs import FileBlobStore, blob_key
from academail.core.errors import NotFound
from academail.store import Connection, Store
from academail.store.repos import integrity

__all__ = ["check_integrity"]


async def check_integrity(store: Store, blobs: FileBlobStore) -> list[str]:
    def rows(conn: Connection) -> tuple[list[str], dict[str, int]]:
        problems = integrity.mailbox_problems(conn)
        problems += integrity.quota_problems(conn)
        problems += integrity.blob_reference_problems(conn)
        return problems, integrity.referenced_blobs(conn)

    problems, referenced = await store.run(rows)
    for key, size in sorted(referenced.items()):
        try:
            data = await blobs.get(key)
        except NotFound:
            problems.append(f"blob {key[:12]} : fichier absent")
            continue
        if len(data) != size or blob_key(data) != key:
            problems.append(f"blob {key[:12]} : contenu incomplet ou altéré")
    return problems
