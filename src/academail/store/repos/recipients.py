"""Resolving an inbound recipient address to the account that receives its mail.

One query per RCPT (RFC 5321 §4.1.1.3): the address is matched against the
account's own address and its aliases, and only an account in the given state
(active) is returned, so mail to a suspended, disabled or deleted account is
refused at RCPT exactly like mail to an address that never existed.
"""

from __future__ import annotations

import sqlalchemy as sa

from academail.store.tables import accounts, aliases

__all__ = ["account_for_address"]


def account_for_address(conn: sa.Connection, address: str, state: str) -> str | None:
    """The id of the account in ``state`` owning ``address`` (lowercase) or an alias."""
    own = sa.select(accounts.c.id).where(
        sa.func.lower(accounts.c.address) == address, accounts.c.state == state
    )
    alias = (
        sa.select(accounts.c.id)
        .join(aliases, aliases.c.account_id == accounts.c.id)
        .where(sa.func.lower(aliases.c.address) == address, accounts.c.state == state)
    )
    return conn.execute(sa.union(own, alias).limit(1)).scalar()
