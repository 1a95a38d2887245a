"""Issuing credential letters: new temporary passwords, state change, PDF.

Order matters for the agents: the letters are rendered and handed to the caller's
``deliver`` (which writes them somewhere durable, e.g. a 0600 temporary file) *before*
the new password hashes are committed. If rendering or delivery fails nothing
changed; if the commit fails the caller discards what it was given, so no letter
ever carries a password that does not work, and no committed password is without
its letter.

Which accounts a run may touch:

* a département, an establishment, or ``only_new``: accounts that are *provisioned*
  (``only_new``: only those) or *letter issued* (the letter is printed again with a
  new temporary password). An *active* account is never reset by a batch;
* explicit logins (support's ``account reissue``): also *active* accounts. Re-issuing
  replaces the stored hash, which invalidates the previous letter's password at once
  and, for an active account, the password the agent had chosen: that is support's
  "reset to a new temporary password".

A re-issue takes the account back from whoever may hold it (support re-issues a
letter when an agent reports a compromised account): in the same unit of work it
bumps the credential generation (every web session ends), revokes every
application password and OIDC token (:func:`academail.identity.revoke_access_in`),
and once committed drops the account from the sign-in path's verified-credentials
cache. OWASP ASVS 4.0 V3.3.3.

Two runs at once: the commit re-reads each account's state and letter count and
refuses the whole run if either changed since the selection.

The clear NUMEN is read only here, through :func:`academail.identity.numen.unseal`,
because the letter is the one document that prints it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from academail.config import Settings
from academail.core.clock import Clock
from academail.core.errors import InvalidInput, NotFound
from academail.core.keys import Keys
from academail.core.offload import off_loop
from academail.identity import (
    AccountState,
    Event,
    numen,
    passwords,
    revoke_access_in,
    transition,
)
from academail.letters.render import (
    LetterContent,
    LetterLayout,
    find_font,
    render_letters,
    sort_for_posting,
)
from academail.observability import get_logger
from academail.store import AccountRecord, AuditEntry, Connection, Store
from academail.store import audit as audit_repo
from academail.store import directory as repo

__all__ = ["CredentialCache", "Deliver", "IssuedLetters", "LetterSelection", "LetterService"]

Deliver = Callable[[bytes], None]
"""Receives the PDF before the commit; runs in a worker thread; raises to cancel."""

_log = get_logger("academail.letters")

_BATCH_STATES = (AccountState.PROVISIONED.value, AccountState.LETTER_ISSUED.value)
_REISSUE_STATES = (*_BATCH_STATES, AccountState.ACTIVE.value)


class CredentialCache(Protocol):
    """The sign-in path's cache of verified credentials (``Authenticator``)."""

    def invalidate(self, account_id: str) -> None:
        """Forgets what was verified for the account."""


@dataclass(frozen=True)
class LetterSelection:
    """Which accounts get a letter: by département, establishment, new ones, or logins."""

    departement: str | None = None
    uai: str | None = None
    only_new: bool = False
    logins: tuple[str, ...] | None = None

    def states(self) -> tuple[str, ...]:
        """The account states this selection may give a letter to (see the module doc)."""
        if self.only_new:
            return (AccountState.PROVISIONED.value,)
        return _REISSUE_STATES if self.logins else _BATCH_STATES

    def describe(self) -> str:
        parts = []
        if self.departement:
            parts.append(f"département {self.departement}")
        if self.uai:
            parts.append(f"établissement {self.uai}")
        if self.only_new:
            parts.append("nouveaux comptes")
        if self.logins:
            parts.append(", ".join(self.logins[:5]) + ("…" if len(self.logins) > 5 else ""))
        return " ; ".join(parts) or "tous"


@dataclass(frozen=True)
class IssuedLetters:
    pdf: bytes
    count: int
    logins: tuple[str, ...]
    # Clear temporary passwords, only when asked (the demo prints one to try the
    # activation); never stored, never logged.
    revealed: dict[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class _Fresh:
    record: AccountRecord
    password: str
    hashed: str


class LetterService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        keys: Keys,
        settings: Settings,
        credential_cache: CredentialCache,
    ) -> None:
        self._store = store
        self._clock = clock
        self._keys = keys
        self._settings = settings
        self._cache = credential_cache

    async def issue(
        self, selection: LetterSelection, actor: str, *, deliver: Deliver, reveal: bool = False
    ) -> IssuedLetters:
        """Renders, delivers, then commits the letters of ``selection``.

        ``deliver`` gets the PDF before anything is committed (not called when no
        account is selected); if it raises, nothing changes.
        """
        if not (selection.departement or selection.uai or selection.only_new or selection.logins):
            raise InvalidInput(
                "précisez une sélection : --departement, --establishment, --new ou un identifiant"
            )
        records = await self._store.run(
            lambda conn: repo.select_for_letters(
                conn,
                states=selection.states(),
                departement=selection.departement,
                uai=selection.uai,
                logins=selection.logins,
            )
        )
        if selection.logins:
            found = {r.login for r in records}
            missing = [login for login in selection.logins if login not in found]
            if missing:
                raise NotFound(f"aucun compte à qui éditer un courrier : {', '.join(missing)}")
        if not records:
            return IssuedLetters(b"", 0, ())
        fresh = await self._fresh_passwords(records)
        now = self._clock.now()
        deadline = now + dt.timedelta(days=self._settings.identity.activation_deadline_days)
        contents = [self._content(item, deadline.date()) for item in fresh]
        pdf = await off_loop(render_letters, sort_for_posting(contents), self._layout(now.date()))
        await off_loop(deliver, pdf)
        await self._store.run(lambda conn: self._commit(conn, fresh, now, deadline, actor))
        for item in fresh:
            self._cache.invalidate(item.record.account_id)
        _log.info(
            "letters_issued",
            count=len(fresh),
            departement=selection.departement or "",
            uai=selection.uai or "",
            only_new=selection.only_new,
            explicit_logins=len(selection.logins or ()),
            actor=actor,
        )
        revealed = {f.record.login: f.password for f in fresh} if reveal else {}
        return IssuedLetters(
            pdf, len(fresh), tuple(sorted(f.record.login for f in fresh)), revealed
        )

    async def _fresh_passwords(self, records: list[AccountRecord]) -> list[_Fresh]:
        profile = self._settings.identity.temporary_password
        cost = passwords.HashCost(profile.time_cost, profile.memory_kib, profile.parallelism)
        length = self._settings.identity.temporary_password_length

        def batch(chunk: list[AccountRecord]) -> list[_Fresh]:
            out = []
            hasher = passwords.hasher(cost)
            for record in chunk:
                clear = passwords.generate_temporary_password(length)
                out.append(_Fresh(record, clear, hasher.hash(clear)))
            return out

        # argon2 releases the GIL: two threads use both cores of a small node.
        half = (len(records) + 1) // 2
        parts = await asyncio.gather(
            off_loop(batch, records[:half]), off_loop(batch, records[half:])
        )
        return [item for part in parts for item in part]

    def _content(self, item: _Fresh, deadline: dt.date) -> LetterContent:
        record = item.record
        if record.numen_sealed is None:
            raise InvalidInput(f"{record.login} : NUMEN absent (compte supprimé ?)")
        clear_numen = numen.unseal(record.numen_sealed, record.agent_id, self._keys.numen_seal)
        portal = self._settings.academie.portal_url.rstrip("/")
        return LetterContent(
            civility=record.civility,
            first_name=record.first_name,
            usage_name=record.usage_name,
            address_lines=tuple(line for line in record.address_lines.split("\n") if line),
            postal_code=record.postal_code,
            city=record.city,
            login=record.login,
            address=record.address,
            temporary_password=item.password,
            numen=clear_numen,
            activation_url=f"{portal}/activation?login={record.login}",
            activation_deadline=deadline,
            departement_code=record.departement_code,
            establishment_uai=record.uai or "",
            establishment_name=record.establishment_name,
        )

    def _layout(self, today: dt.date) -> LetterLayout:
        academie = self._settings.academie
        support = [f"Assistance académique : {academie.support_phone} – {academie.support_email}"]
        support += [f"{d.dsden} : {d.phone} – {d.email}" for d in academie.departement_list()]
        support.append(f"Compte piraté : appelez sans attendre le {academie.hacked_account_phone}")
        letters = self._settings.letters
        return LetterLayout(
            academie_name=academie.name,
            sender_lines=tuple(academie.rectorat),
            sender_city=academie.city,
            portal_url=academie.portal_url,
            support_lines=tuple(support),
            font_path=find_font([letters.font]),
            font_bold_path=find_font([letters.font_bold]),
            issued_on=today,
        )

    def _commit(
        self,
        conn: Connection,
        fresh: list[_Fresh],
        now: dt.datetime,
        deadline: dt.datetime,
        actor: str,
    ) -> None:
        rows: list[dict[str, Any]] = []
        audit: list[AuditEntry] = []
        current = repo.letter_states(conn, [f.record.account_id for f in fresh])
        for item in fresh:
            record = item.record
            if current.get(record.account_id) != (record.state, record.letter_count):
                raise InvalidInput(
                    f"{record.login} : le compte a changé pendant l'édition (autre édition "
                    "de courriers ou action du support en même temps) ; aucun courrier "
                    "n'est valable, relancez"
                )
            outcome = transition(AccountState(record.state), Event.ISSUE_LETTER)
            rows.append(
                {
                    "id": record.account_id,
                    "state": outcome.state.value,
                    "resume_state": None,
                    "state_changed_at": now,
                    "temp_password_hash": item.hashed,
                    "temp_password_expires_at": deadline,
                    "password_hash": None,
                    "letter_issued_at": now,
                    "letter_count": record.letter_count + 1,
                    "updated_at": now,
                }
            )
            details: dict[str, Any] = {"deadline": deadline.date().isoformat()}
            if record.letter_count == 0:
                action = "letter.issued"
            else:
                action = "letter.reissued"
                revoked = revoke_access_in(conn, record.account_id, now, end_sessions=True)
                details.update(revoked.details())
            audit.append(AuditEntry(now, actor, action, record.login, details))
        repo.update_rows(conn, "accounts", "id", rows)
        audit_repo.append(conn, audit)
