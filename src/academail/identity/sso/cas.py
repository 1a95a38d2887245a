"""CAS 3.0 server: service tickets for registered services, and their validation.

Standard: Apereo CAS Protocol 3.0 (§2.1 /login, §2.5 /serviceValidate, §2.8
/p3/serviceValidate, §3.1 service tickets, Appendix C single logout). Proxy tickets
are not offered (no application needs them; ``pgtUrl`` is ignored, which §2.5.4
allows: validation still succeeds without a PGT).

Tickets (§3.1.1): ``ST-`` then 29 characters in all (services must accept 32). The
first half is random and is the row's key; the second half is an HMAC of the first
under a platform key, so a copy of the table alone yields no valid ticket. The
character after ``ST-`` records whether the ticket comes from a password entered for
this very request (``P``: "primary credentials", what ``renew=true`` asks for) or
from the single sign-on session (``S``); the MAC covers it, so it cannot be forged.
A ticket is valid for one validation attempt, whatever its outcome (§3.1.1), and
for ``TICKET_SECONDS`` (the spec recommends at most five minutes; Apereo CAS uses
10 s; 30 s leaves room for a slow service without keeping tickets around).

Security posture: validation faces any network client; it answers with the agent's
login and attributes only to the registered service the ticket was issued for.
"""

from __future__ import annotations

import datetime as dt
import enum
import hmac
import secrets
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from hashlib import sha256

from academail.core.clock import Clock
from academail.core.errors import NotFound
from academail.identity.lifecycle import AccountState
from academail.identity.sessions import Session
from academail.identity.sso.claims import cas_attributes
from academail.identity.sso.registry import Registry, service_key
from academail.store import AuditEntry, Connection, Store
from academail.store import audit as audit_repo
from academail.store import sessions as session_repo
from academail.store import sso as sso_repo
from academail.store.repos.sso import TicketRow

__all__ = ["CasFailure", "CasResult", "CasServer", "TICKET_SECONDS"]

TICKET_SECONDS = 30
_PUBLIC = 16  # "ST-" + kind + 12 random characters
_MAC = 12


class CasFailure(enum.Enum):
    """§2.5.3 error codes (the ones this server can give)."""

    INVALID_REQUEST = "INVALID_REQUEST"
    INVALID_TICKET = "INVALID_TICKET"
    INVALID_SERVICE = "INVALID_SERVICE"


@dataclass(frozen=True)
class CasResult:
    """A validation outcome: a user with attributes, or a failure code."""

    failure: CasFailure | None = None
    message: str = ""
    user: str = ""
    attributes: tuple[tuple[str, str], ...] = ()


def _fail(code: CasFailure, message: str) -> CasResult:
    return CasResult(failure=code, message=message)


class CasServer:
    def __init__(self, store: Store, clock: Clock, registry: Registry, key: bytes) -> None:
        self._store = store
        self._clock = clock
        self._registry = registry
        self._key = key

    def _mac(self, public: str) -> str:
        digest = hmac.new(self._key, public.encode("ascii"), sha256).digest()
        return urlsafe_b64encode(digest).decode("ascii")[:_MAC]

    def ticket_value(self, public: str) -> str:
        """The full ticket for a stored public half (single logout sends it back)."""
        return f"{public}-{self._mac(public)}"

    def _public_of(self, ticket: str) -> str | None:
        if len(ticket) != _PUBLIC + 1 + _MAC or not ticket.startswith("ST-"):
            return None
        public, mac = ticket[:_PUBLIC], ticket[_PUBLIC + 1 :]
        if ticket[_PUBLIC] != "-" or not hmac.compare_digest(mac, self._mac(public)):
            return None
        return public

    async def issue(self, service: str, session: Session, primary: bool) -> str:
        """A service ticket for ``service`` (registered) and the signed-in ``session``."""
        if session.account_id is None or await self._registry.service_for(service) is None:
            raise NotFound("service non enregistré")
        public = "ST-" + ("P" if primary else "S") + secrets.token_urlsafe(9)
        now = self._clock.now()
        row = TicketRow(
            ticket=public,
            service_url=service,
            account_id=session.account_id,
            session_hash=session.id_hash,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=TICKET_SECONDS),
            used_at=None,
        )
        await self._store.run(lambda c: sso_repo.add_ticket(c, row))
        return self.ticket_value(public)

    async def validate(self, service: str | None, ticket: str | None, renew: bool) -> CasResult:
        """§2.5 / §2.8: consume the ticket, then check expiry, service, renew, account."""
        if not service or not ticket:
            return _fail(CasFailure.INVALID_REQUEST, "Paramètres service et ticket requis.")
        public = self._public_of(ticket)
        if public is None:
            return _fail(CasFailure.INVALID_TICKET, "Ticket non reconnu.")
        now = self._clock.now()
        return await self._store.run(lambda c: self._validate(c, public, service, renew, now))

    def _validate(
        self, conn: Connection, public: str, service: str, renew: bool, now: dt.datetime
    ) -> CasResult:
        row = sso_repo.use_ticket(conn, public, now)
        if row is None or row.expires_at <= now:
            return _fail(CasFailure.INVALID_TICKET, "Ticket non reconnu ou expiré.")
        key = service_key(service)
        if row.service_url != service or key is None or not sso_repo.service_by_url(conn, key):
            return _fail(CasFailure.INVALID_SERVICE, "Ticket émis pour un autre service.")
        if renew and not public.startswith("ST-P"):
            return _fail(CasFailure.INVALID_TICKET, "Ticket issu de la session, pas d'une saisie.")
        claims = sso_repo.account_claims(conn, row.account_id)
        web = session_repo.get(conn, row.session_hash)
        live = web is not None and web.revoked_at is None and web.expires_at > now
        if not live or claims is None or claims.state != AccountState.ACTIVE.value:
            return _fail(CasFailure.INVALID_TICKET, "Ticket non reconnu ou expiré.")
        details = {"service": key, "protocol": "cas"}
        audit_repo.append(conn, [AuditEntry(now, "sso", "sso.signin", claims.login, details)])
        signed_in_at = web.created_at if web is not None else row.created_at
        extra = (
            ("authenticationDate", signed_in_at.isoformat()),
            ("isFromNewLogin", "true" if public.startswith("ST-P") else "false"),
            ("longTermAuthenticationRequestTokenUsed", "false"),
        )
        return CasResult(user=claims.login, attributes=(*cas_attributes(claims), *extra))
