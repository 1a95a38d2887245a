"""Which local account an inbound recipient address names, if any (RFC 5321 §4.1.1.3).

Only the académie's own domains (``settings.all_domains``) are local: anything else
is a relay request, which the inbound listener refuses (an open relay is abused
within hours). A local address is delivered only if it is the address or an alias
of an *active* account; every other case — no such address, a reserved name, a
suspended or deleted account — is the same :attr:`Recipient.UNKNOWN`, so that the
reply to RCPT never tells a stranger more than "unknown" (no directory listing).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from academail.config import Settings
from academail.identity.lifecycle import AccountState
from academail.identity.naming import normalise_identifier
from academail.store import Store
from academail.store.repos import recipients as recipient_repo

__all__ = ["Recipient", "RecipientResolver", "Resolution"]


class Recipient(enum.Enum):
    LOCAL = "local"
    UNKNOWN = "unknown"  # in one of our domains, but no active account
    FOREIGN = "foreign"  # not one of our domains: relaying


@dataclass(frozen=True)
class Resolution:
    kind: Recipient
    account_id: str | None = None


_UNKNOWN = Resolution(Recipient.UNKNOWN)
_FOREIGN = Resolution(Recipient.FOREIGN)


class RecipientResolver:
    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._domains = frozenset(_domain(d) for d in settings.all_domains)

    def is_local_domain(self, domain: str) -> bool:
        return _domain(domain) in self._domains

    async def resolve(self, address: str) -> Resolution:
        """One lookup; the address is compared case-insensitively, as accounts are."""
        wanted = normalise_identifier(address)
        local, at, domain = wanted.rpartition("@")
        if not at or not local:
            return _UNKNOWN
        if not self.is_local_domain(domain):
            return _FOREIGN
        key = f"{local}@{_domain(domain)}"
        state = AccountState.ACTIVE.value
        found = await self._store.run(
            lambda conn: recipient_repo.account_for_address(conn, key, state)
        )
        return Resolution(Recipient.LOCAL, found) if found else _UNKNOWN


def _domain(domain: str) -> str:
    """Lowercase, without the root dot (``AC-Amiens.fr.`` is ``ac-amiens.fr``)."""
    return domain.strip().lower().rstrip(".")
