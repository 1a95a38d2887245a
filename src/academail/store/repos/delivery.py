"""Set-based SQL for storing many delivered messages in one unit of work.

Delivery batches concurrent messages (mail/batch.py): whatever the batch size,
the unit of work issues a fixed handful of statements (executemany for the rows),
one UPDATE per distinct mailbox for its UIDs, and one commit. Per-statement cost
in SQLAlchemy and per-commit fsync are what bound throughput (dependencies.md
pitfall 9; ADR 0001), so both are paid once per batch instead of once per message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from academail.store.tables import accounts, agents, blob_refs, mailboxes, messages, quota_usage

__all__ = [
    "add_blob_refs",
    "add_usage",
    "allocate",
    "index_texts",
    "insert_messages",
    "mailbox_ids",
    "usage_and_roles",
]


def mailbox_ids(
    conn: sa.Connection, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """(account id, mailbox name) → mailbox id, for those that exist."""
    wanted = set(pairs)
    if not wanted:
        return {}
    query = sa.select(mailboxes.c.account_id, mailboxes.c.name, mailboxes.c.id).where(
        mailboxes.c.account_id.in_({a for a, _n in wanted}),
        mailboxes.c.name.in_({n for _a, n in wanted}),
    )
    return {(a, n): int(i) for a, n, i in conn.execute(query) if (a, n) in wanted}


def usage_and_roles(
    conn: sa.Connection, account_ids: Iterable[str]
) -> dict[str, tuple[int, str, bool]]:
    """Account id → (bytes used, HR role, has a usage row); no row means 0 used."""
    ids = set(account_ids)
    if not ids:
        return {}
    query = (
        sa.select(accounts.c.id, agents.c.role, quota_usage.c.bytes, quota_usage.c.account_id)
        .join(agents, agents.c.id == accounts.c.agent_id)
        .outerjoin(quota_usage, quota_usage.c.account_id == accounts.c.id)
        .where(accounts.c.id.in_(ids))
    )
    return {
        str(i): (int(used or 0), str(role or ""), row is not None)
        for i, role, used, row in conn.execute(query)
    }


def allocate(conn: sa.Connection, counts: Mapping[int, int]) -> dict[int, tuple[int, int, int]]:
    """Per mailbox: reserves ``count`` UIDs and one MODSEQ → (first uid, modseq, uidvalidity).

    Messages stored together in one mailbox share the MODSEQ (RFC 7162 §3.1.1
    allows it: it orders changes, and they are one change).
    """
    statement = (
        mailboxes.update()
        .where(mailboxes.c.id == sa.bindparam("box"))
        .values(
            uidnext=mailboxes.c.uidnext + sa.bindparam("n"),
            highestmodseq=mailboxes.c.highestmodseq + 1,
        )
        .returning(mailboxes.c.uidnext, mailboxes.c.highestmodseq, mailboxes.c.uidvalidity)
    )
    out = {}
    for box, count in sorted(counts.items()):  # a fixed order: no deadlock between nodes
        row = conn.execute(statement, {"box": box, "n": count}).first()
        if row is None:
            raise LookupError("mailbox vanished")
        out[box] = (int(row.uidnext) - count, int(row.highestmodseq), int(row.uidvalidity))
    return out


def insert_messages(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Inserts the rows in one executemany; their ids in the same order."""
    if not rows:
        return []
    statement = messages.insert().returning(messages.c.id, sort_by_parameter_order=True)
    return [int(i) for i in conn.execute(statement, list(rows)).scalars()]


def index_texts(conn: sa.Connection, items: Sequence[dict[str, Any]]) -> None:
    """Full-text rows: ``{"id", "subject", "addresses", "body"}`` each."""
    if not items:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(
                "INSERT INTO message_search (message_id, document) VALUES (:id, "
                "setweight(to_tsvector('fr_unaccent', :subject), 'A') || "
                "setweight(to_tsvector('fr_unaccent', :addresses), 'B') || "
                "to_tsvector('fr_unaccent', :body))"
            ),
            list(items),
        )
    else:
        conn.execute(
            sa.text(
                "INSERT INTO message_search (rowid, subject, addresses, body) "
                "VALUES (:id, :subject, :addresses, :body)"
            ),
            list(items),
        )


def add_usage(
    conn: sa.Connection, deltas: Mapping[str, tuple[int, int]], existing: Iterable[str]
) -> None:
    """Adds (bytes, messages) per account; ``existing`` have a usage row already."""
    have = set(existing)
    # Sorted, as allocate() is: two batches on two nodes lock rows in one order.
    updates = [{"a": a, "b": b, "m": m} for a, (b, m) in sorted(deltas.items()) if a in have]
    inserts = [
        {"account_id": a, "bytes": b, "messages": m}
        for a, (b, m) in sorted(deltas.items())
        if a not in have
    ]
    if updates:
        conn.execute(
            quota_usage.update()
            .where(quota_usage.c.account_id == sa.bindparam("a"))
            .values(
                bytes=quota_usage.c.bytes + sa.bindparam("b"),
                messages=quota_usage.c.messages + sa.bindparam("m"),
            ),
            updates,
        )
    if inserts:
        conn.execute(quota_usage.insert(), inserts)


def add_blob_refs(conn: sa.Connection, refs: Mapping[str, tuple[int, int]]) -> None:
    """Blob key → (size, more references); one upsert executemany."""
    if not refs:
        return
    insert: Any
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(blob_refs)
    statement = statement.on_conflict_do_update(
        index_elements=[blob_refs.c.blob_key],
        set_={"refcount": blob_refs.c.refcount + statement.excluded.refcount, "zero_since": None},
    )
    conn.execute(
        statement,
        [
            {"blob_key": key, "size": size, "refcount": count, "zero_since": None}
            for key, (size, count) in sorted(refs.items())
        ],
    )
