"""Account states and the only table of allowed transitions.

Every state change of an account goes through :func:`transition`; a change that
is not in :data:`TRANSITIONS` is refused with :class:`IllegalTransition` and a
French message, whatever the entry point (HR import, support, CLI, lockout).

Two states are *interruptions* rather than steps: ``locked`` (temporary, after
failed sign-ins or by support) and ``suspended`` (by support, e.g. "it wasn't
me"). Entering one remembers where the account was (``resume_state``), and
leaving it returns there, so unlocking an account that had not been activated yet
does not activate it.

A departure (``disabled``) keeps a support decision: disabling a *suspended* account
remembers ``suspended``, so re-enabling it (the agent comes back) returns it to the
suspension, not to service. A *lock* does not survive a departure: disabling a
locked account remembers where the lock would have returned. With one remembered
state, the step before the suspension is forgotten in that case; the caller
derives it from the account's credentials when the suspension is lifted (see
:meth:`academail.identity.accounts.AccountService.apply`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from academail.core.errors import IllegalTransition

__all__ = ["TRANSITIONS", "AccountState", "Event", "Outcome", "transition"]


class AccountState(enum.Enum):
    PROVISIONED = "provisioned"
    LETTER_ISSUED = "letter_issued"
    ACTIVE = "active"
    LOCKED = "locked"
    SUSPENDED = "suspended"
    DISABLED = "disabled"
    DELETED = "deleted"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    AccountState.PROVISIONED: "créé (courrier à éditer)",
    AccountState.LETTER_ISSUED: "courrier édité (en attente d'activation)",
    AccountState.ACTIVE: "actif",
    AccountState.LOCKED: "verrouillé (temporairement)",
    AccountState.SUSPENDED: "suspendu par le support",
    AccountState.DISABLED: "désactivé (agent parti)",
    AccountState.DELETED: "supprimé",
}


class Event(enum.Enum):
    ISSUE_LETTER = "issue_letter"
    ACTIVATE = "activate"
    LOCK = "lock"
    UNLOCK = "unlock"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    DISABLE = "disable"
    ENABLE = "enable"
    DELETE = "delete"
    RECREATE = "recreate"

    @property
    def label(self) -> str:
        return _EVENT_LABELS[self]


_EVENT_LABELS = {
    Event.ISSUE_LETTER: "éditer un courrier d'identifiants",
    Event.ACTIVATE: "activer",
    Event.LOCK: "verrouiller",
    Event.UNLOCK: "déverrouiller",
    Event.SUSPEND: "suspendre",
    Event.REINSTATE: "rétablir",
    Event.DISABLE: "désactiver",
    Event.ENABLE: "réactiver",
    Event.DELETE: "supprimer",
    Event.RECREATE: "recréer",
}

_RESUME = None  # marker: go back to the remembered state
S = AccountState
_WORKING = (S.PROVISIONED, S.LETTER_ISSUED, S.ACTIVE)

TRANSITIONS: dict[tuple[AccountState, Event], AccountState | None] = {
    (S.PROVISIONED, Event.ISSUE_LETTER): S.LETTER_ISSUED,
    (S.LETTER_ISSUED, Event.ISSUE_LETTER): S.LETTER_ISSUED,
    (S.ACTIVE, Event.ISSUE_LETTER): S.LETTER_ISSUED,
    (S.LETTER_ISSUED, Event.ACTIVATE): S.ACTIVE,
    **{(state, Event.LOCK): S.LOCKED for state in (S.LETTER_ISSUED, S.ACTIVE)},
    (S.LOCKED, Event.UNLOCK): _RESUME,
    **{(state, Event.SUSPEND): S.SUSPENDED for state in (*_WORKING, S.LOCKED)},
    (S.SUSPENDED, Event.REINSTATE): _RESUME,
    **{(state, Event.DISABLE): S.DISABLED for state in (*_WORKING, S.LOCKED, S.SUSPENDED)},
    (S.DISABLED, Event.ENABLE): _RESUME,
    (S.DISABLED, Event.DELETE): S.DELETED,
    # An agent who comes back after the deletion gets a new account (new letter).
    (S.DELETED, Event.RECREATE): S.PROVISIONED,
}


@dataclass(frozen=True)
class Outcome:
    """The state after a transition and the state an interruption will return to."""

    state: AccountState
    resume_state: AccountState | None


def transition(
    state: AccountState, event: Event, resume_state: AccountState | None = None
) -> Outcome:
    """Applies ``event`` to an account in ``state``; raises IllegalTransition if not allowed."""
    key = (state, event)
    if key not in TRANSITIONS:
        raise IllegalTransition(
            f"impossible de {event.label} un compte dans l'état « {state.label} »"
        )
    target = TRANSITIONS[key]
    if target is _RESUME:
        back = resume_state or S.PROVISIONED
        if back is S.LOCKED:  # a stale lock never comes back
            back = S.ACTIVE
        return Outcome(back, None)
    if target in (S.LOCKED, S.SUSPENDED, S.DISABLED):
        # Leaving a lock remembers where the lock would return; leaving a suspension
        # for a departure remembers the suspension itself (a support decision).
        remembered = resume_state if state is S.LOCKED else state
        return Outcome(target, remembered)
    return Outcome(target, None)
