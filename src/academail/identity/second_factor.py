"""What the agent manages on "My account" beyond the password itself: the TOTP second
factor and its recovery codes, application passwords, web sessions and the devices
that sign in (the stale phone that keeps failing).

Threats and the answers here:

* **A stolen web session** (an unlocked shared computer, a copied cookie) must not
  become a stolen account. Everything that would let an intruder stay or take over
  needs the current password again (:meth:`SecondFactorService.reauthenticate`):
  enrolling OTP from a signed-in session, disabling it (also a code), new recovery
  codes, recovery data. The check goes through :class:`~.authenticate.Authenticator`
  (THE sign-in path), so wrong guesses count towards the lockout and the IP throttle.
* **TOTP** (RFC 6238, :mod:`.otp`): the seed is drawn here, shown once (QR code and
  text), kept *sealed* (AES-GCM bound to the account id, :mod:`academail.core.secretbox`)
  in the session until a first code proves the app has it, then stored sealed. The
  step of that first code is recorded, so it cannot be replayed at sign-in
  (RFC 6238 §5.2). Ten single-use recovery codes are shown once and stored as keyed
  HMACs.
* **Application passwords** (issue 3): 100 random bits from a 32-symbol alphabet
  without look-alikes, shown once in groups of four, stored as HMAC-SHA-256 under
  ``Authenticator.app_password_key`` of the *compacted* form (blanks removed,
  lowercase) — exactly what the authenticator computes. With OTP on, mail clients
  (IMAP, SMTP, POP) accept only these.
* **"I lost my phone"**: every other session, every application password and the
  OIDC tokens of the other sessions are revoked at once (:mod:`.revocation`, shared
  with the recovery paths); the page then asks for a new password.

Every change is audited in the unit of work that makes it; the ones an intruder would
want to hide (OTP on or off, a new application password, a lost device, recovery data,
the password) are also mailed to the agent's académie address and verified recovery
address. Nothing secret goes to the audit, a mail or a log.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from academail.config import Settings
from academail.core.clock import Clock, to_paris
from academail.core.errors import InvalidInput, LimitReached, NoPermission, NotFound
from academail.core.offload import off_loop
from academail.core.secretbox import keyed_hash, open_sealed, seal
from academail.identity import messages, otp
from academail.identity.authenticate import AuthContext, Authenticator, Door, Outcome
from academail.identity.revocation import revoke_access_in
from academail.notify import Notifier
from academail.store import AuditEntry, Connection, Store
from academail.store import audit as audit_repo
from academail.store import credentials as cred_repo
from academail.store import sessions as session_repo
from academail.store.repos import second_factor as sf_repo
from academail.store.repos.credentials import AuthRecord

__all__ = [
    "APP_PASSWORD_ALPHABET",
    "AppPasswordView",
    "CreatedAppPassword",
    "DeviceView",
    "Enrolment",
    "SecondFactorService",
    "SecondFactorStatus",
    "WebSessionView",
    "compact_app_password",
    "new_app_password",
]

# Lowercase letters and digits without 0/o and 1/l: 32 symbols, 5 bits each.
APP_PASSWORD_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyz"  # noqa: S105 - an alphabet
_APP_GROUPS = 5  # 5 × 4 symbols × 5 bits = 100 bits
_APP_GROUP = 4
_MAX_APP_PASSWORDS = 20
_RECOVERY_CODES = 10
_FAILING_DAYS = 14  # a device that failed this recently is shown even without a change
_RIGHT_PASSWORD = {Outcome.OK, Outcome.NEED_OTP, Outcome.PASSWORD_EXPIRED}

_WRONG_PASSWORD = "Le mot de passe actuel est incorrect."  # noqa: S105 - a message
_WRONG_CODE = "Code incorrect ou déjà utilisé."


def new_app_password() -> str:
    """``abcd efgh jkmn pqrs tuvw``: 100 random bits, readable, typed without the blanks."""
    raw = [secrets.choice(APP_PASSWORD_ALPHABET) for _ in range(_APP_GROUPS * _APP_GROUP)]
    return " ".join("".join(raw[i : i + _APP_GROUP]) for i in range(0, len(raw), _APP_GROUP))


def compact_app_password(secret: str) -> str:
    """What is hashed: blanks removed, lowercase (as ``Authenticator._app_password``)."""
    return "".join(secret.split()).lower()


@dataclass(frozen=True)
class Enrolment:
    """A pending TOTP enrolment: the secret is shown, ``sealed`` waits in the session."""

    secret: str
    uri: str
    svg: str
    sealed: str

    @property
    def grouped_secret(self) -> str:
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


@dataclass(frozen=True)
class AppPasswordView:
    id: str
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    last_ip: str | None


@dataclass(frozen=True)
class CreatedAppPassword:
    id: str
    name: str
    secret: str  # shown once, never stored in clear


@dataclass(frozen=True)
class DeviceView:
    """A device seen signing in; ``problem`` says why it is flagged ('' when fine).

    ``old_password``: it worked before the last password change and fails since;
    ``needs_app_password``: a mail client sending the account password while OTP is
    on; ``wrong_password``: repeated wrong secrets, cause unknown.
    """

    id: str
    protocol: str
    client: str
    ip: str
    first_seen_at: dt.datetime
    last_success_at: dt.datetime | None
    last_failure_at: dt.datetime | None
    failures: int
    problem: str


@dataclass(frozen=True)
class WebSessionView:
    id_hash: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    ip: str
    user_agent: str


@dataclass(frozen=True)
class SecondFactorStatus:
    otp_enabled_at: dt.datetime | None
    otp_required: bool
    recovery_codes_left: int
    app_passwords: int


class SecondFactorService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: Settings,
        notifier: Notifier,
        authenticator: Authenticator,
    ) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings
        self._notifier = notifier
        self._auth = authenticator
        self._idle = dt.timedelta(minutes=settings.auth.session_idle_minutes)

    # -- reading ---------------------------------------------------------------------------
    async def _record(self, account_id: str) -> AuthRecord:
        found = await self._store.run(lambda c: cred_repo.load_for_auth(c, account_id=account_id))
        if found is None:
            raise NotFound("compte introuvable")
        return found

    def otp_required(self, role: str, login: str) -> bool:
        """Whether the role (or an administrator's login) must have a second factor."""
        auth = self._settings.auth
        return role in auth.otp_required_roles or login in auth.admin_logins

    async def status(self, account_id: str) -> SecondFactorStatus:
        def work(conn: Connection) -> SecondFactorStatus:
            record = cred_repo.load_for_auth(conn, account_id=account_id)
            if record is None:
                raise NotFound("compte introuvable")
            return SecondFactorStatus(
                record.otp_enabled_at if record.has_otp else None,
                self.otp_required(record.role, record.login),
                sf_repo.recovery_codes_left(conn, account_id),
                sf_repo.live_app_password_count(conn, account_id),
            )

        return await self._store.run(work)

    # -- re-authentication -------------------------------------------------------------------
    async def reauthenticate(self, account_id: str, password: str, ctx: AuthContext) -> None:
        """The current password again, through THE sign-in path (failures count).

        Raises :class:`InvalidInput` when wrong, :class:`LimitReached` when throttled.
        """
        record = await self._record(account_id)
        result = await self._auth.authenticate(record.login, password[:1024], ctx)
        if result.outcome is Outcome.THROTTLED:
            raise LimitReached(messages.THROTTLED)
        if result.outcome not in _RIGHT_PASSWORD or result.account_id != account_id:
            raise InvalidInput(_WRONG_PASSWORD)

    # -- TOTP enrolment ----------------------------------------------------------------------
    async def enrolment(self, account_id: str, pending: str | None = None) -> Enrolment:
        """The pending enrolment (same secret on a reload) or a fresh one."""
        record = await self._record(account_id)
        secret = self._open_pending(account_id, pending) if pending else None
        token = pending or ""
        if secret is None:
            secret = otp.new_secret()
            sealed = seal(secret.encode("ascii"), account_id, self._auth.otp_key)
            token = base64.urlsafe_b64encode(sealed).decode("ascii")
        issuer = self._settings.academie.name.replace(":", " ")
        uri = otp.provisioning_uri(secret, record.address.replace(":", ""), issuer)
        svg = await off_loop(otp.qr_svg, uri)
        return Enrolment(secret, uri, svg, token)

    def _open_pending(self, account_id: str, pending: str) -> str | None:
        try:
            sealed = base64.urlsafe_b64decode(pending.encode("ascii"))
            return open_sealed(sealed, account_id, self._auth.otp_key).decode("ascii")
        except (ValueError, binascii.Error, UnicodeError):
            return None

    async def confirm_enrolment(self, account_id: str, pending: str, code: str) -> list[str]:
        """A first right code turns OTP on; returns the 10 recovery codes (shown once).

        Raises :class:`InvalidInput` for a wrong code or a lost pending secret, and
        when OTP is already on (a second tab must not replace the seed silently).
        """
        secret = self._open_pending(account_id, pending)
        if secret is None:
            raise InvalidInput("L'inscription a expiré : scannez le nouveau code QR.")
        now = self._clock.now()
        step = otp.verify_totp(secret, code, now, None)
        if step is None:
            raise InvalidInput(_WRONG_CODE)
        codes = otp.new_recovery_codes(_RECOVERY_CODES)
        hashes = [otp.hash_recovery_code(c, self._auth.otp_key) for c in codes]
        sealed = seal(secret.encode("ascii"), account_id, self._auth.otp_key)

        def work(conn: Connection) -> AuthRecord:
            record = cred_repo.load_for_auth(conn, account_id=account_id)
            if record is None or record.has_otp:
                raise InvalidInput("La double authentification est déjà activée.")
            sf_repo.store_otp(conn, account_id, sealed, now, step)
            sf_repo.replace_recovery_codes(conn, account_id, hashes)
            self._audit(conn, record, "otp.enabled", {})
            return record

        record = await self._store.run(work)
        self._auth.invalidate(account_id)
        await self._tell(
            record,
            "Double authentification activée",
            "La double authentification vient d'être activée sur votre compte. Vos "
            "logiciels de messagerie (téléphone, Thunderbird, Outlook…) doivent désormais "
            "utiliser un mot de passe d'application, à créer dans « Mon compte ».",
        )
        return codes

    async def disable_otp(
        self, account_id: str, password: str, code: str, ctx: AuthContext
    ) -> None:
        """OTP off: only for roles that may go without, with the password and a code."""
        record = await self._record(account_id)
        if self.otp_required(record.role, record.login):
            raise NoPermission("Votre fonction impose la double authentification.")
        if not record.has_otp:
            raise InvalidInput("La double authentification n'est pas activée.")
        await self.reauthenticate(account_id, password, ctx)
        if not await self._auth.verify_second_factor(account_id, code[:64], ctx):
            raise InvalidInput(_WRONG_CODE)

        def work(conn: Connection) -> None:
            sf_repo.clear_otp(conn, account_id)
            self._audit(conn, record, "otp.disabled", {"ip": ctx.remote_ip})

        await self._store.run(work)
        self._auth.invalidate(account_id)
        await self._tell(
            record,
            "Double authentification désactivée",
            "La double authentification vient d'être désactivée sur votre compte.",
        )

    async def regenerate_recovery_codes(
        self, account_id: str, password: str, ctx: AuthContext
    ) -> list[str]:
        """A new set of 10 recovery codes (the old ones stop working), shown once."""
        record = await self._record(account_id)
        if not record.has_otp:
            raise InvalidInput("La double authentification n'est pas activée.")
        await self.reauthenticate(account_id, password, ctx)
        codes = otp.new_recovery_codes(_RECOVERY_CODES)
        hashes = [otp.hash_recovery_code(c, self._auth.otp_key) for c in codes]

        def work(conn: Connection) -> None:
            sf_repo.replace_recovery_codes(conn, account_id, hashes)
            self._audit(conn, record, "otp.recovery_codes_renewed", {})

        await self._store.run(work)
        return codes

    # -- application passwords ---------------------------------------------------------------
    async def app_passwords(self, account_id: str) -> list[AppPasswordView]:
        rows = await self._store.run(lambda c: cred_repo.list_app_passwords(c, account_id))
        return [
            AppPasswordView(r.id, r.name, r.created_at, r.last_used_at, r.last_ip)
            for r in rows
            if r.revoked_at is None
        ]

    async def create_app_password(self, account_id: str, name: str) -> CreatedAppPassword:
        """A named application password; its secret is returned once and never again."""
        label = " ".join(name.split())[:80]
        if not label:
            raise InvalidInput("Donnez un nom à ce mot de passe (par exemple « iPhone »).")
        secret = new_app_password()
        digest = keyed_hash(self._auth.app_password_key, compact_app_password(secret))
        app_id = secrets.token_hex(16)
        now = self._clock.now()

        def work(conn: Connection) -> AuthRecord:
            record = cred_repo.load_for_auth(conn, account_id=account_id)
            if record is None:
                raise NotFound("compte introuvable")
            if sf_repo.live_app_password_count(conn, account_id) >= _MAX_APP_PASSWORDS:
                raise LimitReached(
                    f"Vous avez déjà {_MAX_APP_PASSWORDS} mots de passe d'application : "
                    "révoquez ceux qui ne servent plus."
                )
            sf_repo.add_app_password(conn, app_id, account_id, label, digest, now)
            self._audit(conn, record, "app_password.created", {"name": label})
            return record

        record = await self._store.run(work)
        await self._tell(
            record,
            "Nouveau mot de passe d'application",
            f"Un mot de passe d'application « {label} » vient d'être créé pour votre compte.",
        )
        return CreatedAppPassword(app_id, label, secret)

    async def revoke_app_password(self, account_id: str, app_id: str) -> bool:
        now = self._clock.now()

        def work(conn: Connection) -> bool:
            record = cred_repo.load_for_auth(conn, account_id=account_id)
            name = sf_repo.revoke_app_password(conn, account_id, app_id[:32], now)
            if record is None or name is None:
                return False
            self._audit(conn, record, "app_password.revoked", {"name": name})
            return True

        revoked = await self._store.run(work)
        self._auth.invalidate(account_id)  # the verified-credentials cache may hold it
        return revoked

    # -- devices -----------------------------------------------------------------------------
    async def devices(self, account_id: str) -> list[DeviceView]:
        """Every device seen, the failing ones flagged with the likely cause."""

        def work(conn: Connection) -> tuple[AuthRecord | None, list[cred_repo.Device]]:
            record = cred_repo.load_for_auth(conn, account_id=account_id)
            return record, cred_repo.devices_of(conn, account_id)

        record, rows = await self._store.run(work)
        if record is None:
            raise NotFound("compte introuvable")
        now = self._clock.now()
        return [
            DeviceView(
                d.id,
                d.protocol,
                d.client,
                d.ip,
                d.first_seen_at,
                d.last_success_at,
                d.last_failure_at,
                d.failures,
                _problem(d, record, now),
            )
            for d in rows
        ]

    async def forget_device(self, account_id: str, device_id: str) -> bool:
        def work(conn: Connection) -> bool:
            record = cred_repo.load_for_auth(conn, account_id=account_id)
            if record is None or not sf_repo.forget_device(conn, account_id, device_id[:64]):
                return False
            self._audit(conn, record, "device.forgotten", {})
            return True

        return await self._store.run(work)

    # -- web sessions ------------------------------------------------------------------------
    async def web_sessions(self, account_id: str) -> list[WebSessionView]:
        """Live sessions: not revoked, not expired, not idle, of the current generation."""
        now = self._clock.now()

        def work(conn: Connection) -> list[WebSessionView]:
            record = cred_repo.load_for_auth(conn, account_id=account_id)
            generation = record.generation if record else -1
            return [
                WebSessionView(s.id_hash, s.created_at, s.last_seen_at, s.ip, s.user_agent)
                for s in session_repo.list_for(conn, account_id, now)
                if s.generation == generation and now - s.last_seen_at <= self._idle
            ]

        return await self._store.run(work)

    async def revoke_session(self, account_id: str, id_hash: str) -> bool:
        now = self._clock.now()

        def work(conn: Connection) -> bool:
            record = cred_repo.load_for_auth(conn, account_id=account_id)
            if record is None or not session_repo.revoke(conn, id_hash[:64], account_id, now):
                return False
            self._audit(conn, record, "session.revoked", {})
            return True

        return await self._store.run(work)

    async def revoke_other_sessions(self, account_id: str, keep: str, why: str) -> None:
        """Ends every web session of the account but ``keep`` (the current one)."""
        now = self._clock.now()

        def work(conn: Connection) -> None:
            record = cred_repo.load_for_auth(conn, account_id=account_id)
            session_repo.revoke_all(conn, account_id, now, keep)
            if record is not None:
                self._audit(conn, record, "session.revoked_others", {"why": why})

        await self._store.run(work)

    async def lost_device(self, account_id: str, keep: str, ctx: AuthContext) -> int:
        """ "I lost my phone": other sessions and every application password revoked."""
        now = self._clock.now()

        def work(conn: Connection) -> tuple[AuthRecord, int]:
            record = cred_repo.load_for_auth(conn, account_id=account_id)
            if record is None:
                raise NotFound("compte introuvable")
            session_repo.revoke_all(conn, account_id, now, keep)
            revoked = revoke_access_in(conn, account_id, now, keep_session=keep)
            details = {**revoked.details(), "ip": ctx.remote_ip}
            self._audit(conn, record, "account.lost_device", details)
            return record, revoked.app_passwords

        record, revoked = await self._store.run(work)
        self._auth.invalidate(account_id)
        await self._tell(
            record,
            "Appareil perdu : accès révoqués",
            "Vous avez signalé un appareil perdu : toutes vos autres sessions et tous vos "
            f"mots de passe d'application ({revoked}) ont été révoqués. Changez aussi votre "
            "mot de passe si l'appareil le connaissait.",
        )
        return revoked

    # -- notices of changes made elsewhere -----------------------------------------------------
    async def password_changed(self, account_id: str, keep: str, ctx: AuthContext) -> None:
        """After a password change on "My account": other sessions end, the agent is told."""
        await self.revoke_other_sessions(account_id, keep, "password.changed")
        record = await self._record(account_id)
        when = to_paris(self._clock.now()).strftime("%d/%m/%Y à %H:%M")
        await self._tell(
            record,
            "Votre mot de passe a été changé",
            f"Le mot de passe de votre compte {record.login} a été changé le {when} depuis "
            f"l'adresse {ctx.remote_ip}. Vos autres sessions ont été fermées ; mettez à jour "
            "le mot de passe sur vos appareils (téléphone, logiciel de messagerie).",
        )

    async def recovery_changed(self, account_id: str, previous_email: str | None) -> None:
        """New recovery data was asked for: audited, and told to the old address too."""

        def work(conn: Connection) -> AuthRecord:
            record = cred_repo.load_for_auth(conn, account_id=account_id)
            if record is None:
                raise NotFound("compte introuvable")
            self._audit(conn, record, "recovery.change_requested", {})
            return record

        record = await self._store.run(work)
        recipients = [record.address]
        if previous_email:
            recipients.append(previous_email)
        await self._notifier.email(
            recipients,
            "Coordonnées de secours modifiées",
            _letter(
                record,
                "Les coordonnées de secours de votre compte viennent d'être modifiées. "
                "Un code de confirmation a été envoyé aux nouvelles coordonnées.",
                self._settings,
            ),
        )

    # -- helpers -----------------------------------------------------------------------------
    def _audit(
        self, conn: Connection, record: AuthRecord, action: str, details: dict[str, Any]
    ) -> None:
        entry = AuditEntry(self._clock.now(), record.login, action, record.login, details)
        audit_repo.append(conn, [entry])

    async def _tell(self, record: AuthRecord, subject: str, text: str) -> None:
        recipients = [record.address]
        if record.recovery_email and record.recovery_email_verified_at:
            recipients.append(record.recovery_email)
        await self._notifier.email(recipients, subject, _letter(record, text, self._settings))


def _letter(record: AuthRecord, text: str, settings: Settings) -> str:
    portal = (settings.web.public_url or settings.academie.portal_url).rstrip("/")
    return (
        f"Bonjour {record.first_name},\n\n{text}\n\n"
        "Ce n'était pas vous ? Changez votre mot de passe sans attendre et appelez "
        f"l'assistance au {settings.academie.hacked_account_phone}.\n"
        f"Votre compte : {portal}/compte\n\n"
        "L'académie ne vous demandera jamais votre mot de passe.\n"
    )


def _problem(device: cred_repo.Device, record: AuthRecord, now: dt.datetime) -> str:
    failed = device.last_failure_at
    if device.failures <= 0 or failed is None:
        return ""
    changed = record.password_changed_at
    after_change = changed is not None and failed >= changed
    if not after_change and now - failed > dt.timedelta(days=_FAILING_DAYS):
        return ""
    if record.has_otp and _is_protocol(device.protocol):
        return "needs_app_password"
    worked_before = (
        device.last_success_at is not None
        and changed is not None
        and device.last_success_at < changed
    )
    return "old_password" if after_change and worked_before else "wrong_password"


def _is_protocol(protocol: str) -> bool:
    try:
        return Door(protocol).is_protocol
    except ValueError:
        return False
