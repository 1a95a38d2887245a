"""Single sign-on: registered OIDC clients and CAS services, codes, tokens, tickets.

Secrets never sit here in clear: client secrets, authorization codes and access
tokens are stored as keyed hashes by the domain; a CAS ticket row keeps only the
public half of the ticket (its MAC half is recomputed from a key). Single use is
enforced by ``UPDATE … WHERE used_at IS NULL`` so two racing requests cannot both
redeem the same code or ticket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from academail.store.tables import (
    accounts,
    agents,
    cas_services,
    cas_tickets,
    establishments,
    oidc_clients,
    oidc_codes,
    oidc_tokens,
)

__all__ = [
    "ClaimsRow",
    "ClientRow",
    "CodeRow",
    "ServiceRow",
    "TicketRow",
    "TokenRow",
    "account_claims",
    "add_client",
    "add_code",
    "add_service",
    "add_ticket",
    "add_token",
    "clients_of_session",
    "get_clients",
    "get_code",
    "get_token",
    "list_clients",
    "list_services",
    "nonce_used",
    "purge_expired",
    "remove_client",
    "remove_service",
    "revoke_tokens",
    "revoke_tokens_of_account",
    "service_by_url",
    "tickets_of_session",
    "use_code",
    "use_ticket",
]


@dataclass(frozen=True)
class ClientRow:
    client_id: str
    name: str
    secret_hash: str | None
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    backchannel_logout_uri: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class ServiceRow:
    id: int
    name: str
    service_url: str
    logout_url: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class CodeRow:
    code_hash: str
    client_id: str
    account_id: str
    session_hash: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    auth_time: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None


@dataclass(frozen=True)
class TokenRow:
    token_hash: str
    client_id: str
    account_id: str
    session_hash: str
    scope: str
    expires_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class TicketRow:
    ticket: str
    service_url: str
    account_id: str
    session_hash: str
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None


@dataclass(frozen=True)
class ClaimsRow:
    """What an application may learn about the agent it signs in."""

    account_id: str
    login: str
    address: str
    state: str
    first_name: str
    usage_name: str
    role: str
    uai: str | None
    establishment_name: str


def _client(r: Any) -> ClientRow:
    return ClientRow(
        r["client_id"],
        r["name"],
        r["secret_hash"],
        tuple(r["redirect_uris"]),
        tuple(r["post_logout_redirect_uris"]),
        r["backchannel_logout_uri"],
        r["created_at"],
    )


def _service(r: Any) -> ServiceRow:
    return ServiceRow(r["id"], r["name"], r["service_url"], r["logout_url"], r["created_at"])


# --- Registry ---------------------------------------------------------------------------


def add_client(conn: sa.Connection, row: ClientRow) -> None:
    conn.execute(
        oidc_clients.insert().values(
            client_id=row.client_id,
            name=row.name,
            secret_hash=row.secret_hash,
            redirect_uris=list(row.redirect_uris),
            post_logout_redirect_uris=list(row.post_logout_redirect_uris),
            backchannel_logout_uri=row.backchannel_logout_uri,
            created_at=row.created_at,
        )
    )


def get_clients(conn: sa.Connection, client_ids: Sequence[str]) -> list[ClientRow]:
    if not client_ids:
        return []
    rows = conn.execute(
        sa.select(oidc_clients).where(oidc_clients.c.client_id.in_(list(client_ids)))
    ).mappings()
    return [_client(r) for r in rows]


def list_clients(conn: sa.Connection) -> list[ClientRow]:
    rows = conn.execute(sa.select(oidc_clients).order_by(oidc_clients.c.client_id)).mappings()
    return [_client(r) for r in rows]


def remove_client(conn: sa.Connection, client_id: str) -> bool:
    done = conn.execute(oidc_clients.delete().where(oidc_clients.c.client_id == client_id))
    return done.rowcount == 1


def add_service(
    conn: sa.Connection, name: str, service_url: str, logout_url: str | None, now: dt.datetime
) -> int:
    result = conn.execute(
        cas_services.insert().values(
            name=name, service_url=service_url, logout_url=logout_url, created_at=now
        )
    )
    key = result.inserted_primary_key
    return int(key[0]) if key else 0


def list_services(conn: sa.Connection) -> list[ServiceRow]:
    rows = conn.execute(sa.select(cas_services).order_by(cas_services.c.id)).mappings()
    return [_service(r) for r in rows]


def service_by_url(conn: sa.Connection, service_url: str) -> ServiceRow | None:
    row = (
        conn.execute(sa.select(cas_services).where(cas_services.c.service_url == service_url))
        .mappings()
        .first()
    )
    return _service(row) if row else None


def remove_service(conn: sa.Connection, service_url: str) -> bool:
    done = conn.execute(cas_services.delete().where(cas_services.c.service_url == service_url))
    return done.rowcount == 1


# --- Authorization codes and access tokens ----------------------------------------------


def add_code(conn: sa.Connection, row: CodeRow) -> None:
    conn.execute(oidc_codes.insert().values(**asdict(row)))


def get_code(conn: sa.Connection, code_hash: str) -> CodeRow | None:
    row = (
        conn.execute(sa.select(oidc_codes).where(oidc_codes.c.code_hash == code_hash))
        .mappings()
        .first()
    )
    return CodeRow(**dict(row)) if row else None


def use_code(conn: sa.Connection, code_hash: str, now: dt.datetime) -> bool:
    """Marks a code used; False when another request already used it (a race)."""
    done = conn.execute(
        oidc_codes.update()
        .where(oidc_codes.c.code_hash == code_hash, oidc_codes.c.used_at.is_(None))
        .values(used_at=now)
    )
    return done.rowcount == 1


def nonce_used(conn: sa.Connection, client_id: str, nonce: str) -> bool:
    """Whether this client already sent this nonce (OIDC Core §15.5.2: replay)."""
    found = conn.execute(
        sa.select(oidc_codes.c.code_hash)
        .where(oidc_codes.c.client_id == client_id, oidc_codes.c.nonce == nonce)
        .limit(1)
    ).first()
    return found is not None


def add_token(conn: sa.Connection, row: TokenRow) -> None:
    conn.execute(oidc_tokens.insert().values(**asdict(row)))


def get_token(conn: sa.Connection, token_hash: str) -> TokenRow | None:
    row = (
        conn.execute(sa.select(oidc_tokens).where(oidc_tokens.c.token_hash == token_hash))
        .mappings()
        .first()
    )
    return TokenRow(**dict(row)) if row else None


def revoke_tokens(
    conn: sa.Connection, session_hash: str, now: dt.datetime, client_id: str | None = None
) -> int:
    """Revokes the live tokens of a portal session (for one client, or all)."""
    query = oidc_tokens.update().where(
        oidc_tokens.c.session_hash == session_hash, oidc_tokens.c.revoked_at.is_(None)
    )
    if client_id is not None:
        query = query.where(oidc_tokens.c.client_id == client_id)
    return conn.execute(query.values(revoked_at=now)).rowcount


def revoke_tokens_of_account(
    conn: sa.Connection, account_id: str, now: dt.datetime, keep_session: str | None = None
) -> int:
    """Revokes every live token of an account, from every portal session but
    ``keep_session`` (recovery, "it wasn't me", a new letter: an intruder's
    applications must lose their access too)."""
    query = oidc_tokens.update().where(
        oidc_tokens.c.account_id == account_id, oidc_tokens.c.revoked_at.is_(None)
    )
    if keep_session is not None:
        query = query.where(oidc_tokens.c.session_hash != keep_session)
    return conn.execute(query.values(revoked_at=now)).rowcount


def clients_of_session(conn: sa.Connection, session_hash: str) -> list[str]:
    """The clients a portal session signed in (codes issued, whether redeemed or not)."""
    rows = conn.execute(
        sa.select(oidc_codes.c.client_id)
        .where(oidc_codes.c.session_hash == session_hash)
        .distinct()
    )
    return sorted(r.client_id for r in rows)


# --- CAS tickets --------------------------------------------------------------------------


def add_ticket(conn: sa.Connection, row: TicketRow) -> None:
    conn.execute(cas_tickets.insert().values(**asdict(row)))


def use_ticket(conn: sa.Connection, ticket: str, now: dt.datetime) -> TicketRow | None:
    """Consumes a ticket (CAS 3.0 §3.1.1: one validation attempt, whatever its outcome).

    Returns the row as it was when it was still unused, or None when unknown or
    already used; the caller checks expiry and service.
    """
    row = (
        conn.execute(sa.select(cas_tickets).where(cas_tickets.c.ticket == ticket))
        .mappings()
        .first()
    )
    if row is None or row["used_at"] is not None:
        return None
    done = conn.execute(
        cas_tickets.update()
        .where(cas_tickets.c.ticket == ticket, cas_tickets.c.used_at.is_(None))
        .values(used_at=now)
    )
    return TicketRow(**dict(row)) if done.rowcount == 1 else None


def tickets_of_session(conn: sa.Connection, session_hash: str) -> list[TicketRow]:
    rows = conn.execute(
        sa.select(cas_tickets)
        .where(cas_tickets.c.session_hash == session_hash)
        .order_by(cas_tickets.c.created_at)
    ).mappings()
    return [TicketRow(**dict(r)) for r in rows]


def purge_expired(conn: sa.Connection, before: dt.datetime) -> int:
    """Deletes codes, tickets and tokens that expired before ``before``."""
    count = conn.execute(oidc_codes.delete().where(oidc_codes.c.expires_at < before)).rowcount
    count += conn.execute(cas_tickets.delete().where(cas_tickets.c.expires_at < before)).rowcount
    count += conn.execute(oidc_tokens.delete().where(oidc_tokens.c.expires_at < before)).rowcount
    return count


# --- Claims -------------------------------------------------------------------------------


def account_claims(conn: sa.Connection, account_id: str) -> ClaimsRow | None:
    row = (
        conn.execute(
            sa.select(
                accounts.c.id.label("account_id"),
                accounts.c.login,
                accounts.c.address,
                accounts.c.state,
                agents.c.first_name,
                agents.c.usage_name,
                agents.c.role,
                agents.c.uai,
                sa.func.coalesce(establishments.c.name, "").label("establishment_name"),
            )
            .join(agents, agents.c.id == accounts.c.agent_id)
            .outerjoin(establishments, establishments.c.uai == agents.c.uai)
            .where(accounts.c.id == account_id)
        )
        .mappings()
        .first()
    )
    return ClaimsRow(**dict(row)) if row else None
