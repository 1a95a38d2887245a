"""Account actions of support and administrators: show, lock, unlock, suspend,
reinstate, disable, enable, and the purge of accounts past their grace period.

Every action goes through :func:`~academail.identity.lifecycle.transition` and is
audited in the same unit of work as the change, so there is no change without its
audit line. What is shown never includes the NUMEN (masked) nor any secret.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from academail.config import Settings
from academail.core.clock import Clock
from academail.core.errors import NotFound
from academail.identity.lifecycle import AccountState, Event, transition
from academail.identity.naming import normalise_identifier
from academail.store import AccountRecord, AuditEntry, Connection, Store
from academail.store import audit as audit_repo
from academail.store import directory as repo

__all__ = ["AccountService", "AccountView", "effective_state"]


def effective_state(record: AccountRecord, now: dt.datetime) -> AccountState:
    """A lock whose time is over is no lock: the stored state catches up lazily."""
    state = AccountState(record.state)
    if state is AccountState.LOCKED and record.locked_until and record.locked_until <= now:
        return AccountState(record.resume_state or AccountState.ACTIVE.value)
    return state


def _working_state(record: AccountRecord) -> AccountState:
    """The step an account has reached, read from its credentials."""
    if record.has_password:
        return AccountState.ACTIVE
    if record.letter_count:
        return AccountState.LETTER_ISSUED
    return AccountState.PROVISIONED


@dataclass(frozen=True)
class AccountView:
    record: AccountRecord
    state: AccountState
    history: list[AuditEntry]


class AccountService:
    def __init__(self, store: Store, clock: Clock, settings: Settings) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings

    def _find(self, conn: Connection, identifier: str) -> AccountRecord:
        record = repo.find_account(conn, normalise_identifier(identifier))
        if record is None:
            raise NotFound(f"aucun compte pour l'identifiant « {identifier.strip()[:64]} »")
        return record

    async def show(self, identifier: str) -> AccountView:
        def work(conn: Connection) -> AccountView:
            record = self._find(conn, identifier)
            history = audit_repo.entries_for(conn, record.login, limit=20)
            return AccountView(record, effective_state(record, self._clock.now()), history)

        return await self._store.run(work)

    async def list_accounts(self, states: list[AccountState] | None = None) -> list[AccountRecord]:
        """Accounts (with their agent), optionally in some states, by login."""
        wanted = [state.value for state in states] if states else None
        return await self._store.run(lambda conn: repo.list_accounts(conn, wanted))

    async def apply(
        self, identifier: str, event: Event, actor: str, reason: str = ""
    ) -> AccountView:
        """Applies one lifecycle event (lock, unlock, suspend, reinstate, disable, enable)."""

        def work(conn: Connection) -> AccountView:
            record = self._find(conn, identifier)
            now = self._clock.now()
            current = effective_state(record, now)
            resume = AccountState(record.resume_state) if record.resume_state else None
            if current is not AccountState(record.state):  # an expired lock: it is over
                resume = None
            if current is AccountState.SUSPENDED and resume is None:
                # A suspension that outlived a departure forgot the step before it.
                resume = _working_state(record)
            outcome = transition(current, event, resume)
            values: dict[str, Any] = {
                "id": record.account_id,
                "state": outcome.state.value,
                "resume_state": outcome.resume_state.value if outcome.resume_state else None,
                "state_changed_at": now,
                "updated_at": now,
                "locked_until": None,
                "delete_after": record.delete_after
                if outcome.state is AccountState.DISABLED
                else None,
            }
            if outcome.state is AccountState.LOCKED:
                minutes = self._settings.identity.lockout_minutes
                values["locked_until"] = now + dt.timedelta(minutes=minutes)
            if event is Event.DISABLE:
                days = self._settings.identity.deletion_grace_days
                values["delete_after"] = now + dt.timedelta(days=days)
            repo.update_rows(conn, "accounts", "id", [values])
            details: dict[str, Any] = {"from": current.value, "to": outcome.state.value}
            if reason:
                details["reason"] = reason[:200]
            audit_repo.append(
                conn, [AuditEntry(now, actor, f"account.{event.value}", record.login, details)]
            )
            fresh = self._find(conn, record.login)
            history = audit_repo.entries_for(conn, record.login, limit=20)
            return AccountView(fresh, effective_state(fresh, now), history)

        return await self._store.run(work)

    async def purge_expired(self, actor: str) -> list[str]:
        """Deletes the disabled accounts whose grace period is over; returns their logins.

        The agent's personal data is wiped; the login, the address and the history of
        given identifiers stay, so they are never given to someone else.
        """

        def work(conn: Connection) -> list[str]:
            now = self._clock.now()
            due = [
                r
                for r in repo.list_accounts(conn, [AccountState.DISABLED.value])
                if r.delete_after is not None and r.delete_after <= now
            ]
            transition(AccountState.DISABLED, Event.DELETE)  # the one rule, checked once
            repo.update_rows(
                conn,
                "accounts",
                "id",
                [
                    {
                        "id": r.account_id,
                        "state": AccountState.DELETED.value,
                        "resume_state": None,
                        "state_changed_at": now,
                        "updated_at": now,
                        "temp_password_hash": None,
                        "password_hash": None,
                    }
                    for r in due
                ],
            )
            repo.wipe_agents(conn, [r.agent_id for r in due], now)
            repo.release_identifiers(
                conn, [i for r in due for i in (r.login, r.address, *r.aliases)], now
            )
            audit_repo.append(
                conn, [AuditEntry(now, actor, "account.delete", r.login, {}) for r in due]
            )
            return [r.login for r in due]

        return await self._store.run(work)
