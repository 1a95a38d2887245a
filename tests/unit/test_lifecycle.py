"""The account state machine: every allowed transition, and refusals for the rest."""

from __future__ import annotations

import itertools

import pytest

from academail.core.errors import IllegalTransition
from academail.identity.lifecycle import TRANSITIONS, AccountState, Event, transition

S = AccountState


@pytest.mark.parametrize(
    ("state", "event", "resume", "expected", "expected_resume"),
    [
        (S.PROVISIONED, Event.ISSUE_LETTER, None, S.LETTER_ISSUED, None),
        (S.LETTER_ISSUED, Event.ISSUE_LETTER, None, S.LETTER_ISSUED, None),
        (S.ACTIVE, Event.ISSUE_LETTER, None, S.LETTER_ISSUED, None),
        (S.LETTER_ISSUED, Event.ACTIVATE, None, S.ACTIVE, None),
        (S.ACTIVE, Event.LOCK, None, S.LOCKED, S.ACTIVE),
        (S.LETTER_ISSUED, Event.LOCK, None, S.LOCKED, S.LETTER_ISSUED),
        (S.LOCKED, Event.UNLOCK, S.LETTER_ISSUED, S.LETTER_ISSUED, None),
        (S.LOCKED, Event.UNLOCK, S.ACTIVE, S.ACTIVE, None),
        (S.ACTIVE, Event.SUSPEND, None, S.SUSPENDED, S.ACTIVE),
        (S.LOCKED, Event.SUSPEND, S.ACTIVE, S.SUSPENDED, S.ACTIVE),
        (S.SUSPENDED, Event.REINSTATE, S.ACTIVE, S.ACTIVE, None),
        (S.ACTIVE, Event.DISABLE, None, S.DISABLED, S.ACTIVE),
        # A departure keeps a support decision: the suspension is what is remembered.
        (S.SUSPENDED, Event.DISABLE, S.LETTER_ISSUED, S.DISABLED, S.SUSPENDED),
        (S.SUSPENDED, Event.DISABLE, S.ACTIVE, S.DISABLED, S.SUSPENDED),
        # A lock does not survive a departure: where the lock would return is remembered.
        (S.LOCKED, Event.DISABLE, S.ACTIVE, S.DISABLED, S.ACTIVE),
        (S.LOCKED, Event.DISABLE, S.LETTER_ISSUED, S.DISABLED, S.LETTER_ISSUED),
        (S.DISABLED, Event.ENABLE, S.ACTIVE, S.ACTIVE, None),
        (S.DISABLED, Event.ENABLE, S.SUSPENDED, S.SUSPENDED, None),
        (S.DISABLED, Event.ENABLE, S.LOCKED, S.ACTIVE, None),
        (S.DISABLED, Event.ENABLE, S.PROVISIONED, S.PROVISIONED, None),
        (S.DISABLED, Event.DELETE, S.ACTIVE, S.DELETED, None),
        (S.DELETED, Event.RECREATE, None, S.PROVISIONED, None),
    ],
)
def test_allowed(state, event, resume, expected, expected_resume):
    outcome = transition(state, event, resume)
    assert outcome.state is expected
    assert outcome.resume_state is expected_resume


ILLEGAL = [
    (state, event)
    for state, event in itertools.product(AccountState, Event)
    if (state, event) not in TRANSITIONS
]


@pytest.mark.parametrize(("state", "event"), ILLEGAL)
def test_everything_else_is_refused_with_a_french_message(state, event):
    with pytest.raises(IllegalTransition) as caught:
        transition(state, event)
    assert state.label in caught.value.message
    assert event.label in caught.value.message


def test_some_refusals_that_matter():
    assert (S.PROVISIONED, Event.ACTIVATE) in ILLEGAL  # no activation without a letter
    assert (S.DELETED, Event.ENABLE) in ILLEGAL  # deleted is final for support
    assert (S.DISABLED, Event.LOCK) in ILLEGAL
    assert (S.ACTIVE, Event.DELETE) in ILLEGAL  # deletion only after disabling


def test_unlock_of_a_never_activated_account_does_not_activate_it():
    locked = transition(S.LETTER_ISSUED, Event.LOCK)
    assert transition(locked.state, Event.UNLOCK, locked.resume_state).state is S.LETTER_ISSUED


def test_a_suspension_survives_a_departure_and_a_return():
    suspended = transition(S.ACTIVE, Event.SUSPEND)
    disabled = transition(suspended.state, Event.DISABLE, suspended.resume_state)
    back = transition(disabled.state, Event.ENABLE, disabled.resume_state)
    assert back.state is S.SUSPENDED


def test_a_lock_does_not_survive_a_departure():
    locked = transition(S.LETTER_ISSUED, Event.LOCK)
    disabled = transition(locked.state, Event.DISABLE, locked.resume_state)
    assert transition(disabled.state, Event.ENABLE, disabled.resume_state).state is (
        S.LETTER_ISSUED
    )
