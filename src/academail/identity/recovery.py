"""Self-service recovery: identification by NUMEN + date of birth, forgotten-password
links, and the "it wasn't me" link of the lockout mail.

Security posture: every method answers anonymous visitors, before any
authentication. Threats, and what stands against each (OWASP ASVS 4.0 V2.5
"Credential recovery", OWASP Forgot Password Cheat Sheet):

* **Guessing NUMEN + date of birth.** A NUMEN is often known to colleagues and a
  birth date has about 20,000 plausible values, so each try costs a captcha solved
  once (the challenge is deleted at the first check, whatever the answer), and is
  counted per IP (``self_service_ip_limit`` per window) and per NUMEN whatever the
  date (``self_service_numen_limit`` per hour, keyed by an HMAC of the NUMEN: the
  clear value is never stored). Every successful identification is mailed to the
  agent (académie and verified recovery addresses: page, time, IP), whether or not
  a password follows: reading the mail settings is a use of the NUMEN too.
* **Enumeration.** Unknown NUMEN, wrong date, wrong captcha, an account that may not
  recover (suspended, disabled, deleted) and a NUMEN over its limit all give the
  same outcome and text (:data:`messages.SELF_SERVICE_FAILED`), after the same
  database work. The reset request always answers :data:`messages.RESET_SENT`, and
  the unknown-account path makes the same round trips as the one that sends a
  link (one unit of work, then one more query where the other inserts the mail).
* **Stolen or replayed links.** 32 random bytes, stored as SHA-256 (a copy of the
  table gives no live link), valid ``reset_link_minutes``, single use even when
  two requests race (:func:`academail.store.tokens.consume`); a new request voids
  the previous link.
* **Downgrading the second factor.** With OTP enabled, recovery also asks the TOTP
  code or a recovery code (NIST SP 800-63B: recovery must not bypass an
  authenticator the account has).
* **An attacker who locked the account.** The lockout mail's "it wasn't me" link
  suspends the account at once, ends its sessions and alerts support.
* **An intruder who stays.** A recovered password (reset link or NUMEN) and "it
  wasn't me" also revoke every application password and OIDC token of the account
  (:mod:`.revocation`), and drop it from the verified-credentials cache: the new
  password would not stop a mail client or an application the intruder set up.

Decisions: a LOCKED account may recover, and a successful recovery lifts the lock
(audited): the lock stops password guessing, and the new password has just been
chosen by someone who proved the NUMEN and birth date (or the recovery mailbox).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from academail.config import Settings
from academail.core.clock import Clock, to_paris
from academail.core.errors import IllegalTransition, InvalidInput, LimitReached, NotFound
from academail.core.keys import Keys
from academail.core.offload import off_loop
from academail.core.secretbox import derive_key, keyed_hash
from academail.identity import captcha, messages, numen
from academail.identity.accounts import AccountService
from academail.identity.authenticate import AuthContext, Authenticator
from academail.identity.credentials import CredentialService, PasswordRejected
from academail.identity.lifecycle import AccountState, Event, transition
from academail.identity.naming import normalise_identifier
from academail.identity.rate_limit import Limit, RateLimiter
from academail.identity.revocation import revoke_access_in
from academail.identity.sessions import SessionService
from academail.notify import Notifier
from academail.store import AuditEntry, Connection, Store
from academail.store import audit as audit_repo
from academail.store import captcha as captcha_repo
from academail.store import credentials as cred_repo
from academail.store import directory as directory_repo
from academail.store import lookup as lookup_repo
from academail.store import tokens as token_repo
from academail.store.repos.credentials import AuthRecord

__all__ = [
    "ELIGIBLE",
    "Identified",
    "Outcome",
    "PasswordRejected",
    "Profile",
    "RecoveryService",
    "ResetGrant",
    "parse_birth_date",
]

ELIGIBLE = frozenset({AccountState.LETTER_ISSUED, AccountState.ACTIVE, AccountState.LOCKED})
_CHALLENGE_ID = re.compile(r"^[0-9a-f]{32}$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})$")
_COMPACT = re.compile(r"^(\d{2})(\d{2})(\d{4})$")
_PAGES = {
    "password": "« Je ne connais pas mon identifiant ou mon mot de passe »",
    "settings": "« Mes paramètres de messagerie »",
}


class Outcome(enum.Enum):
    OK = "ok"
    FAILED = "failed"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class Identified:
    """The answer to a NUMEN + birth date + captcha try; ``message`` for the page."""

    outcome: Outcome
    account_id: str | None = None

    @property
    def message(self) -> str:
        if self.outcome is Outcome.THROTTLED:
            return messages.THROTTLED
        return messages.SELF_SERVICE_FAILED if self.outcome is Outcome.FAILED else ""


@dataclass(frozen=True)
class Profile:
    """What an identified visitor may see about their account."""

    account_id: str
    login: str
    address: str
    display_name: str
    has_otp: bool


@dataclass(frozen=True)
class ResetGrant:
    """A live reset link: the SHA-256 of its token and the account it is for."""

    token_hash: str
    account_id: str


def parse_birth_date(text: str) -> dt.date | None:
    """``AAAA-MM-JJ`` (``<input type="date">``), ``JJ/MM/AAAA`` (or ``.``/``-``), ``JJMMAAAA``."""
    value = text.strip()[:20]
    if match := _ISO.match(value):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DMY.match(value) or _COMPACT.match(value):
        day, month, year = (int(g) for g in match.groups())
    else:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode("ascii", "replace")).hexdigest()


def _complete(voices: Path) -> bool:
    """Whether every digit has its French voice (a half-built folder is not used)."""
    return all(any((voices / digit).glob("*.wav")) for digit in captcha.ALPHABET)


def _eligible(state: str) -> bool:
    return AccountState(state) in ELIGIBLE


class RecoveryService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        keys: Keys,
        settings: Settings,
        notifier: Notifier,
        credentials: CredentialService,
        authenticator: Authenticator,
        accounts: AccountService,
        sessions: SessionService,
    ) -> None:
        self._store = store
        self._clock = clock
        self._keys = keys
        self._settings = settings
        self._notifier = notifier
        self._credentials = credentials
        self._auth = authenticator
        self._accounts = accounts
        self._sessions = sessions
        self._limiter = RateLimiter(store, clock)
        self._rate_key = derive_key(keys.numen_hmac, "self-service-rate")
        auth = settings.auth
        ip_window = dt.timedelta(minutes=auth.self_service_ip_window_minutes)
        numen_window = dt.timedelta(minutes=auth.self_service_numen_window_minutes)
        self._ip_limit = Limit("ss-ip", auth.self_service_ip_limit, ip_window)
        self._numen_limit = Limit("ss-numen", auth.self_service_numen_limit, numen_window)
        self._audio_limit = Limit("ss-audio", auth.captcha_audio_per_ip, ip_window)
        self._reset_ip = Limit("reset-ip", auth.self_service_ip_limit, ip_window)
        self._reset_account = Limit(
            "reset-acct", auth.reset_requests_per_account, dt.timedelta(hours=1)
        )
        voices = settings.data_dir / "voices"  # built by ``academail init``
        self._voices = voices if _complete(voices) else None

    @property
    def portal_url(self) -> str:
        web = self._settings.web
        return (web.public_url or self._settings.academie.portal_url).rstrip("/")

    # -- captcha -------------------------------------------------------------------------
    async def new_captcha(self) -> str:
        """A new single-use challenge; its id goes in the page, its answer stays here."""
        challenge_id = secrets.token_hex(16)
        answer = captcha.new_challenge()
        now = self._clock.now()
        expires = now + dt.timedelta(minutes=self._settings.auth.captcha_minutes)

        def work(conn: Connection) -> None:
            captcha_repo.add(conn, challenge_id, answer, now, expires)
            self._limiter.purge_in(conn)

        await self._store.run(work)
        return challenge_id

    async def _answer(self, challenge_id: str) -> str:
        now = self._clock.now()
        answer = None
        if _CHALLENGE_ID.match(challenge_id):
            answer = await self._store.run(lambda c: captcha_repo.answer_of(c, challenge_id, now))
        if answer is None:
            raise NotFound("image de vérification expirée : rechargez la page")
        return answer

    async def captcha_image(self, challenge_id: str) -> bytes:
        """The PNG of a live challenge (NotFound when used or expired)."""
        return await off_loop(captcha.render_image, await self._answer(challenge_id))

    async def captcha_audio(self, challenge_id: str, ip: str) -> bytes:
        """The spoken challenge (WAV), French voices when built at ``init``.

        Mixing the sound costs about 0.3 s of CPU, so it has its own limit per IP
        (LimitReached beyond it).
        """
        answer = await self._answer(challenge_id)
        if not await self._limiter.hit(self._audio_limit, ip):
            raise LimitReached(messages.THROTTLED)
        return await off_loop(captcha.render_audio, answer, self._voices)

    # -- identification by NUMEN + date of birth ----------------------------------------
    async def identify(
        self,
        numen_text: str,
        birth_text: str,
        challenge_id: str,
        answer: str,
        ip: str,
        purpose: str,
    ) -> Identified:
        """Checks the captcha, the limits, then NUMEN + date of birth, in one unit of work.

        ``purpose`` ("password" or "settings") is audited and named in the notice
        mailed to the agent after a success. Every failure is the same
        :class:`Identified`; a NUMEN over its limit fails like a wrong one.
        """
        now = self._clock.now()

        def work(conn: Connection) -> Identified:
            if not self._limiter.hit_in(conn, self._ip_limit, ip):
                return Identified(Outcome.THROTTLED)
            expected = captcha_repo.take(conn, challenge_id[:64], now)
            if expected is None or not captcha.check_answer(expected, answer[:32]):
                return Identified(Outcome.FAILED)
            found = self._lookup(conn, numen_text, birth_text)
            ok = found is not None and _eligible(found.state)
            details = {"ip": ip, "purpose": purpose, "ok": ok}
            target = found.login if found is not None and ok else "?"
            audit_repo.append(
                conn, [AuditEntry(now, f"ip:{ip}", "selfservice.identify", target, details)]
            )
            if found is None or not ok:
                return Identified(Outcome.FAILED)
            return Identified(Outcome.OK, found.account_id)

        result = await self._store.run(work)
        if result.account_id is not None:
            await self._mail_identified(result.account_id, purpose, ip, now)
        return result

    def _lookup(
        self, conn: Connection, numen_text: str, birth_text: str
    ) -> lookup_repo.IdentityMatch | None:
        try:
            value = numen.normalise_numen(numen_text[:40])
        except InvalidInput:
            return None
        if not self._limiter.hit_in(
            conn, self._numen_limit, numen.numen_key(value, self._rate_key)
        ):
            return None
        birth = parse_birth_date(birth_text)
        if birth is None:
            return None
        key = numen.lookup_key(value, birth, self._keys.numen_hmac)
        return lookup_repo.account_for_identity(conn, key)

    def grant_valid(self, started_at: dt.datetime) -> bool:
        """Whether a grant (identification, opened link) started recently enough."""
        minutes = self._settings.auth.self_service_grant_minutes
        return self._clock.now() - started_at <= dt.timedelta(minutes=minutes)

    async def profile(self, account_id: str) -> Profile:
        record = await self._credentials.record(account_id)
        name = f"{record.first_name} {record.usage_name}".strip()
        return Profile(record.account_id, record.login, record.address, name, record.has_otp)

    async def second_factor(self, account_id: str, code: str, ctx: AuthContext) -> bool:
        """The TOTP code or a recovery code; failures count towards the lockout."""
        return await self._auth.verify_second_factor(account_id, code[:40], ctx)

    async def finish_numen(self, account_id: str, password: str, ip: str) -> bool:
        """Sets the password after a NUMEN identification (PasswordRejected if refused).

        False when the account may no longer recover (suspended meanwhile).
        """
        record = await self._credentials.record(account_id)
        if not _eligible(record.state):
            return False
        await self._credentials.set_password(account_id, password[:256], record.login, "numen")
        await self._after_password(record, "numen", ip)
        return True

    # -- forgotten password: a link to the verified recovery address ---------------------
    async def request_reset(self, identifier: str, ip: str) -> Outcome:
        """Mails a link when the account may have one; OK whether or not it exists."""
        now = self._clock.now()
        key = normalise_identifier(identifier)[:254]
        raw = secrets.token_urlsafe(32)
        minutes = self._settings.auth.reset_link_minutes

        def work(conn: Connection) -> tuple[Outcome, AuthRecord | None]:
            if not self._limiter.hit_in(conn, self._reset_ip, ip):
                return Outcome.THROTTLED, None
            record = cred_repo.load_for_auth(conn, key) if key else None
            subject = record.account_id if record else keyed_hash(self._rate_key, key)
            allowed = self._limiter.hit_in(conn, self._reset_account, subject)
            send = record if allowed and record and self._may_reset(record) else None
            # The same UPDATE runs for everyone (it matches nothing without an account).
            token_repo.revoke_kind(conn, send.account_id if send else "-", "reset", now)
            if send is not None:
                expires = now + dt.timedelta(minutes=minutes)
                token_repo.add(conn, _digest(raw), "reset", send.account_id, now, expires)
            details = {"ip": ip, "sent": send is not None}
            target = record.login if record else "?"
            audit_repo.append(
                conn, [AuditEntry(now, f"ip:{ip}", "selfservice.reset_request", target, details)]
            )
            return Outcome.OK, send

        outcome, send = await self._store.run(work)
        if send is not None:
            await self._mail_reset_link(send, raw, ip, now)
        elif outcome is Outcome.OK:  # a round trip where the other path stores the mail
            await self._store.run(lambda c: token_repo.peek(c, _digest(raw), "reset", now))
        return outcome

    @staticmethod
    def _may_reset(record: AuthRecord) -> bool:
        verified = record.recovery_email and record.recovery_email_verified_at
        return bool(verified) and _eligible(record.state)

    async def reset_grant(self, raw_token: str) -> ResetGrant | None:
        """The grant of a live link (not used up: opening the link changes nothing)."""
        now = self._clock.now()
        token_hash = _digest(raw_token[:128])
        token = await self._store.run(lambda c: token_repo.peek(c, token_hash, "reset", now))
        if token is None:
            return None
        record = await self._credentials.record(token.account_id)
        return ResetGrant(token_hash, token.account_id) if self._may_reset(record) else None

    async def finish_reset(self, grant: ResetGrant, password: str, ip: str) -> bool:
        """Uses the link and sets the password; False when the link is no longer live.

        The policy is checked before the link is used, so a refused password does not
        burn the link; then :func:`tokens.consume` lets only one request through.
        """
        record = await self._credentials.record(grant.account_id)
        if not self._may_reset(record):
            return False
        reasons = await self._credentials.check(grant.account_id, password[:256])
        if reasons:
            raise PasswordRejected(reasons)
        now = self._clock.now()
        used = await self._store.run(
            lambda c: token_repo.consume(c, grant.token_hash, "reset", now)
        )
        if used is None or used.account_id != grant.account_id:
            return False
        await self._credentials.set_password(
            grant.account_id, password[:256], record.login, "reset"
        )
        await self._after_password(record, "reset", ip)
        return True

    # -- after a recovered password ------------------------------------------------------
    async def _after_password(self, record: AuthRecord, how: str, ip: str) -> None:
        """Revokes what the old password let anyone set up, lifts a lock, audits, mails."""
        now = self._clock.now()

        def work(conn: Connection) -> None:
            revoked = revoke_access_in(conn, record.account_id, now)
            current = cred_repo.load_for_auth(conn, account_id=record.account_id)
            done = {"how": how, "ip": ip, **revoked.details()}
            entries = [AuditEntry(now, record.login, "selfservice.password", record.login, done)]
            if current is not None and AccountState(current.state) is AccountState.LOCKED:
                resume = AccountState(current.resume_state) if current.resume_state else None
                back = transition(AccountState.LOCKED, Event.UNLOCK, resume).state
                row = {
                    "id": record.account_id,
                    "state": back.value,
                    "resume_state": None,
                    "locked_until": None,
                    "state_changed_at": now,
                    "updated_at": now,
                }
                directory_repo.update_rows(conn, "accounts", "id", [row])
                details = {"from": "locked", "to": back.value, "reason": f"self-service ({how})"}
                entries.append(
                    AuditEntry(now, record.login, "account.unlock", record.login, details)
                )
            audit_repo.append(conn, entries)

        await self._store.run(work)
        self._auth.invalidate(record.account_id)
        await self._mail_password_set(record, how, ip, now)

    # -- "it wasn't me" ------------------------------------------------------------------
    async def not_me_valid(self, raw_token: str) -> bool:
        """Whether a "it wasn't me" link is live (opening it changes nothing)."""
        now = self._clock.now()
        token_hash = _digest(raw_token[:128])
        found = await self._store.run(lambda c: token_repo.peek(c, token_hash, "not_me", now))
        return found is not None

    async def not_me(self, raw_token: str, ip: str) -> bool:
        """Uses the link: suspends the account, ends its sessions, revokes its
        application passwords and OIDC tokens, alerts support."""
        now = self._clock.now()
        token_hash = _digest(raw_token[:128])
        used = await self._store.run(lambda c: token_repo.consume(c, token_hash, "not_me", now))
        if used is None:
            return False
        record = await self._credentials.record(used.account_id)
        try:
            await self._accounts.apply(
                record.login,
                Event.SUSPEND,
                "agent (ce n'était pas moi)",
                "lien « ce n'était pas moi » du courriel de verrouillage",
            )
            suspended = True
        except IllegalTransition:  # already suspended or disabled: support is told anyway
            suspended = False
        await self._sessions.revoke_others(record.account_id, None)
        lockout = await self._store.run(lambda c: self._not_me_audit(c, record, ip, now, suspended))
        self._auth.invalidate(record.account_id)
        await self._mail_support(record, ip, now, lockout, suspended)
        return True

    def _not_me_audit(
        self, conn: Connection, record: AuthRecord, ip: str, now: dt.datetime, suspended: bool
    ) -> AuditEntry | None:
        history = audit_repo.entries_for(conn, record.login, limit=50)
        lockout = next((e for e in history if e.action == "auth.lockout"), None)
        revoked = revoke_access_in(conn, record.account_id, now)
        details = {"ip": ip, "suspended": suspended, **revoked.details()}
        audit_repo.append(
            conn, [AuditEntry(now, record.login, "auth.not_me", record.login, details)]
        )
        return lockout

    # -- mails ---------------------------------------------------------------------------
    async def _mail_reset_link(
        self, record: AuthRecord, raw: str, ip: str, now: dt.datetime
    ) -> None:
        minutes = self._settings.auth.reset_link_minutes
        body = (
            f"Bonjour {record.first_name},\n\n"
            f"Une réinitialisation du mot de passe du compte {record.login} a été demandée "
            f"le {_when(now)} depuis l'adresse {ip}.\n\n"
            f"Pour choisir un nouveau mot de passe, ouvrez ce lien (valable {minutes} minutes, "
            "utilisable une seule fois) :\n"
            f"{self.portal_url}/assistance/reinitialiser?jeton={raw}\n\n"
            "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot "
            "de passe reste inchangé.\n\nL'académie ne vous demandera jamais votre mot de passe.\n"
        )
        assert record.recovery_email is not None  # noqa: S101 - checked by _may_reset
        await self._notifier.email(
            [record.recovery_email], "Réinitialisation de votre mot de passe", body
        )

    async def _mail_identified(
        self, account_id: str, purpose: str, ip: str, now: dt.datetime
    ) -> None:
        """Each use of the NUMEN path, told to the agent (whatever follows)."""
        record = await self._credentials.record(account_id)
        academie = self._settings.academie
        body = (
            f"Bonjour {record.first_name},\n\n"
            "Votre NUMEN et votre date de naissance viennent d'être utilisés pour vous "
            f"identifier sur la page {_PAGES.get(purpose, purpose)} du portail, le "
            f"{_when(now)}, depuis l'adresse {ip}.\n\n"
            "Si c'est bien vous, il n'y a rien à faire.\n\n"
            "Si ce n'est pas vous, appelez sans attendre l'assistance académique au "
            f"{academie.hacked_account_phone} : quelqu'un connaît votre NUMEN et votre date "
            "de naissance.\n\nL'académie ne vous demandera jamais votre mot de passe.\n"
        )
        await self._notifier.email(
            _recipients(record), "Utilisation de votre NUMEN sur le portail", body
        )

    async def _mail_password_set(
        self, record: AuthRecord, how: str, ip: str, now: dt.datetime
    ) -> None:
        path = (
            "avec votre NUMEN et votre date de naissance"
            if how == "numen"
            else "avec le lien envoyé à votre adresse de secours"
        )
        academie = self._settings.academie
        body = (
            f"Bonjour {record.first_name},\n\n"
            f"Le mot de passe de votre compte {record.login} a été changé {path}, "
            f"le {_when(now)}, depuis l'adresse {ip}.\n\n"
            "Si c'est bien vous, il n'y a rien à faire. Pensez à mettre à jour le mot de "
            "passe sur vos appareils (téléphone, logiciel de messagerie).\n\n"
            "Si ce n'est pas vous, appelez sans attendre l'assistance académique au "
            f"{academie.hacked_account_phone} : votre compte sera suspendu et vérifié.\n\n"
            "L'académie ne vous demandera jamais votre mot de passe.\n"
        )
        await self._notifier.email(_recipients(record), "Votre mot de passe a été changé", body)

    async def _mail_support(
        self,
        record: AuthRecord,
        ip: str,
        now: dt.datetime,
        lockout: AuditEntry | None,
        suspended: bool,
    ) -> None:
        if lockout is not None:
            where = lockout.details.get("ip", "?")
            door = lockout.details.get("door", "?")
            locked = f"le {_when(lockout.at)}, accès {door}, depuis l'adresse {where}"
        else:
            locked = "(aucun verrouillage trouvé dans le journal)"
        state = "suspendu" if suspended else "déjà suspendu ou désactivé (inchangé)"
        body = (
            "Un agent signale que le verrouillage de son compte ne vient pas de lui "
            "(lien « ce n'était pas moi »).\n\n"
            f"Compte : {record.login} ({record.address})\n"
            f"Signalement : le {_when(now)}, depuis l'adresse {ip}\n"
            f"Verrouillage : {locked}\n"
            f"État du compte : {state} ; ses sessions ont été fermées, ses mots de passe "
            "d'application et ses accès aux applications (OIDC) révoqués.\n\n"
            "À faire : rappeler l'agent, vérifier l'historique du compte, puis le rétablir "
            "avec un nouveau mot de passe.\n"
        )
        await self._notifier.email(
            [self._settings.notify.support_alert_address],
            f"[Ce n'était pas moi] compte {record.login} suspendu",
            body,
        )


def _recipients(record: AuthRecord) -> list[str]:
    """The académie address, and the recovery address once verified."""
    recipients = [record.address]
    if record.recovery_email and record.recovery_email_verified_at:
        recipients.append(record.recovery_email)
    return recipients


def _when(at: dt.datetime) -> str:
    return to_paris(at).strftime("%d/%m/%Y à %H:%M")
