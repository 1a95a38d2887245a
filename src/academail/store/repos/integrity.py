"""Read-only consistency checks of the mail store (after a crash, or by an operator).

Each function returns human-readable problems; an empty list means the invariant
holds. They read whole tables: run them on a quiet store, not on every request.
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from academail.store.tables import (
    blob_refs,
    expunged_messages,
    mail_queue,
    mailboxes,
    messages,
    quota_usage,
)

__all__ = ["blob_reference_problems", "mailbox_problems", "quota_problems", "referenced_blobs"]


def mailbox_problems(conn: sa.Connection) -> list[str]:
    """UIDs below UIDNEXT and MODSEQs at most HIGHESTMODSEQ, expunged UIDs gone."""
    problems = []
    query = (
        sa.select(
            mailboxes.c.id,
            mailboxes.c.uidnext,
            mailboxes.c.highestmodseq,
            sa.func.max(messages.c.uid),
            sa.func.max(messages.c.modseq),
        )
        .select_from(mailboxes.outerjoin(messages, messages.c.mailbox_id == mailboxes.c.id))
        .group_by(mailboxes.c.id, mailboxes.c.uidnext, mailboxes.c.highestmodseq)
    )
    for box, uidnext, highest, max_uid, max_modseq in conn.execute(query):
        if max_uid is not None and max_uid >= uidnext:
            problems.append(f"dossier {box} : UID {max_uid} >= UIDNEXT {uidnext}")
        if max_modseq is not None and max_modseq > highest:
            problems.append(f"dossier {box} : MODSEQ {max_modseq} > HIGHESTMODSEQ {highest}")
    both = sa.select(expunged_messages.c.mailbox_id, expunged_messages.c.uid).join(
        messages,
        sa.and_(
            messages.c.mailbox_id == expunged_messages.c.mailbox_id,
            messages.c.uid == expunged_messages.c.uid,
        ),
    )
    for box, uid in conn.execute(both):
        problems.append(f"dossier {box} : UID {uid} à la fois présent et effacé")
    return problems


def quota_problems(conn: sa.Connection) -> list[str]:
    """Each account's usage row equals the sum of its messages' sizes and their count."""
    sums = {
        account: (int(size or 0), int(count))
        for account, size, count in conn.execute(
            sa.select(
                mailboxes.c.account_id, sa.func.sum(messages.c.size), sa.func.count(messages.c.id)
            )
            .select_from(messages.join(mailboxes, mailboxes.c.id == messages.c.mailbox_id))
            .group_by(mailboxes.c.account_id)
        )
    }
    usage = {
        account: (int(size), int(count))
        for account, size, count in conn.execute(
            sa.select(quota_usage.c.account_id, quota_usage.c.bytes, quota_usage.c.messages)
        )
    }
    problems = []
    for account in sorted(set(sums) | set(usage)):
        expected = sums.get(account, (0, 0))
        if usage.get(account, (0, 0)) != expected:
            problems.append(f"compte {account} : usage {usage.get(account)} ≠ messages {expected}")
    return problems


def blob_reference_problems(conn: sa.Connection) -> list[str]:
    """A blob's reference count is the messages plus the queue rows that use it."""
    users: Counter[str] = Counter()
    for (key,) in conn.execute(sa.select(messages.c.blob_key)):
        users[key] += 1
    for (key,) in conn.execute(sa.select(mail_queue.c.blob_key)):
        users[key] += 1
    counted = dict(conn.execute(sa.select(blob_refs.c.blob_key, blob_refs.c.refcount)).all())
    problems = []
    for key in sorted(set(users) | set(counted)):
        if counted.get(key, 0) != users.get(key, 0):
            real = users.get(key, 0)
            problems.append(f"blob {key[:12]} : {counted.get(key)} références, {real} réelles")
    return problems


def referenced_blobs(conn: sa.Connection) -> dict[str, int]:
    """Every blob a message or a queue row uses, with the size recorded for it."""
    found: dict[str, int] = {}
    for key, size in conn.execute(sa.select(messages.c.blob_key, messages.c.size)):
        found[key] = int(size)
    for key, size in conn.execute(sa.select(mail_queue.c.blob_key, mail_queue.c.size)):
        found[key] = int(size)
    return found
