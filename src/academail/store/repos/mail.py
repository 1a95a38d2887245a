"""Mailboxes and messages: set-based, one unit of work per protocol command.

UIDs and MODSEQs are allocated by one ``UPDATE … RETURNING`` on the mailbox row,
so two deliveries into the same mailbox serialise on that row and UIDs only grow
(RFC 9051 §2.3.1.1), on both dialects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from academail.store.tables import (
    accounts,
    agents,
    blob_refs,
    expunged_messages,
    mailboxes,
    messages,
    quota_usage,
)

__all__ = [
    "MailboxRow",
    "MessageRow",
    "add_blob_refs",
    "allocate",
    "mailbox_id",
    "role_of",
    "change_quota",
    "copy_message",
    "forget_blob",
    "create_mailbox",
    "delete_messages",
    "expunged_since",
    "get_mailbox",
    "index_text",
    "insert_message",
    "list_mailboxes",
    "list_messages",
    "messages_by_uids",
    "quota_of",
    "rename_mailbox",
    "search_text",
    "set_flags",
    "unreferenced_blobs",
    "zero_blobs",
]


@dataclass(frozen=True)
class MailboxRow:
    id: int
    account_id: str
    name: str
    special_use: str | None
    subscribed: bool
    uidvalidity: int
    uidnext: int
    highestmodseq: int
    messages: int
    unseen: int


@dataclass(frozen=True)
class MessageRow:
    id: int
    mailbox_id: int
    uid: int
    modseq: int
    flags: str
    internal_date: dt.datetime
    size: int
    blob_key: str
    subject: str
    from_address: str
    sent_at: dt.datetime | None


# Flags are stored as one space-separated string; "#" as LIKE escape keeps the
# backslash of \\Seen literal on PostgreSQL too (its default LIKE escape is "\\").
_SEEN = messages.c.flags.like("%\\Seen%", escape="#")


def _mailbox_query() -> sa.Select[Any]:
    """Mailboxes with their message and unseen counts.

    The counts are correlated subqueries, so they read only the selected
    mailboxes' messages (through the (mailbox_id, uid) index), never the table.
    """
    of_box = messages.c.mailbox_id == mailboxes.c.id
    count = sa.select(sa.func.count()).where(of_box).correlate(mailboxes).scalar_subquery()
    unseen = (
        sa.select(sa.func.count())
        .where(of_box, sa.not_(_SEEN))
        .correlate(mailboxes)
        .scalar_subquery()
    )
    return sa.select(mailboxes, count.label("messages"), unseen.label("unseen"))


def _mailbox(row: Any) -> MailboxRow:
    return MailboxRow(
        row["id"],
        row["account_id"],
        row["name"],
        row["special_use"],
        bool(row["subscribed"]),
        row["uidvalidity"],
        row["uidnext"],
        row["highestmodseq"],
        int(row["messages"]),
        int(row["unseen"]),
    )


def list_mailboxes(conn: sa.Connection, account_id: str) -> list[MailboxRow]:
    query = _mailbox_query().where(mailboxes.c.account_id == account_id).order_by(mailboxes.c.name)
    return [_mailbox(r) for r in conn.execute(query).mappings()]


def get_mailbox(conn: sa.Connection, account_id: str, name: str) -> MailboxRow | None:
    query = _mailbox_query().where(mailboxes.c.account_id == account_id, mailboxes.c.name == name)
    row = conn.execute(query).mappings().first()
    return _mailbox(row) if row else None


def mailbox_id(conn: sa.Connection, account_id: str, name: str) -> int | None:
    """The id alone: what delivery needs, without counting the mailbox's messages."""
    found = conn.execute(
        sa.select(mailboxes.c.id).where(
            mailboxes.c.account_id == account_id, mailboxes.c.name == name
        )
    ).scalar()
    return int(found) if found is not None else None


def role_of(conn: sa.Connection, account_id: str) -> str:
    """The HR role of an account's agent (quotas depend on it); "" if unknown."""
    found = conn.execute(
        sa.select(agents.c.role)
        .join(accounts, accounts.c.agent_id == agents.c.id)
        .where(accounts.c.id == account_id)
    ).scalar()
    return str(found or "")


def create_mailbox(
    conn: sa.Connection,
    account_id: str,
    name: str,
    special_use: str | None,
    uidvalidity: int,
    now: dt.datetime,
) -> int:
    result = conn.execute(
        mailboxes.insert().values(
            account_id=account_id,
            name=name,
            special_use=special_use,
            subscribed=True,
            uidvalidity=uidvalidity,
            uidnext=1,
            highestmodseq=1,
            created_at=now,
        )
    )
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("mailbox inserted without a key")
    return int(key[0])


def rename_mailbox(conn: sa.Connection, mailbox_id: int, name: str, uidvalidity: int) -> None:
    conn.execute(
        mailboxes.update()
        .where(mailboxes.c.id == mailbox_id)
        .values(name=name, uidvalidity=uidvalidity)
    )


def allocate(conn: sa.Connection, mailbox_id: int, count: int) -> tuple[int, int, int]:
    """Reserves ``count`` UIDs and one MODSEQ: (first uid, modseq, uidvalidity)."""
    row = conn.execute(
        mailboxes.update()
        .where(mailboxes.c.id == mailbox_id)
        .values(uidnext=mailboxes.c.uidnext + count, highestmodseq=mailboxes.c.highestmodseq + 1)
        .returning(mailboxes.c.uidnext, mailboxes.c.highestmodseq, mailboxes.c.uidvalidity)
    ).first()
    if row is None:
        raise LookupError("mailbox vanished")
    return int(row.uidnext) - count, int(row.highestmodseq), int(row.uidvalidity)


def insert_message(conn: sa.Connection, values: dict[str, Any]) -> int:
    result = conn.execute(messages.insert().values(**values))
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("message inserted without a key")
    return int(key[0])


def add_blob_refs(conn: sa.Connection, blob_key: str, size: int, count: int) -> None:
    """Counts ``count`` more messages using a blob (an upsert on both dialects)."""
    dialect = conn.dialect.name
    insert: Any
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(blob_refs).values(
        blob_key=blob_key, size=size, refcount=count, zero_since=None
    )
    statement = statement.on_conflict_do_update(
        index_elements=[blob_refs.c.blob_key],
        set_={"refcount": blob_refs.c.refcount + count, "zero_since": None},
    )
    conn.execute(statement)


def zero_blobs(conn: sa.Connection, keys: Sequence[str], now: dt.datetime) -> None:
    """Decrements one reference per listed key (repeat a key to remove several)."""
    for key in keys:
        conn.execute(
            blob_refs.update()
            .where(blob_refs.c.blob_key == key)
            .values(refcount=blob_refs.c.refcount - 1)
        )
    conn.execute(
        blob_refs.update()
        .where(
            blob_refs.c.blob_key.in_(list(set(keys))),
            blob_refs.c.refcount <= 0,
            blob_refs.c.zero_since.is_(None),
        )
        .values(zero_since=now)
    )


def change_quota(conn: sa.Connection, account_id: str, size: int, count: int) -> None:
    done = conn.execute(
        quota_usage.update()
        .where(quota_usage.c.account_id == account_id)
        .values(bytes=quota_usage.c.bytes + size, messages=quota_usage.c.messages + count)
    )
    if done.rowcount == 0:
        conn.execute(quota_usage.insert().values(account_id=account_id, bytes=size, messages=count))


def quota_of(conn: sa.Connection, account_id: str) -> tuple[int, int]:
    row = conn.execute(
        sa.select(quota_usage.c.bytes, quota_usage.c.messages).where(
            quota_usage.c.account_id == account_id
        )
    ).first()
    return (int(row.bytes), int(row.messages)) if row else (0, 0)


def _message(row: Any) -> MessageRow:
    return MessageRow(
        row["id"],
        row["mailbox_id"],
        row["uid"],
        row["modseq"],
        row["flags"],
        row["internal_date"],
        row["size"],
        row["blob_key"],
        row["subject"],
        row["from_address"],
        row["sent_at"],
    )


_LIST_COLUMNS = (
    messages.c.id,
    messages.c.mailbox_id,
    messages.c.uid,
    messages.c.modseq,
    messages.c.flags,
    messages.c.internal_date,
    messages.c.size,
    messages.c.blob_key,
    messages.c.subject,
    messages.c.from_address,
    messages.c.sent_at,
)


def list_messages(
    conn: sa.Connection, mailbox_id: int, uid_from: int = 1, uid_to: int | None = None
) -> list[MessageRow]:
    """A UID range in one query (the IMAP FETCH 1:* shape)."""
    query = sa.select(*_LIST_COLUMNS).where(
        messages.c.mailbox_id == mailbox_id, messages.c.uid >= uid_from
    )
    if uid_to is not None:
        query = query.where(messages.c.uid <= uid_to)
    return [_message(r) for r in conn.execute(query.order_by(messages.c.uid)).mappings()]


def messages_by_uids(conn: sa.Connection, mailbox_id: int, uids: Sequence[int]) -> list[MessageRow]:
    """Only the named UIDs (chunked ``IN``): STORE, COPY and EXPUNGE touch a few
    messages of mailboxes that may hold thousands."""
    wanted = sorted(set(uids))
    found: list[MessageRow] = []
    for start in range(0, len(wanted), 500):
        query = sa.select(*_LIST_COLUMNS).where(
            messages.c.mailbox_id == mailbox_id, messages.c.uid.in_(wanted[start : start + 500])
        )
        found.extend(_message(r) for r in conn.execute(query.order_by(messages.c.uid)).mappings())
    return found


def set_flags(conn: sa.Connection, mailbox_id: int, changes: dict[int, str], modseq: int) -> None:
    """New flag strings by UID, all stamped with one MODSEQ."""
    if not changes:
        return
    statement = (
        messages.update()
        .where(messages.c.mailbox_id == mailbox_id, messages.c.uid == sa.bindparam("k_uid"))
        .values(flags=sa.bindparam("v_flags"), modseq=modseq)
    )
    conn.execute(statement, [{"k_uid": uid, "v_flags": flags} for uid, flags in changes.items()])


def delete_messages(
    conn: sa.Connection, mailbox_id: int, uids: Sequence[int], modseq: int
) -> list[MessageRow]:
    """Expunges: rows removed, their UIDs kept with the MODSEQ (for QRESYNC)."""
    gone: list[MessageRow] = []
    for start in range(0, len(uids), 500):
        chunk = list(uids[start : start + 500])
        rows = conn.execute(
            sa.select(*_LIST_COLUMNS).where(
                messages.c.mailbox_id == mailbox_id, messages.c.uid.in_(chunk)
            )
        ).mappings()
        found = [_message(r) for r in rows]
        if not found:
            continue
        ids = [m.id for m in found]
        _drop_index(conn, ids)
        conn.execute(messages.delete().where(messages.c.id.in_(ids)))
        conn.execute(
            expunged_messages.insert(),
            [{"mailbox_id": mailbox_id, "uid": m.uid, "modseq": modseq} for m in found],
        )
        gone.extend(found)
    return gone


def expunged_since(conn: sa.Connection, mailbox_id: int, modseq: int) -> list[int]:
    rows = conn.execute(
        sa.select(expunged_messages.c.uid)
        .where(expunged_messages.c.mailbox_id == mailbox_id, expunged_messages.c.modseq > modseq)
        .order_by(expunged_messages.c.uid)
    )
    return [int(r.uid) for r in rows]


# -- full-text index -------------------------------------------------------------------
def index_text(
    conn: sa.Connection, message_id: int, subject: str, addresses: str, body: str
) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(
                "INSERT INTO message_search (message_id, document) VALUES (:id, "
                "setweight(to_tsvector('fr_unaccent', :subject), 'A') || "
                "setweight(to_tsvector('fr_unaccent', :addresses), 'B') || "
                "to_tsvector('fr_unaccent', :body))"
            ),
            {"id": message_id, "subject": subject, "addresses": addresses, "body": body},
        )
    else:
        conn.execute(
            sa.text(
                "INSERT INTO message_search (rowid, subject, addresses, body) "
                "VALUES (:id, :s, :a, :b)"
            ),
            {"id": message_id, "s": subject, "a": addresses, "b": body},
        )


def _drop_index(conn: sa.Connection, ids: Sequence[int]) -> None:
    if conn.dialect.name == "postgresql":
        return  # ON DELETE CASCADE
    for message_id in ids:
        conn.execute(sa.text("DELETE FROM message_search WHERE rowid = :id"), {"id": message_id})


def search_text(conn: sa.Connection, mailbox_id: int, words: Sequence[str]) -> list[int]:
    """UIDs of the messages whose headers or text contain every word (prefix match on
    SQLite, French stems on PostgreSQL; accents ignored on both)."""
    cleaned = [w for w in ("".join(ch for ch in word if ch.isalnum()) for word in words) if w]
    if not cleaned:
        return []
    if conn.dialect.name == "postgresql":
        query = sa.text(
            "SELECT m.uid FROM message_search s JOIN messages m ON m.id = s.message_id "
            "WHERE m.mailbox_id = :mb AND s.document @@ plainto_tsquery('fr_unaccent', :q) "
            "ORDER BY m.uid"
        )
        rows = conn.execute(query, {"mb": mailbox_id, "q": " ".join(cleaned)})
    else:
        match = " AND ".join(f'"{w}"*' for w in cleaned)
        query = sa.text(
            "SELECT m.uid FROM message_search s JOIN messages m ON m.id = s.rowid "
            "WHERE m.mailbox_id = :mb AND message_search MATCH :q ORDER BY m.uid"
        )
        rows = conn.execute(query, {"mb": mailbox_id, "q": match})
    return [int(r.uid) for r in rows]


_COPIED = (
    "size",
    "blob_key",
    "subject",
    "from_address",
    "to_addresses",
    "cc_addresses",
    "message_id",
    "in_reply_to",
    "references",
    "sent_at",
    "has_attachments",
    "envelope",
    "body_structure",
    "internal_date",
    "flags",
)


def copy_message(
    conn: sa.Connection, message_id: int, mailbox_id: int, uid: int, modseq: int
) -> int:
    """A new row for an existing message (same blob, same parsed structure and index)."""
    row = (
        conn.execute(
            sa.select(*[messages.c[c] for c in _COPIED]).where(messages.c.id == message_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise LookupError("message vanished")
    new_id = insert_message(
        conn, {**dict(row), "mailbox_id": mailbox_id, "uid": uid, "modseq": modseq}
    )
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(
                "INSERT INTO message_search (message_id, document) "
                "SELECT :new, document FROM message_search WHERE message_id = :old"
            ),
            {"new": new_id, "old": message_id},
        )
    else:
        conn.execute(
            sa.text(
                "INSERT INTO message_search (rowid, subject, addresses, body) "
                "SELECT :new, subject, addresses, body FROM message_search WHERE rowid = :old"
            ),
            {"new": new_id, "old": message_id},
        )
    return new_id


def unreferenced_blobs(conn: sa.Connection, before: dt.datetime, limit: int = 1000) -> list[str]:
    rows = conn.execute(
        sa.select(blob_refs.c.blob_key)
        .where(blob_refs.c.refcount <= 0, blob_refs.c.zero_since <= before)
        .limit(limit)
    )
    return [r.blob_key for r in rows]


def forget_blob(conn: sa.Connection, key: str) -> bool:
    """Deletes the reference row only if nothing uses the blob any more."""
    done = conn.execute(
        blob_refs.delete().where(blob_refs.c.blob_key == key, blob_refs.c.refcount <= 0)
    )
    return done.rowcount == 1
