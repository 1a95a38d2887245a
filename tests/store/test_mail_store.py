"""The mail store on both dialects: mailboxes at activation, delivery stored once,
UIDs and MODSEQs, flags, expunge with QRESYNC memory, copy, quota, search, blob GC."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest

from academail.blobs import blob_key
from academail.core.errors import AlreadyExists, InvalidInput, NotFound, OverQuota
from academail.runtime import Platform
from academail.store import mail as mail_repo
from tests.fixtures.agents import active_agent


def message(n: int, subject: str = "Réunion pédagogique", body: str = "Bonjour à tous,") -> bytes:
    return (
        "From: Marie Curie <marie.curie@ac-amiens.fr>\r\n"
        "To: Equipe <equipe@ac-amiens.fr>\r\n"
        f"Subject: {subject} {n}\r\n"
        f"Message-ID: <{n}@ac-amiens.fr>\r\n"
        "Date: Mon, 07 Sep 2026 08:00:00 +0200\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"{body}\r\n"
    ).encode()


async def test_activation_creates_the_special_mailboxes(platform: Platform):
    _login, account_id = await active_agent(platform)
    names = {
        (m.name, m.special_use.value if m.special_use else None)
        for m in await platform.mail.mailboxes(account_id)
    }
    assert names == {
        ("INBOX", None),
        ("Brouillons", "\\Drafts"),
        ("Envoyés", "\\Sent"),
        ("Corbeille", "\\Trash"),
        ("Indésirables", "\\Junk"),
        ("Archives", "\\Archive"),
    }
    await platform.mail.ensure_mailboxes(account_id)  # idempotent
    assert len(await platform.mail.mailboxes(account_id)) == 6
    with pytest.raises(AlreadyExists):
        await platform.mail.create_mailbox(account_id, "Archives")
    with pytest.raises(InvalidInput):
        await platform.mail.create_mailbox(account_id, "a//b")
    created = await platform.mail.create_mailbox(account_id, "Projets/2026")
    assert created.uidnext == 1 and created.uidvalidity > 0


async def test_delivery_to_fifty_recipients_stores_the_bytes_once(platform: Platform):
    ids = [(await active_agent(platform, n))[1] for n in range(1, 51)]
    result = await platform.mail.deliver(ids, message(1))
    assert len(result.delivered) == 50 and not result.refused

    def refs(conn):  # type: ignore[no-untyped-def]
        import sqlalchemy as sa

        from academail.store.tables import blob_refs

        return dict(conn.execute(sa.select(blob_refs.c.blob_key, blob_refs.c.refcount)).all())

    counts = await platform.store.run(refs)
    assert counts[result.blob_key] == 50
    # One file per blob (activation notices are other blobs): the message is one file.
    blob_files = [p for p in (platform.settings.data_dir / "blobs").rglob("*") if p.is_file()]
    assert len(blob_files) == len(counts)
    assert sum(p.name == result.blob_key for p in blob_files) == 1


async def test_uids_grow_and_modseq_moves_with_flags(platform: Platform):
    _l, account = await active_agent(platform)
    for n in range(3):
        await platform.mail.deliver([account], message(n))
    msgs = await platform.mail.messages(account, "INBOX")
    assert [m.uid for m in msgs] == [1, 2, 3]
    before = (await platform.mail.mailbox(account, "INBOX")).highestmodseq
    modseq = await platform.mail.set_flags(account, "INBOX", [2], ["\\seen", "$Important"], "add")
    assert modseq > before
    msgs = {m.uid: m for m in await platform.mail.messages(account, "INBOX")}
    assert msgs[2].flags == ("$Important", "\\Seen") and msgs[2].modseq == modseq
    assert msgs[1].modseq < modseq
    info = await platform.mail.mailbox(account, "INBOX")
    assert (info.messages, info.unseen, info.uidnext) == (3, 2, 4)
    with pytest.raises(InvalidInput):
        await platform.mail.set_flags(account, "INBOX", [1], ["\\Recent"], "add")


async def test_expunge_remembers_uids_and_frees_quota(platform: Platform, clock):
    _l, account = await active_agent(platform)
    for n in range(3):
        await platform.mail.deliver([account], message(n))
    used_before, _limit = await platform.mail.quota(account)
    await platform.mail.set_flags(account, "INBOX", [1, 3], ["\\Deleted"], "add")
    mark = (await platform.mail.mailbox(account, "INBOX")).highestmodseq
    assert await platform.mail.expunge(account, "INBOX") == [1, 3]
    remaining = await platform.mail.messages(account, "INBOX")
    assert [m.uid for m in remaining] == [2]
    info = await platform.mail.mailbox(account, "INBOX")
    vanished = await platform.store.run(lambda c: mail_repo.expunged_since(c, info.id, mark))
    assert vanished == [1, 3]
    used_after, _ = await platform.mail.quota(account)
    assert used_after == sum(m.size for m in remaining) < used_before
    await platform.mail.deliver([account], message(9))
    assert [m.uid for m in await platform.mail.messages(account, "INBOX")] == [2, 4]  # never reused


async def test_quota_refuses_at_delivery_and_append(platform: Platform, settings):
    _l, account = await active_agent(platform)
    raw = message(1)
    small = dataclasses.replace(
        settings, mail=dataclasses.replace(settings.mail, quota_bytes=len(raw) * 2)
    )
    object.__setattr__(platform.mail, "_settings", small)
    await platform.mail.deliver([account], raw)
    await platform.mail.deliver([account], raw)
    result = await platform.mail.deliver([account], raw)
    assert account in result.refused and not result.delivered
    with pytest.raises(OverQuota):
        await platform.mail.append(account, "Brouillons", raw)
    used, limit = await platform.mail.quota(account)
    assert used == 2 * len(raw) == limit


async def test_copy_shares_the_blob_and_search_finds_accents(platform: Platform):
    _l, account = await active_agent(platform)
    await platform.mail.deliver([account], message(1, "Conseil de classe", "Les élèves de 3e B"))
    await platform.mail.deliver([account], message(2, "Sortie au musée", "Départ à 8 h"))
    pairs = await platform.mail.copy(account, "INBOX", [1, 2], "Archives")
    assert pairs == [(1, 1), (2, 2)]
    assert await platform.mail.search(account, "INBOX", ["eleves"]) == [1]
    assert await platform.mail.search(account, "Archives", ["musee"]) == [2]
    assert await platform.mail.search(account, "INBOX", ["marie"]) == [1, 2]
    copied = await platform.mail.messages(account, "Archives")
    assert (await platform.mail.raw(copied[0])).startswith(b"From: Marie Curie")
    with pytest.raises(NotFound):
        await platform.mail.messages(account, "Inexistant")


async def test_change_feed_tells_other_sessions(platform: Platform):
    _l, account = await active_agent(platform)
    inbox = await platform.mail.mailbox(account, "INBOX")
    queue = platform.mail.feed.subscribe(inbox.id)
    await platform.mail.deliver([account], message(1))
    await platform.mail.set_flags(account, "INBOX", [1], ["\\Seen"], "add")
    events = [await asyncio.wait_for(queue.get(), 1), await asyncio.wait_for(queue.get(), 1)]
    assert [(e.kind, e.uids) for e in events] == [("append", (1,)), ("flags", (1,))]
    platform.mail.feed.unsubscribe(inbox.id, queue)


async def test_garbage_collector_never_deletes_a_referenced_blob(platform: Platform, clock):
    _l, account = await active_agent(platform)
    raw = message(1)
    await platform.mail.deliver([account], raw)
    await platform.mail.expunge(account, "INBOX", [1])
    clock.advance(dt.timedelta(minutes=61))
    # Deliveries of the same bytes race with the collector: none may lose its body.
    results = await asyncio.gather(
        platform.mail.collect_garbage(), *(platform.mail.deliver([account], raw) for _ in range(5))
    )
    for info in await platform.mail.messages(account, "INBOX"):
        assert await platform.mail.raw(info) == raw
    assert results[0] in (0, 1)
    await platform.mail.expunge(
        account, "INBOX", [m.uid for m in await platform.mail.messages(account, "INBOX")]
    )
    clock.advance(dt.timedelta(minutes=61))
    assert await platform.mail.collect_garbage() == 1
    # Only the message's file goes (the activation code mail waits in the queue).
    files = [p.name for p in (platform.settings.data_dir / "blobs").rglob("*") if p.is_file()]
    assert blob_key(raw) not in files and len(files) == 1


async def test_concurrent_deliveries_are_stored_together_and_stay_consistent(
    platform: Platform, settings
):
    """Group commit: many deliveries at once, some over quota, one to a missing folder."""
    accounts = [(await active_agent(platform, n))[1] for n in range(1, 4)]
    small = dataclasses.replace(
        settings, mail=dataclasses.replace(settings.mail, quota_bytes=len(message(1)) * 5 + 50)
    )
    object.__setattr__(platform.mail, "_settings", small)
    raws = [message(n, subject=f"Lot {n}") for n in range(30)]
    outcomes = await asyncio.gather(
        *(
            platform.mail.deliver([accounts[n % 3], accounts[(n + 1) % 3]], raw)
            for n, raw in enumerate(raws)
        ),
        platform.mail.deliver([accounts[0]], message(99), mailbox="Absent"),
        return_exceptions=True,
    )
    assert isinstance(outcomes[-1], NotFound)
    delivered = sum(len(r.delivered) for r in outcomes[:-1])  # type: ignore[union-attr]
    refused = sum(len(r.refused) for r in outcomes[:-1])  # type: ignore[union-attr]
    assert delivered + refused == 60 and refused > 0
    for account in accounts:
        infos = await platform.mail.messages(account, "INBOX")
        uids = [m.uid for m in infos]
        assert uids == sorted(set(uids))
        used, limit = await platform.mail.quota(account)
        assert used == sum(m.size for m in infos) <= limit
    from academail.mail.integrity import check_integrity

    assert await check_integrity(platform.store, platform.blobs) == []
