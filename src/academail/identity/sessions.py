"""Web sessions: revocable, with idle and absolute timeouts, listed on "My account".

The cookie carries 32 random bytes; the database keeps only their SHA-256, so a
leaked table does not give live sessions. A session is tied to the credential
*generation* of its account: changing the password ends every other session.

Stages say how far the visitor got: ``anonymous`` (no account yet), ``otp``
(password right, TOTP code awaited), ``activation`` (temporary password of a
letter), ``enrol_otp`` (role that must enrol first), ``expired`` (password to
renew) and ``full`` (signed in).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from academail.config import Settings
from academail.core.clock import Clock
from academail.store import Connection, Store
from academail.store import credentials as cred_repo
from academail.store import sessions as session_repo
from academail.store.repos.credentials import AuthRecord
from academail.store.repos.sessions import SessionRow

__all__ = ["STAGES", "Session", "SessionService", "hash_session_id"]

STAGES = ("otp", "activation", "enrol_otp", "expired", "full")
_ENDED = frozenset({"suspended", "disabled", "deleted"})
# Steps of a sign-in that a lock interrupts; "recovery" (NUMEN or reset link, limited
# on their own) is not one: it is the way out of a lock.
_SIGN_IN_STEPS = frozenset({"otp", "activation", "enrol_otp", "expired"})


def hash_session_id(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True)
class Session:
    """What a request knows about its visitor."""

    raw_id: str
    id_hash: str
    account_id: str | None
    stage: str
    data: dict[str, Any]
    created_at: dt.datetime

    @property
    def signed_in(self) -> bool:
        return self.stage == "full" and self.account_id is not None


class SessionService:
    def __init__(self, store: Store, clock: Clock, settings: Settings) -> None:
        self._store = store
        self._clock = clock
        self._idle = dt.timedelta(minutes=settings.auth.session_idle_minutes)
        self._absolute = dt.timedelta(hours=settings.auth.session_absolute_hours)
        self._lockout = dt.timedelta(minutes=settings.identity.lockout_minutes)

    async def start(
        self,
        account_id: str,
        stage: str,
        ip: str,
        user_agent: str,
        data: dict[str, Any] | None = None,
    ) -> Session:
        """A new session (a new id at every sign-in step: no session fixation)."""
        raw = secrets.token_urlsafe(32)
        now = self._clock.now()

        def work(conn: Connection) -> int:
            record = cred_repo.load_for_auth(conn, account_id=account_id)
            generation = record.generation if record else 0
            session_repo.create(
                conn,
                id_hash=hash_session_id(raw),
                account_id=account_id,
                generation=generation,
                stage=stage,
                created_at=now,
                last_seen_at=now,
                expires_at=now + self._absolute,
                ip=ip[:64],
                user_agent=user_agent[:300],
                data=data or {},
            )
            return generation

        await self._store.run(work)
        return Session(raw, hash_session_id(raw), account_id, stage, data or {}, now)

    async def load(self, raw: str) -> Session | None:
        """The live session for a cookie value, touched; None when over or revoked."""
        id_hash = hash_session_id(raw)
        now = self._clock.now()

        def work(conn: Connection) -> SessionRow | None:
            row = session_repo.get(conn, id_hash)
            if row is None or row.revoked_at is not None or row.expires_at <= now:
                return None
            if now - row.last_seen_at > self._idle:
                session_repo.update(conn, id_hash, revoked_at=now)
                return None
            if row.account_id is not None:
                record = cred_repo.load_for_auth(conn, account_id=row.account_id)
                if record is None or record.generation != row.generation:
                    return None
                if record.state in _ENDED:  # suspended, disabled or deleted by support/HR
                    session_repo.update(conn, id_hash, revoked_at=now)
                    return None
                if self._started_before_lock(record, row):
                    # A lock ends the unfinished sign-ins begun before it (OTP step,
                    # activation, recovery): none may keep guessing behind it. A
                    # recovery started after the lock (NUMEN, reset link) is a way out.
                    session_repo.update(conn, id_hash, revoked_at=now)
                    return None
            if now - row.last_seen_at > dt.timedelta(seconds=60):
                session_repo.update(conn, id_hash, last_seen_at=now)
            return row

        row = await self._store.run(work)
        if row is None:
            return None
        return Session(raw, id_hash, row.account_id, row.stage, row.data, row.created_at)

    def _started_before_lock(self, record: AuthRecord, row: SessionRow) -> bool:
        if record.state != "locked" or row.stage not in _SIGN_IN_STEPS:
            return False
        if record.locked_until is None:
            return True
        return row.created_at <= record.locked_until - self._lockout

    async def advance(
        self,
        session: Session,
        stage: str,
        ip: str,
        user_agent: str,
        data: dict[str, Any] | None = None,
    ) -> Session:
        """Moves to another stage with a fresh id; the old id stops working."""
        if session.account_id is None:
            raise ValueError("only a session with an account has stages")
        await self.end(session)
        return await self.start(session.account_id, stage, ip, user_agent, data)

    async def set_data(self, session: Session, data: dict[str, Any]) -> Session:
        await self._store.run(lambda c: session_repo.update(c, session.id_hash, data=data))
        return Session(
            session.raw_id,
            session.id_hash,
            session.account_id,
            session.stage,
            data,
            session.created_at,
        )

    async def end(self, session: Session) -> None:
        now = self._clock.now()
        await self._store.run(lambda c: session_repo.update(c, session.id_hash, revoked_at=now))

    async def list_for(self, account_id: str) -> list[SessionRow]:
        now = self._clock.now()
        return await self._store.run(lambda c: session_repo.list_for(c, account_id, now))

    async def revoke(self, account_id: str, id_hash: str) -> bool:
        now = self._clock.now()
        return await self._store.run(lambda c: session_repo.revoke(c, id_hash, account_id, now))

    async def revoke_others(self, account_id: str, keep: str | None) -> None:
        now = self._clock.now()
        await self._store.run(lambda c: session_repo.revoke_all(c, account_id, now, keep))
