"""Finding an account from the self-service identity key (NUMEN + date of birth).

The key is the keyed HMAC of :func:`academail.identity.numen.lookup_key`; the
clear NUMEN never reaches the store.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from academail.store.tables import accounts, agents

__all__ = ["IdentityMatch", "account_for_identity"]


@dataclass(frozen=True)
class IdentityMatch:
    account_id: str
    login: str
    state: str


def account_for_identity(conn: sa.Connection, identity_key: str) -> IdentityMatch | None:
    """The account of the agent with this identity key (one query, found or not)."""
    row = conn.execute(
        sa.select(accounts.c.id, accounts.c.login, accounts.c.state)
        .join(agents, agents.c.id == accounts.c.agent_id)
        .where(agents.c.identity_key == identity_key)
        .limit(1)
    ).first()
    return IdentityMatch(row.id, row.login, row.state) if row else None
