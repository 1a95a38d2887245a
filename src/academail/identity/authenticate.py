"""THE sign-in path: every door (portal, webmail, IMAP, SMTP, POP3, SSO) calls
:meth:`Authenticator.authenticate`; no other code decides whether a secret is right.

Security posture: talks to untrusted input before authentication. What it enforces,
in order:

1. **Per-IP throttle** (:mod:`.throttle`) before any lookup or argon2 work.
2. **Lookup** by login, address or alias (case and blanks ignored). An unknown
   identifier, or an account that may not sign in (locked, suspended, disabled,
   deleted), still pays one argon2 verification against a dummy hash, so the answer
   and its timing are the same as for a wrong password (non-enumeration).
3. **Secrets**: the chosen password (argon2id, off the loop); for an account not yet
   activated, the temporary password of its letter (→ activation, portal only); for
   protocol doors of an agent with OTP, only an *application password* (a random
   secret checked with a keyed HMAC: fast, and safe because it has ~100 bits).
4. **Lockout**: ``lockout_threshold`` (5) *distinct* wrong secrets lock the account
   for ``lockout_minutes`` (30). A phone retrying the same old password after a
   password change sends the same wrong secret again and again: it counts once (we
   keep the HMACs of the last wrong secrets), otherwise one stale device would lock
   its owner out within seconds, all day long. The agent is told by e-mail with an
   "it wasn't me" link, and the device that fails is recorded for their account page.
5. **Verified-credentials cache** for protocol doors: a password verified once is
   trusted for ``credentials_cache_minutes`` at the same credential *generation*, so
   phones that reconnect all day do not pay argon2 each time; changing the password
   bumps the generation and the cache entry no longer matches.
6. **Audit**: every failure, lockout and web sign-in is audited; protocol successes
   are recorded per device (first use audited) rather than one audit row per IMAP
   reconnection.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, final

from academail.config import Settings
from academail.core.clock import Clock, to_paris
from academail.core.keys import Keys
from academail.core.secretbox import derive_key, keyed_hash, open_sealed
from academail.identity import messages, otp
from academail.identity.lifecycle import AccountState, Event, transition
from academail.identity.naming import normalise_identifier
from academail.identity.passwords import HashCost, hash_off_loop, verify_off_loop
from academail.identity.policy import ExpiryStatus, expiry_state
from academail.identity.policy_settings import policy_for
from academail.identity.throttle import IpThrottle
from academail.notify import Notifier
from academail.store import AuditEntry, Connection, Store
from academail.store import audit as audit_repo
from academail.store import credentials as cred_repo
from academail.store import directory as directory_repo
from academail.store import tokens as token_repo
from academail.store.repos.credentials import AuthRecord

__all__ = ["AuthContext", "AuthResult", "Authenticator", "Door", "Outcome", "device_id"]


class Door(enum.Enum):
    PORTAL = "portal"
    WEBMAIL = "webmail"
    SSO = "sso"
    IMAP = "imap"
    SMTP = "smtp"
    POP3 = "pop3"
    MANAGESIEVE = "sieve"

    @property
    def is_protocol(self) -> bool:
        return self in _PROTOCOL_DOORS


_PROTOCOL_DOORS = frozenset({Door.IMAP, Door.SMTP, Door.POP3, Door.MANAGESIEVE})


class Outcome(enum.Enum):
    OK = "ok"
    NEED_OTP = "need_otp"  # password right; the portal asks the TOTP code next
    MUST_ACTIVATE = "must_activate"  # temporary password of a letter: activation flow
    TEMP_EXPIRED = "temp_expired"  # right temporary password, past its deadline
    PASSWORD_EXPIRED = "password_expired"  # noqa: S105 - right password, past the policy's expiry
    FAILED = "failed"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class AuthContext:
    door: Door
    remote_ip: str
    client: str = ""  # IMAP ID, user agent…: names the device on the account page


@dataclass(frozen=True)
class AuthResult:
    outcome: Outcome
    account_id: str | None = None
    login: str | None = None
    message: str = ""
    via_app_password: bool = False
    then: Outcome | None = None  # after NEED_OTP: where the right code leads

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


def device_id(account_id: str, door: Door, client: str) -> str:
    text = f"{account_id}|{door.value}|{client[:300]}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_FAILED = AuthResult(Outcome.FAILED, message=messages.LOGIN_FAILED)
_CAN_SIGN_IN = {AccountState.LETTER_ISSUED, AccountState.ACTIVE}
_DEVICE_TOUCH = dt.timedelta(minutes=5)
_RECENT_SECRETS = 5
_RECORD_TTL = dt.timedelta(seconds=10)
_MAX_RECORDS = 100_000


@dataclass
class _Cached:
    generation: int
    mac: str
    verified_at: dt.datetime


class Authenticator:
    """Decides sign-ins. One instance per process (it holds the caches)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        keys: Keys,
        settings: Settings,
        notifier: Notifier,
        password_cost: HashCost,
    ) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings
        self._notifier = notifier
        self._cost = password_cost
        self._mac_key = derive_key(keys.tokens, "failed-secrets")
        self.app_password_key = derive_key(keys.tokens, "app-passwords")
        self.otp_key = derive_key(keys.tokens, "otp-seeds")
        auth = settings.auth
        self._throttle = IpThrottle(
            clock, auth.ip_failure_limit, dt.timedelta(minutes=auth.ip_window_minutes)
        )
        self._cache: dict[str, _Cached] = {}
        self._records: dict[str, tuple[AuthRecord, dt.datetime]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._touched: dict[str, dt.datetime] = {}
        self._dummy_hash: str | None = None
        self._policy = policy_for(settings)
        self._expiry_days = self._policy.expiry_days

    # -- the one entry point -------------------------------------------------------------
    @final
    async def authenticate(self, identifier: str, secret: str, ctx: AuthContext) -> AuthResult:
        """Checks ``secret`` for ``identifier`` coming through ``ctx.door``."""
        started = asyncio.get_running_loop().time()
        if self._throttle.blocked(ctx.remote_ip):
            return AuthResult(Outcome.THROTTLED, message=messages.THROTTLED)
        result = await self._decide(identifier, secret, ctx)
        if not result.ok and result.outcome is not Outcome.THROTTLED:
            # Every failure takes at least the same time, whatever path it took.
            floor = self._settings.auth.failure_floor_ms / 1000
            remaining = floor - (asyncio.get_running_loop().time() - started)
            if remaining > 0:
                await asyncio.sleep(remaining)
        return result

    async def _decide(self, identifier: str, secret: str, ctx: AuthContext) -> AuthResult:
        key = normalise_identifier(identifier)
        now = self._clock.now()
        record = await self._lookup(key, ctx, now) if key else None
        if record is None or self._blocked(record, now):
            await self._dummy_verify(secret)
            await self._failed(record, secret, ctx, now, counted=False)
            return _FAILED
        result = await self._check(record, secret, ctx, now)
        if result.outcome is Outcome.FAILED:
            await self._failed(record, secret, ctx, now, counted=True)
            return _FAILED
        await self._succeeded(record, ctx, now, result)
        return result

    async def drain(self) -> None:
        """Waits for the notifications still being sent (shutdown, tests)."""
        while self._background:
            await asyncio.gather(*list(self._background))

    def invalidate(self, account_id: str) -> None:
        """Forgets a cached verification (password changed, account locked…)."""
        self._cache.pop(account_id, None)
        self._forget_record(account_id)

    def _forget_record(self, account_id: str) -> None:
        for key in [k for k, (r, _) in self._records.items() if r.account_id == account_id]:
            del self._records[key]

    async def _lookup(self, key: str, ctx: AuthContext, now: dt.datetime) -> AuthRecord | None:
        """The account's sign-in record; protocol doors reuse one read for a few seconds.

        A phone's IMAP and SMTP connections arrive in bursts; re-reading the same row
        for each would make the database the limit. A change made on this node
        (password, lock) invalidates at once; on another node it is seen within
        ``_RECORD_TTL`` (the cross-node change feed will shorten this).
        """
        if ctx.door.is_protocol:
            hit = self._records.get(key)
            if hit is not None and now - hit[1] < _RECORD_TTL:
                return hit[0]
        record = await self._store.run(lambda c: cred_repo.load_for_auth(c, key))
        if record is not None and ctx.door.is_protocol:
            if len(self._records) > _MAX_RECORDS:
                self._records.clear()
            self._records[key] = (record, now)
        return record

    # -- checks ----------------------------------------------------------------------------
    def _blocked(self, record: AuthRecord, now: dt.datetime) -> bool:
        state = AccountState(record.state)
        if state is AccountState.LOCKED:
            return record.locked_until is None or record.locked_until > now
        return state not in _CAN_SIGN_IN

    async def _check(
        self, record: AuthRecord, secret: str, ctx: AuthContext, now: dt.datetime
    ) -> AuthResult:
        base = AuthResult(Outcome.OK, record.account_id, record.login)
        not_active = AccountState(record.state) is AccountState.LETTER_ISSUED
        if ctx.door.is_protocol:
            if not_active:  # mail clients only once the account is activated
                await self._dummy_verify(secret)
                return _FAILED
            return await self._check_protocol(record, secret, ctx, now, base)
        outcome: Outcome | None = None
        if record.password_hash and await verify_off_loop(record.password_hash, secret):
            if not_active:  # a password set by self-service: recovery data still to give
                outcome = Outcome.MUST_ACTIVATE
            elif self._password_expired(record, now):
                outcome = Outcome.PASSWORD_EXPIRED
            else:
                outcome = Outcome.OK
        elif record.temp_password_hash and await verify_off_loop(record.temp_password_hash, secret):
            expired = (
                record.temp_password_expires_at is None or record.temp_password_expires_at <= now
            )
            if expired:
                return _with(base, Outcome.TEMP_EXPIRED)
            outcome = Outcome.MUST_ACTIVATE
        if outcome is None:
            if not record.password_hash:  # only the cheap temporary hash was checked
                await self._dummy_verify(secret)
            return _FAILED
        if record.has_otp:  # the second factor comes before anything the password opens
            return AuthResult(Outcome.NEED_OTP, record.account_id, record.login, then=outcome)
        return _with(base, outcome)

    async def _check_protocol(
        self, record: AuthRecord, secret: str, ctx: AuthContext, now: dt.datetime, base: AuthResult
    ) -> AuthResult:
        # Only argon2-verified passwords are cached. Application passwords are checked
        # in the database every time (one indexed HMAC lookup, cheap), so revoking one
        # takes effect on every node at once; and the chosen password is never accepted
        # once OTP is on (``has_otp`` comes from a record at most 10 s old).
        if record.has_otp:
            if await self._app_password(record, secret, ctx, now):
                return AuthResult(
                    Outcome.OK, record.account_id, record.login, via_app_password=True
                )
            await self._dummy_verify(secret)  # the cost of a wrong password elsewhere
            return _FAILED  # with OTP, clients use application passwords only
        mac = keyed_hash(self._mac_key, f"{record.account_id}|{secret}")
        if self._cached(record, mac, now):  # verified moments ago: no argon2, no I/O
            return self._fresh(record, base, now)
        if await self._app_password(record, secret, ctx, now):
            return AuthResult(Outcome.OK, record.account_id, record.login, via_app_password=True)
        if not record.password_hash or not await verify_off_loop(record.password_hash, secret):
            return _FAILED
        self._cache[record.account_id] = _Cached(record.generation, mac, now)
        return self._fresh(record, base, now)

    def _cached(self, record: AuthRecord, mac: str, now: dt.datetime) -> bool:
        cached = self._cache.get(record.account_id)
        ttl = dt.timedelta(minutes=self._settings.auth.credentials_cache_minutes)
        return (
            cached is not None
            and cached.generation == record.generation
            and now - cached.verified_at < ttl
            and hmac.compare_digest(cached.mac, mac)
        )

    def _fresh(self, record: AuthRecord, base: AuthResult, now: dt.datetime) -> AuthResult:
        if self._password_expired(record, now):
            return _with(base, Outcome.PASSWORD_EXPIRED)
        return base

    async def _app_password(
        self, record: AuthRecord, secret: str, ctx: AuthContext, now: dt.datetime
    ) -> bool:
        compact = "".join(secret.split()).lower()
        if len(compact) < 16:
            return False
        digest = keyed_hash(self.app_password_key, compact)
        found = await self._store.run(lambda c: cred_repo.app_password_by_hash(c, digest))
        if found is None or found.account_id != record.account_id or found.revoked_at is not None:
            return False

        if found.last_used_at is None or now - found.last_used_at > _DEVICE_TOUCH:
            await self._store.run(
                lambda c: cred_repo.touch_app_password(c, found.id, now, ctx.remote_ip)
            )
        return True

    def _password_expired(self, record: AuthRecord, now: dt.datetime) -> bool:
        days = self._expiry_days
        changed = record.password_changed_at
        return days > 0 and changed is not None and now - changed >= dt.timedelta(days=days)

    async def _dummy_verify(self, secret: str) -> None:
        if self._dummy_hash is None:
            self._dummy_hash = await hash_off_loop(secrets.token_urlsafe(16), self._cost)
        await verify_off_loop(self._dummy_hash, secret)

    # -- outcomes --------------------------------------------------------------------------
    async def _failed(
        self,
        record: AuthRecord | None,
        secret: str,
        ctx: AuthContext,
        now: dt.datetime,
        *,
        counted: bool,
    ) -> None:
        if self._throttle.failure(ctx.remote_ip):
            entry = AuditEntry(
                now, f"ip:{ctx.remote_ip}", "auth.ip_throttled", "", {"door": ctx.door.value}
            )
            await self._store.run(lambda c: audit_repo.append(c, [entry]))
        if record is None:
            entry = AuditEntry(
                now, f"ip:{ctx.remote_ip}", "auth.failure", "?", {"door": ctx.door.value}
            )
            await self._store.run(lambda c: audit_repo.append(c, [entry]))
            return
        self.invalidate(record.account_id)
        mac = keyed_hash(self._mac_key, f"{record.account_id}|{secret}")
        locked = await self._store.run(
            lambda c: self._count_failure(c, record, mac, ctx, now, counted)
        )
        if locked:  # mailed in the background: the answer must not take longer
            task = asyncio.create_task(self._notify_lockout(record, ctx, now))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def _count_failure(
        self,
        conn: Connection,
        record: AuthRecord,
        mac: str,
        ctx: AuthContext,
        now: dt.datetime,
        counted: bool,
    ) -> bool:
        device = device_id(record.account_id, ctx.door, ctx.client)
        cred_repo.touch_device(
            conn, device, record.account_id, ctx.door.value, ctx.client, ctx.remote_ip, now, False
        )
        repeated = mac in record.recent_failed_secrets
        details: dict[str, Any] = {
            "door": ctx.door.value,
            "ip": ctx.remote_ip,
            "repeated": repeated,
        }
        audit_repo.append(
            conn, [AuditEntry(now, f"ip:{ctx.remote_ip}", "auth.failure", record.login, details)]
        )
        if not counted or repeated:
            return False
        recent = [*record.recent_failed_secrets, mac][-_RECENT_SECRETS:]
        count = cred_repo.count_failure(conn, record.account_id, recent, now)
        if count < self._settings.auth.lockout_threshold:
            return False
        fresh = cred_repo.load_for_auth(conn, account_id=record.account_id)
        if fresh is None or fresh.state not in ("active", "letter_issued", "locked"):
            return False
        if fresh.state == "locked" and fresh.locked_until and fresh.locked_until > now:
            return False  # a parallel guess locked it already
        state = AccountState(fresh.state)
        if state is AccountState.LOCKED:  # an expired lock: the account resumes first
            state = AccountState(record.resume_state or AccountState.ACTIVE.value)
        outcome = transition(state, Event.LOCK)
        until = now + dt.timedelta(minutes=self._settings.identity.lockout_minutes)
        directory_repo.update_rows(
            conn,
            "accounts",
            "id",
            [
                {
                    "id": record.account_id,
                    "state": outcome.state.value,
                    "resume_state": outcome.resume_state.value if outcome.resume_state else None,
                    "locked_until": until,
                    "state_changed_at": now,
                    "updated_at": now,
                }
            ],
        )
        cred_repo.update(
            conn,
            record.account_id,
            failed_count=0,
            last_failure_at=now,
            recent_failed_secrets=recent,
        )
        audit_repo.append(
            conn,
            [
                AuditEntry(
                    now,
                    "system",
                    "auth.lockout",
                    record.login,
                    {"until": until.isoformat(), "door": ctx.door.value, "ip": ctx.remote_ip},
                )
            ],
        )
        return True

    async def _succeeded(
        self, record: AuthRecord, ctx: AuthContext, now: dt.datetime, result: AuthResult
    ) -> None:
        device = device_id(record.account_id, ctx.door, ctx.client)
        last = self._touched.get(device)
        needs_write = (
            not ctx.door.is_protocol
            or record.failed_count
            or record.recent_failed_secrets
            or AccountState(record.state) is AccountState.LOCKED
            or last is None
            or now - last > _DEVICE_TOUCH
        )
        if not needs_write:
            return
        self._touched[device] = now
        if record.failed_count or record.recent_failed_secrets or record.state != "active":
            self._forget_record(record.account_id)  # the write below changes the record

        def work(conn: Connection) -> None:
            first_time = not any(
                d.id == device for d in cred_repo.devices_of(conn, record.account_id)
            )
            cred_repo.touch_device(
                conn,
                device,
                record.account_id,
                ctx.door.value,
                ctx.client,
                ctx.remote_ip,
                now,
                True,
            )
            if AccountState(record.state) is AccountState.LOCKED:  # the lock is over
                back = record.resume_state or AccountState.ACTIVE.value
                directory_repo.update_rows(
                    conn,
                    "accounts",
                    "id",
                    [
                        {
                            "id": record.account_id,
                            "state": back,
                            "resume_state": None,
                            "locked_until": None,
                            "state_changed_at": now,
                            "updated_at": now,
                        }
                    ],
                )
            if record.failed_count or record.recent_failed_secrets:
                cred_repo.update(conn, record.account_id, failed_count=0, recent_failed_secrets=[])
            if not ctx.door.is_protocol or first_time:
                details = {
                    "door": ctx.door.value,
                    "ip": ctx.remote_ip,
                    "outcome": result.outcome.value,
                }
                audit_repo.append(
                    conn, [AuditEntry(now, record.login, "auth.success", record.login, details)]
                )

        await self._store.run(work)
        await self._warn_expiry(record, now)

    async def _warn_expiry(self, record: AuthRecord, now: dt.datetime) -> None:
        """The e-mail half of the expiry warning (the banner is on the portal pages):
        sent once, at the first sign-in inside the warning window, from any door, so
        that an agent who only uses a phone is told too."""
        changed = record.password_changed_at
        if changed is None or record.expiry_warned_at is not None:
            return
        state = expiry_state(changed, now, self._policy)
        if state.status is not ExpiryStatus.WARN or state.expires_at is None:
            return
        self._forget_record(record.account_id)
        await self._store.run(
            lambda c: cred_repo.update(c, record.account_id, expiry_warned_at=now)
        )
        portal = (self._settings.web.public_url or self._settings.academie.portal_url).rstrip("/")
        when = to_paris(state.expires_at).strftime("%d/%m/%Y")
        body = (
            f"Bonjour {record.first_name},\n\n"
            f"Le mot de passe de votre compte {record.login} expire le {when} "
            f"(dans {state.days_left} jours). Changez-le dans « Mon compte » :\n"
            f"{portal}/compte/mot-de-passe\n\n"
            "Pensez ensuite à le mettre à jour dans vos logiciels de messagerie et sur "
            "votre téléphone.\nL'académie ne vous demandera jamais votre mot de passe.\n"
        )
        recipients = [record.address]
        if record.recovery_email and record.recovery_email_verified_at:
            recipients.append(record.recovery_email)
        await self._notifier.email(recipients, "Votre mot de passe expire bientôt", body)

    async def _notify_lockout(self, record: AuthRecord, ctx: AuthContext, now: dt.datetime) -> None:
        token = secrets.token_urlsafe(32)
        expires = now + dt.timedelta(days=7)

        def work(conn: Connection) -> None:
            token_repo.add(
                conn,
                hashlib.sha256(token.encode()).hexdigest(),
                "not_me",
                record.account_id,
                now,
                expires,
            )

        await self._store.run(work)
        portal = (self._settings.web.public_url or self._settings.academie.portal_url).rstrip("/")
        minutes = self._settings.identity.lockout_minutes
        body = (
            f"Bonjour {record.first_name},\n\n"
            f"Après plusieurs mots de passe erronés, votre compte {record.login} est verrouillé "
            f"pendant {minutes} minutes.\n\n"
            f"Dernière tentative : {ctx.door.value}, depuis {ctx.remote_ip}"
            + (f" (logiciel déclaré : {_printable(ctx.client)})" if ctx.client else "")
            + ".\nSi c'est un appareil à vous (un téléphone qui garde votre ancien mot de passe), "
            "mettez-le à jour : votre espace « Mon compte » le signale.\n\n"
            f"Ce n'était pas vous ? Suspendez votre compte et prévenez l'assistance :\n"
            f"{portal}/pas-moi?jeton={token}\n\n"
            "L'académie ne vous demandera jamais votre mot de passe.\n"
        )
        recipients = [record.address]
        if record.recovery_email and record.recovery_email_verified_at:
            recipients.append(record.recovery_email)
        await self._notifier.email(recipients, "Votre compte de messagerie est verrouillé", body)

    # -- second factor ---------------------------------------------------------------------
    async def verify_second_factor(self, account_id: str, code: str, ctx: AuthContext) -> bool:
        """A TOTP code (never twice) or an unused recovery code; failures count like passwords.

        The same gates as a password: a throttled address or a locked account gets no
        answer at all, so the code cannot be brute-forced behind a lock.
        """
        now = self._clock.now()
        if self._throttle.blocked(ctx.remote_ip):
            return False
        record = await self._store.run(lambda c: cred_repo.load_for_auth(c, account_id=account_id))
        if record is None or not record.has_otp or record.otp_secret_sealed is None:
            return False
        if self._blocked(record, now):
            return False
        seed = open_sealed(record.otp_secret_sealed, record.account_id, self.otp_key).decode(
            "ascii"
        )
        step = otp.verify_totp(seed, code, now, record.otp_last_step)
        if step is not None and await self._store.run(
            lambda c: cred_repo.use_otp_step(c, account_id, step)
        ):
            return True
        if await self._store.run(lambda c: self._use_recovery_code(c, account_id, code, now)):
            return True
        await self._failed(record, f"otp:{code}", ctx, now, counted=True)
        return False

    def _use_recovery_code(
        self, conn: Connection, account_id: str, code: str, now: dt.datetime
    ) -> bool:
        stored = cred_repo.recovery_code_hashes(conn, account_id)
        index = otp.match_recovery_code(code, [h for _, h in stored], self.otp_key)
        if index is None:
            return False
        if not cred_repo.use_recovery_code(conn, stored[index][0], now):
            return False  # used by a parallel request a moment ago
        audit_repo.append(
            conn, [AuditEntry(now, "agent", "auth.recovery_code_used", account_id, {})]
        )
        return True


def _with(result: AuthResult, outcome: Outcome) -> AuthResult:
    return AuthResult(
        outcome, result.account_id, result.login, result.message, result.via_app_password
    )


def _printable(text: str) -> str:
    """What a client said about itself, made harmless for an official e-mail."""
    kept = "".join(c for c in text if c.isascii() and c.isprintable())
    return kept[:60] or "?"
