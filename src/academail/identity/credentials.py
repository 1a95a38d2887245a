"""Changing credentials: choosing a password (activation, change, reset), recovery
data and its confirmation codes.

Every change of password goes through :meth:`CredentialService.set_password`: it
checks the policy (:mod:`.policy`) with the agent's own data and the last
passwords, hashes off the loop, bumps the credential *generation* (which voids the
verified-credentials cache and older web sessions), clears the temporary password
and audits. Confirmation codes are 6 digits, valid a few minutes, stored as HMACs,
limited to 5 tries, and a new code replaces the previous one.

Threats (OWASP ASVS 4.0 V2.1, V2.2.1 anti-automation; V2.7 out-of-band codes):

* **A password-guessing oracle.** The live hints of the password forms
  (:meth:`CredentialService.check_rules_only`) apply only the pure policy rules:
  telling "not one of your last 5" as the agent types would confirm a right guess
  of the current or a previous password, uncounted by the lockout and for the
  price of up to five argon2 runs per call. The history is checked on submit only
  (:meth:`CredentialService.set_password`), and the live check is limited per
  web session and bounded in length.
* **Brute-forcing a confirmation code by asking for new ones.** A resend is
  limited per account, and a new code inherits the wrong tries of the live code it
  replaces: asking again does not refresh the 5 tries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from academail.config import Settings
from academail.core.clock import Clock
from academail.core.errors import InvalidInput, LimitReached, NotFound
from academail.core.keys import Keys
from academail.core.offload import off_loop
from academail.core.secretbox import derive_key, keyed_hash
from academail.identity import messages
from academail.identity import policy as policy_mod
from academail.identity.authenticate import Authenticator
from academail.identity.lifecycle import AccountState, Event, transition
from academail.identity.passwords import HashCost, hash_off_loop, verify_off_loop
from academail.identity.policy_settings import policy_for
from academail.identity.rate_limit import Limit, RateLimiter
from academail.notify import Notifier
from academail.store import AuditEntry, Connection, Store
from academail.store import audit as audit_repo
from academail.store import credentials as cred_repo
from academail.store import directory as directory_repo
from academail.store import tokens as token_repo
from academail.store.repos.credentials import AuthRecord

__all__ = [
    "LIVE_CHECKS",
    "MAX_PASSWORD_LENGTH",
    "RESENDS",
    "CredentialService",
    "PasswordRejected",
    "facts_of",
    "policy_for",
]

_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,252}\.[A-Za-z]{2,}$")
_MOBILE = re.compile(r"^(?:\+33|0)\s*([67](?:[\s.-]*\d){8})$")
_CODE_TRIES = 5
MAX_PASSWORD_LENGTH = 256
"""Longer input is cut here: it bounds the cost of the policy rules and of argon2."""
LIVE_CHECKS = Limit("pw-live", 60, dt.timedelta(minutes=5))
"""Live policy checks per web session: a fast typist sends a few a second, briefly."""
RESENDS = Limit("code-resend", 3, dt.timedelta(minutes=15))
"""New confirmation codes asked for per account ("send me the code again")."""


class PasswordRejected(InvalidInput):
    """The chosen password breaks the policy; ``reasons`` are French, one per rule."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("mot de passe refusé : " + " ; ".join(reasons))
        self.reasons = reasons


def facts_of(record: AuthRecord, numen: str | None = None) -> policy_mod.AgentFacts:
    return policy_mod.AgentFacts(
        first_name=record.first_name,
        usage_name=record.usage_name,
        birth_name=record.birth_name,
        login=record.login,
        numen=numen,
        birth_date=record.birth_date,
    )


def normalise_mobile(raw: str) -> str:
    match = _MOBILE.match(raw.strip())
    if match is None:
        raise InvalidInput("numéro de mobile français attendu (06 ou 07, 10 chiffres)")
    return "+33" + re.sub(r"\D", "", match.group(1))


@dataclass(frozen=True)
class PendingConfirmation:
    email: str | None
    mobile: str | None


class CredentialService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        keys: Keys,
        settings: Settings,
        notifier: Notifier,
        authenticator: Authenticator,
        password_cost: HashCost,
    ) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings
        self._notifier = notifier
        self._auth = authenticator
        self._cost = password_cost
        self._code_key = derive_key(keys.tokens, "confirmation-codes")
        self._limiter = RateLimiter(store, clock)
        self.policy = policy_for(settings)
        # Called with the account id once an account becomes active (wired by runtime).
        self.on_activated: list[Callable[[str], Awaitable[None]]] = []

    async def record(self, account_id: str) -> AuthRecord:
        found = await self._store.run(lambda c: cred_repo.load_for_auth(c, account_id=account_id))
        if found is None:
            raise NotFound("compte introuvable")
        return found

    # -- passwords -----------------------------------------------------------------------
    async def check(self, account_id: str, password: str) -> list[str]:
        """The policy's French reasons against ``password``, last passwords included
        (empty: acceptable). For a submitted password only, never for live hints."""
        record = await self.record(account_id)
        history = await self._store.run(
            lambda c: cred_repo.history_hashes(c, account_id, self.policy.history)
        )
        return await self._violations(record, password[:MAX_PASSWORD_LENGTH], history)

    async def check_rules_only(self, account_id: str, password: str, caller: str) -> list[str]:
        """The live hints: the pure policy rules, without the last passwords.

        ``caller`` identifies the asker (the web session id hash) for the limit of
        :data:`LIVE_CHECKS`; beyond it :class:`LimitReached`. Never verifies a hash,
        so it cannot tell whether a guess is the current or a previous password.
        """
        if not await self._limiter.hit(LIVE_CHECKS, caller):
            raise LimitReached(messages.THROTTLED)
        record = await self.record(account_id)
        found = await off_loop(
            policy_mod.check_password,
            password[:MAX_PASSWORD_LENGTH],
            self.policy,
            facts_of(record),
        )
        return [v.message for v in found]

    async def _violations(self, record: AuthRecord, password: str, history: list[str]) -> list[str]:
        """The pure rules first; the argon2 runs against the last passwords only when
        every other rule passed (a refused password costs no hash verification)."""
        facts = facts_of(record)
        found = await off_loop(policy_mod.check_password, password, self.policy, facts)
        if found or self.policy.history <= 0:
            return [v.message for v in found]
        previous = [h for h in (record.password_hash, *history) if h]
        for encoded in previous[: self.policy.history]:
            if await verify_off_loop(encoded, password):
                reused = await off_loop(
                    policy_mod.check_password, password, self.policy, facts, lambda _p: True
                )
                return [v.message for v in reused]
        return []

    async def set_password(self, account_id: str, password: str, actor: str, reason: str) -> None:
        """Policy, hash, history, generation bump, temporary password cleared, audit."""
        record = await self.record(account_id)
        history = await self._store.run(
            lambda c: cred_repo.history_hashes(c, account_id, self.policy.history)
        )
        problems = await self._violations(record, password, history)
        if problems:
            raise PasswordRejected(problems)
        hashed = await hash_off_loop(password, self._cost)
        now = self._clock.now()

        def work(conn: Connection) -> None:
            directory_repo.update_rows(
                conn,
                "accounts",
                "id",
                [
                    {
                        "id": account_id,
                        "password_hash": hashed,
                        "temp_password_hash": None,
                        "temp_password_expires_at": None,
                        "updated_at": now,
                    }
                ],
            )
            cred_repo.update(
                conn,
                account_id,
                generation=record.generation + 1,
                password_changed_at=now,
                failed_count=0,
                recent_failed_secrets=[],
                expiry_warned_at=None,
            )
            cred_repo.add_history(conn, account_id, hashed, now)
            audit_repo.append(
                conn, [AuditEntry(now, actor, "password.changed", record.login, {"how": reason})]
            )

        await self._store.run(work)
        self._auth.invalidate(account_id)

    async def change_password(self, account_id: str, current: str, new: str) -> bool:
        """My account: the current password must be right; False when it is not."""
        record = await self.record(account_id)
        if not record.password_hash or not await verify_off_loop(record.password_hash, current):
            return False
        await self.set_password(account_id, new, record.login, "change")
        return True

    # -- recovery data and confirmation codes --------------------------------------------
    async def set_recovery(self, account_id: str, email: str, mobile: str) -> PendingConfirmation:
        """Stores new recovery data (unverified) and sends a code to each."""
        email = email.strip()
        if not _EMAIL.match(email):
            raise InvalidInput("adresse électronique personnelle invalide")
        if email.lower().endswith("@" + self._settings.academie.domain):
            raise InvalidInput("l'adresse de secours doit être personnelle, hors de l'académie")
        number = normalise_mobile(mobile) if mobile.strip() else None
        record = await self.record(account_id)
        await self._store.run(
            lambda c: cred_repo.update(
                c,
                account_id,
                recovery_email=email,
                recovery_email_verified_at=None,
                recovery_mobile=number,
                recovery_mobile_verified_at=None,
            )
        )
        await self._send_code(record, "confirm_email", email)
        if number:
            await self._send_code(record, "confirm_sms", number)
        return PendingConfirmation(email, number)

    async def _send_code(self, record: AuthRecord, kind: str, target: str) -> None:
        code = f"{secrets.randbelow(1_000_000):06d}"
        now = self._clock.now()
        minutes = self._settings.auth.confirmation_code_minutes
        id_hash = self._code_hash(record.account_id, kind, code)

        def work(conn: Connection) -> None:
            # The new code inherits the wrong tries of the live one it replaces.
            live = token_repo.live_of(conn, record.account_id, kind, now)
            tries = max((token.attempts for token in live), default=0)
            token_repo.revoke_kind(conn, record.account_id, kind, now)
            token_repo.add(
                conn,
                id_hash,
                kind,
                record.account_id,
                now,
                now + dt.timedelta(minutes=minutes),
                {"target": hashlib.sha256(target.encode()).hexdigest()},
                attempts=tries,
            )

        await self._store.run(work)
        text = (
            f"Code de confirmation de votre messagerie académique : {code} "
            f"(valable {minutes} minutes)."
        )
        if kind == "confirm_sms":
            await self._notifier.sms(target, text)
        else:
            body = (
                f"Bonjour {record.first_name},\n\n{text}\n\n"
                "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.\n"
            )
            await self._notifier.email([target], "Votre code de confirmation", body)

    async def confirm(self, account_id: str, email_code: str, sms_code: str | None) -> bool:
        """Checks the codes; both right: data verified (and a new account activated).

        Nothing is used up unless every code is right, so a typo in one code does not
        burn the other; each wrong code counts against its own limit of tries.
        """
        record = await self.record(account_id)
        now = self._clock.now()
        wanted = [("confirm_email", email_code)]
        if record.recovery_mobile:
            wanted.append(("confirm_sms", sms_code or ""))
        hashes = [(kind, self._code_hash(account_id, kind, code)) for kind, code in wanted]

        def work(conn: Connection) -> bool:
            right = [token_repo.peek(conn, h, kind, now) is not None for kind, h in hashes]
            if not all(right):
                for (kind, _h), ok in zip(hashes, right, strict=True):
                    if not ok:
                        self._wrong_code(conn, account_id, kind, now)
                return False
            for kind, h in hashes:
                token_repo.consume(conn, h, kind, now)
            self._mark_verified(conn, record, now)
            return True

        confirmed = await self._store.run(work)
        if confirmed and AccountState(record.state) is AccountState.LETTER_ISSUED:
            for hook in self.on_activated:  # the mail store creates the mailboxes
                await hook(account_id)
        return confirmed

    def _code_hash(self, account_id: str, kind: str, code: str) -> str:
        digits = "".join(ch for ch in code if ch.isdigit())
        return keyed_hash(self._code_key, f"{account_id}|{kind}|{digits}")

    def _wrong_code(self, conn: Connection, account_id: str, kind: str, now: dt.datetime) -> None:
        for token in token_repo.live_of(conn, account_id, kind, now):
            token_repo.bump_attempts(conn, token.id_hash)
            if token.attempts + 1 >= _CODE_TRIES:
                token_repo.revoke_kind(conn, account_id, kind, now)

    def _mark_verified(self, conn: Connection, record: AuthRecord, now: dt.datetime) -> None:
        values = {"recovery_email_verified_at": now}
        if record.recovery_mobile:
            values["recovery_mobile_verified_at"] = now
        cred_repo.update(conn, record.account_id, **values)
        if AccountState(record.state) is AccountState.LETTER_ISSUED and record.password_hash:
            outcome = transition(AccountState.LETTER_ISSUED, Event.ACTIVATE)
            directory_repo.update_rows(
                conn,
                "accounts",
                "id",
                [
                    {
                        "id": record.account_id,
                        "state": outcome.state.value,
                        "state_changed_at": now,
                        "updated_at": now,
                    }
                ],
            )
            audit_repo.append(
                conn, [AuditEntry(now, record.login, "account.activate", record.login, {})]
            )
        audit_repo.append(
            conn, [AuditEntry(now, record.login, "recovery.verified", record.login, {})]
        )

    async def resend_codes(self, account_id: str) -> None:
        """New codes to the pending recovery data; :class:`LimitReached` beyond
        :data:`RESENDS` for the account."""
        if not await self._limiter.hit(RESENDS, account_id):
            raise LimitReached(messages.THROTTLED)
        record = await self.record(account_id)
        if record.recovery_email:
            await self._send_code(record, "confirm_email", record.recovery_email)
        if record.recovery_mobile:
            await self._send_code(record, "confirm_sms", record.recovery_mobile)
