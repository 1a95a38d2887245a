"""The mail store service: mailboxes, delivery, append, flags, expunge, copy, search.

Every operation is one unit of work (store/repos/mail.py) after the CPU and file
work is done off the loop: the message is parsed once (mail/parse.py) and its bytes
written durably to the blob store *before* the transaction that makes it visible,
so a crash can leave an unreferenced blob (collected later) but never a visible
message without its bytes.

Blob lifetime: ``blob_refs`` counts the messages that use a blob. The garbage
collector (:meth:`MailStore.collect_garbage`) moves a candidate's file aside, then
deletes the row only if the count is still zero, and puts the file back otherwise;
a delivery that raced with it re-checks its file after commit and rewrites it from
the bytes it still holds. So a referenced blob is never lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Sequence

from academail.blobs import FileBlobStore
from academail.config import Settings
from academail.core.clock import Clock
from academail.core.errors import AlreadyExists, InvalidInput, NotFound, OverQuota
from academail.core.offload import off_loop
from academail.mail.batch import DeliveryBatcher, DeliveryJob, message_row
from academail.mail.feed import ChangeFeed, MailboxEvent
from academail.mail.model import (
    SPECIAL_USE_DEFAULTS,
    AppendResult,
    DeliveryResult,
    MailboxInfo,
    MessageInfo,
    ParsedMessage,
    SpecialUse,
)
from academail.mail.parse import parse_message
from academail.store import Connection, Store
from academail.store import mail as mail_repo
from academail.store.repos.mail import MailboxRow, MessageRow

__all__ = ["MailStore", "normalise_flags"]

_SYSTEM_FLAGS = {
    "\\seen": "\\Seen",
    "\\answered": "\\Answered",
    "\\flagged": "\\Flagged",
    "\\deleted": "\\Deleted",
    "\\draft": "\\Draft",
}
_MAX_NAME = 200


def normalise_flags(flags: Iterable[str]) -> tuple[str, ...]:
    """System flags in their canonical case, keywords as given; sorted, unique."""
    out = set()
    for flag in flags:
        flag = flag.strip()
        if not flag:
            continue
        if flag.startswith("\\"):
            canonical = _SYSTEM_FLAGS.get(flag.lower())
            if canonical is None:
                raise InvalidInput(f"drapeau inconnu : {flag[:30]}")
            out.add(canonical)
        elif all(33 <= ord(c) < 127 and c not in '(){%*"\\]' for c in flag):
            out.add(flag)
        else:
            raise InvalidInput("mot-clé invalide (RFC 9051 atom)")
    return tuple(sorted(out))


def _mailbox_info(row: MailboxRow) -> MailboxInfo:
    return MailboxInfo(
        row.id,
        row.account_id,
        row.name,
        SpecialUse(row.special_use) if row.special_use else None,
        row.subscribed,
        row.uidvalidity,
        row.uidnext,
        row.highestmodseq,
        row.messages,
        row.unseen,
    )


def _message_info(row: MessageRow) -> MessageInfo:
    return MessageInfo(
        row.id,
        row.mailbox_id,
        row.uid,
        row.modseq,
        tuple(row.flags.split()) if row.flags else (),
        row.internal_date,
        row.size,
        row.blob_key,
        row.subject,
        row.from_address,
        row.sent_at,
    )


class MailStore:
    def __init__(
        self, store: Store, blobs: FileBlobStore, clock: Clock, settings: Settings
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._clock = clock
        self._settings = settings
        self.feed = ChangeFeed()
        self._batcher = DeliveryBatcher(store, blobs, self.feed, self.quota_limit)

    # -- mailboxes ---------------------------------------------------------------------
    def _uidvalidity(self) -> int:
        """Time-based and unique enough: a recreated name never reuses a UIDVALIDITY."""
        return int(self._clock.now().timestamp()) * 1000 + secrets.randbelow(1000)

    def _ensure(self, conn: Connection, account_id: str) -> None:
        existing = {m.name for m in mail_repo.list_mailboxes(conn, account_id)}
        now = self._clock.now()
        for name, use in SPECIAL_USE_DEFAULTS:
            if name not in existing:
                mail_repo.create_mailbox(
                    conn, account_id, name, use.value if use else None, self._uidvalidity(), now
                )

    async def ensure_mailboxes(self, account_id: str) -> None:
        """INBOX and the special folders (done at activation; idempotent)."""
        await self._store.run(lambda conn: self._ensure(conn, account_id))

    async def mailboxes(self, account_id: str) -> list[MailboxInfo]:
        rows = await self._store.run(lambda conn: mail_repo.list_mailboxes(conn, account_id))
        return [_mailbox_info(r) for r in rows]

    async def mailbox(self, account_id: str, name: str) -> MailboxInfo:
        row = await self._store.run(lambda c: mail_repo.get_mailbox(c, account_id, _name(name)))
        if row is None:
            raise NotFound(f"dossier introuvable : {name[:_MAX_NAME]}")
        return _mailbox_info(row)

    async def create_mailbox(self, account_id: str, name: str) -> MailboxInfo:
        wanted = _name(name)

        def work(conn: Connection) -> MailboxRow:
            if mail_repo.get_mailbox(conn, account_id, wanted) is not None:
                raise AlreadyExists(f"le dossier existe déjà : {wanted}")
            mail_repo.create_mailbox(
                conn, account_id, wanted, None, self._uidvalidity(), self._clock.now()
            )
            row = mail_repo.get_mailbox(conn, account_id, wanted)
            if row is None:
                raise RuntimeError("mailbox not visible after creation")
            return row

        return _mailbox_info(await self._store.run(work))

    # -- delivery and append -----------------------------------------------------------
    def quota_limit(self, role: str) -> int:
        override = self._settings.mail.quota_by_role.get(role)
        return int(override) if override else self._settings.mail.quota_bytes

    async def deliver(
        self,
        account_ids: Sequence[str],
        raw: bytes,
        mailbox: str = "INBOX",
        parsed: ParsedMessage | None = None,
    ) -> DeliveryResult:
        """One message to several local accounts: one blob, one row per mailbox.

        ``parsed`` is ``raw``'s parse when the caller has it already (the delivery
        pipeline parses once). Concurrent deliveries are stored together, one
        commit for all (mail/batch.py): the throughput of group commit.
        """
        if parsed is None:
            parsed = await off_loop(parse_message, raw)
        key = await self._blobs.put(raw)
        job = DeliveryJob(
            list(dict.fromkeys(account_ids)),
            _name(mailbox),
            parsed,
            raw,
            key,
            self._clock.now(),
            self._ensure,
            asyncio.get_running_loop().create_future(),
        )
        result, events = await self._batcher.submit(job)  # blob re-checked by the batch
        for event in events:
            self.feed.publish(event)
        return result

    async def append(
        self,
        account_id: str,
        mailbox: str,
        raw: bytes,
        flags: Iterable[str] = (),
        internal_date: dt.datetime | None = None,
    ) -> AppendResult:
        """IMAP APPEND / webmail drafts and sent copies."""
        wanted_flags = normalise_flags(flags)
        parsed = await off_loop(parse_message, raw)
        key = await self._blobs.put(raw)
        when = internal_date or self._clock.now()

        def work(conn: Connection) -> AppendResult:
            appended = self._append(
                conn, account_id, _name(mailbox), parsed, key, wanted_flags, when
            )
            mail_repo.add_blob_refs(conn, key, len(raw), 1)
            self.feed.stage(conn, [_appended(appended)])
            return appended

        appended = await self._store.run(work)
        await self._after_commit(key, raw, [_appended(appended)])
        return appended

    def _append(
        self,
        conn: Connection,
        account_id: str,
        mailbox: str,
        parsed: ParsedMessage,
        key: str,
        flags: tuple[str, ...],
        when: dt.datetime,
    ) -> AppendResult:
        box = mail_repo.mailbox_id(conn, account_id, mailbox)
        if box is None and mailbox == "INBOX":
            self._ensure(conn, account_id)
            box = mail_repo.mailbox_id(conn, account_id, mailbox)
        if box is None:
            raise NotFound(f"dossier introuvable : {mailbox}")
        used, _count = mail_repo.quota_of(conn, account_id)
        if used + parsed.size > self.quota_limit(mail_repo.role_of(conn, account_id)):
            raise OverQuota("boîte aux lettres pleine : quota dépassé")
        uid, modseq, uidvalidity = mail_repo.allocate(conn, box, 1)
        message_id = mail_repo.insert_message(
            conn, message_row(parsed, box, uid, modseq, " ".join(flags), when, key)
        )
        addresses = " ".join((parsed.from_address, parsed.to_addresses, parsed.cc_addresses))
        mail_repo.index_text(conn, message_id, parsed.subject, addresses, parsed.text)
        mail_repo.change_quota(conn, account_id, parsed.size, 1)
        return AppendResult(box, uidvalidity, uid, modseq)

    async def _after_commit(self, key: str, raw: bytes, events: list[MailboxEvent]) -> None:
        if events and not await self._blobs.exists(key):  # a collector raced us
            await self._blobs.put(raw)
        for event in events:
            self.feed.publish(event)

    # -- reading -------------------------------------------------------------------------
    async def messages(self, account_id: str, mailbox: str) -> list[MessageInfo]:
        info = await self.mailbox(account_id, mailbox)
        rows = await self._store.run(lambda c: mail_repo.list_messages(c, info.id))
        return [_message_info(r) for r in rows]

    async def raw(self, message: MessageInfo) -> bytes:
        return await self._blobs.get(message.blob_key)

    async def search(self, account_id: str, mailbox: str, words: Sequence[str]) -> list[int]:
        info = await self.mailbox(account_id, mailbox)
        return await self._store.run(lambda c: mail_repo.search_text(c, info.id, words))

    async def quota(self, account_id: str) -> tuple[int, int]:
        """(bytes used, bytes allowed)."""

        def work(conn: Connection) -> tuple[int, int]:
            used, _count = mail_repo.quota_of(conn, account_id)
            return used, self.quota_limit(mail_repo.role_of(conn, account_id))

        return await self._store.run(work)

    # -- changes -------------------------------------------------------------------------
    async def set_flags(
        self, account_id: str, mailbox: str, uids: Sequence[int], flags: Iterable[str], mode: str
    ) -> int:
        """``mode``: add, remove or replace (STORE +FLAGS, -FLAGS, FLAGS); returns the MODSEQ."""
        wanted = set(normalise_flags(flags))
        info = await self.mailbox(account_id, mailbox)

        def work(conn: Connection) -> tuple[int, MailboxEvent | None]:
            rows = mail_repo.messages_by_uids(conn, info.id, uids)
            changes: dict[int, str] = {}
            for row in rows:
                current = set(row.flags.split()) if row.flags else set()
                new = (
                    current | wanted
                    if mode == "add"
                    else current - wanted
                    if mode == "remove"
                    else wanted
                )
                if new != current:
                    changes[row.uid] = " ".join(sorted(new))
            if not changes:
                return info.highestmodseq, None
            _uid, modseq, _v = mail_repo.allocate(conn, info.id, 0)
            mail_repo.set_flags(conn, info.id, changes, modseq)
            event = MailboxEvent(info.id, "flags", tuple(sorted(changes)), modseq)
            self.feed.stage(conn, [event])
            return modseq, event

        modseq, event = await self._store.run(work)
        if event is not None:
            self.feed.publish(event)
        return modseq

    async def expunge(
        self, account_id: str, mailbox: str, uids: Sequence[int] | None = None
    ) -> list[int]:
        """Removes the given UIDs (default: those flagged \\Deleted); returns them."""
        info = await self.mailbox(account_id, mailbox)
        now = self._clock.now()

        def work(conn: Connection) -> tuple[list[int], MailboxEvent | None]:
            if uids is not None:
                targets = [r.uid for r in mail_repo.messages_by_uids(conn, info.id, uids)]
            else:
                rows = mail_repo.list_messages(conn, info.id)
                targets = [r.uid for r in rows if "\\Deleted" in r.flags.split()]
            if not targets:
                return [], None
            _uid, modseq, _v = mail_repo.allocate(conn, info.id, 0)
            gone = mail_repo.delete_messages(conn, info.id, targets, modseq)
            mail_repo.zero_blobs(conn, [m.blob_key for m in gone], now)
            mail_repo.change_quota(conn, account_id, -sum(m.size for m in gone), -len(gone))
            removed = sorted(m.uid for m in gone)
            if not removed:
                return [], None
            event = MailboxEvent(info.id, "expunge", tuple(removed), modseq)
            self.feed.stage(conn, [event])
            return removed, event

        removed, event = await self._store.run(work)
        if event is not None:
            self.feed.publish(event)
        return removed

    async def copy(
        self, account_id: str, source: str, uids: Sequence[int], target: str
    ) -> list[tuple[int, int]]:
        """IMAP COPY: new rows sharing the blobs; returns (source uid, new uid) pairs."""
        src = await self.mailbox(account_id, source)
        dst = await self.mailbox(account_id, target)

        def work(conn: Connection) -> tuple[list[tuple[int, int]], MailboxEvent | None]:
            rows = mail_repo.messages_by_uids(conn, src.id, uids)
            if not rows:
                return [], None
            used, _count = mail_repo.quota_of(conn, account_id)
            limit = self.quota_limit(mail_repo.role_of(conn, account_id))
            if used + sum(r.size for r in rows) > limit:
                raise OverQuota("boîte aux lettres pleine : quota dépassé")
            first, modseq, _v = mail_repo.allocate(conn, dst.id, len(rows))
            pairs = []
            for offset, row in enumerate(rows):
                mail_repo.copy_message(conn, row.id, dst.id, first + offset, modseq)
                mail_repo.add_blob_refs(conn, row.blob_key, row.size, 1)
                pairs.append((row.uid, first + offset))
            mail_repo.change_quota(conn, account_id, sum(r.size for r in rows), len(rows))
            event = MailboxEvent(dst.id, "append", tuple(n for _o, n in pairs), modseq)
            self.feed.stage(conn, [event])
            return pairs, event

        pairs, event = await self._store.run(work)
        if event is not None:
            self.feed.publish(event)
        return pairs

    # -- garbage collection --------------------------------------------------------------
    async def collect_garbage(self) -> int:
        """Deletes blobs unreferenced for longer than the grace period; returns how many."""
        grace = dt.timedelta(minutes=self._settings.mail.blob_gc_grace_minutes)
        now = self._clock.now()
        candidates = await self._store.run(lambda c: mail_repo.unreferenced_blobs(c, now - grace))
        removed = 0
        for key in candidates:
            aside = await self._blobs.set_aside(key)
            deleted = await self._store.run(_forget(key))
            if deleted:
                await self._blobs.discard_aside(aside)
                removed += 1
            else:
                await self._blobs.restore_aside(key, aside)
        return removed


def _name(name: str) -> str:
    """Mailbox names: NFC, no control characters, INBOX case-insensitive (RFC 9051 §5.1)."""
    cleaned = unicodedata.normalize("NFC", name.strip())
    if not cleaned or len(cleaned) > _MAX_NAME or any(ord(c) < 32 or c == "\x7f" for c in cleaned):
        raise InvalidInput("nom de dossier invalide")
    if cleaned.upper() == "INBOX":
        return "INBOX"
    if cleaned.startswith("/") or cleaned.endswith("/") or "//" in cleaned:
        raise InvalidInput("nom de dossier invalide (séparateur « / »)")
    return cleaned


def _forget(key: str) -> Callable[[Connection], bool]:
    return lambda conn: mail_repo.forget_blob(conn, key)


def _appended(appended: AppendResult) -> MailboxEvent:
    return MailboxEvent(appended.mailbox_id, "append", (appended.uid,), appended.modseq)
