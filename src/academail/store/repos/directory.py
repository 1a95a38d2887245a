"""Reads and writes of the staff directory: départements, establishments, agents,
accounts, aliases and the history of given identifiers.

Operations are set-based (whole import plans in a few ``executemany`` calls) so that
an import of 45,000 agents costs a handful of statements, not 45,000 round trips.

No statement carries an unbounded ``IN (…)`` list: PostgreSQL (asyncpg) refuses more
than 32,767 parameters in one statement, so every list of keys is sent in chunks of
:data:`CHUNK` (read at call time, so tests can make it small).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from academail.store.tables import (
    accounts,
    agents,
    aliases,
    audit_log,
    departements,
    establishments,
    identifiers,
    import_runs,
)

__all__ = [
    "CHUNK",
    "AccountRecord",
    "DirectorySnapshot",
    "GivenIdentifier",
    "KnownAgent",
    "find_account",
    "insert_rows",
    "last_disabled_by",
    "letter_states",
    "list_accounts",
    "load_hr_fields",
    "release_identifiers",
    "wipe_agents",
    "delete_aliases",
    "load_snapshot",
    "record_import",
    "select_for_letters",
    "update_rows",
    "upsert_departements",
    "upsert_establishments",
]

Row = dict[str, Any]

CHUNK = 500  # keys per IN (…) list; far below asyncpg's 32,767 parameters


def _chunks(values: Sequence[Any]) -> Iterator[list[Any]]:
    size = CHUNK
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


@dataclass(frozen=True)
class KnownAgent:
    """What the HR import needs to know about an agent already in the directory."""

    agent_id: str
    numen_key: str
    fingerprint: str
    first_name: str
    usage_name: str
    account_id: str
    login: str
    address: str
    state: str
    resume_state: str | None
    duty_end: dt.date | None


@dataclass(frozen=True)
class GivenIdentifier:
    numen_key: str
    released_at: dt.datetime | None


@dataclass(frozen=True)
class DirectorySnapshot:
    agents: dict[str, KnownAgent]  # by numen_key
    identifiers: dict[str, GivenIdentifier]
    aliases: dict[str, str]  # address -> account id
    establishments: dict[str, tuple[str, str]]  # uai -> (name, city)
    departements: set[str]


def load_snapshot(conn: sa.Connection) -> DirectorySnapshot:
    query = sa.select(
        agents.c.id,
        agents.c.numen_key,
        agents.c.hr_fingerprint,
        agents.c.first_name,
        agents.c.usage_name,
        agents.c.duty_end,
        accounts.c.id.label("account_id"),
        accounts.c.login,
        accounts.c.address,
        accounts.c.state,
        accounts.c.resume_state,
    ).join(accounts, accounts.c.agent_id == agents.c.id)
    known = {
        r.numen_key: KnownAgent(
            r.id,
            r.numen_key,
            r.hr_fingerprint,
            r.first_name,
            r.usage_name,
            r.account_id,
            r.login,
            r.address,
            r.state,
            r.resume_state,
            r.duty_end,
        )
        for r in conn.execute(query)
    }
    given = {
        r.identifier: GivenIdentifier(r.numen_key, r.released_at)
        for r in conn.execute(sa.select(identifiers))
    }
    alias_map = {r.address: r.account_id for r in conn.execute(sa.select(aliases))}
    etabs = {
        r.uai: (r.name, r.city)
        for r in conn.execute(
            sa.select(establishments.c.uai, establishments.c.name, establishments.c.city)
        )
    }
    deps = {r.code for r in conn.execute(sa.select(departements.c.code))}
    return DirectorySnapshot(known, given, alias_map, etabs, deps)


_TABLES = {
    "agents": agents,
    "accounts": accounts,
    "aliases": aliases,
    "identifiers": identifiers,
    "establishments": establishments,
}


def insert_rows(conn: sa.Connection, table: str, rows: Sequence[Row]) -> None:
    if rows:
        conn.execute(_TABLES[table].insert(), list(rows))


def update_rows(conn: sa.Connection, table: str, key: str, rows: Sequence[Row]) -> None:
    """Updates rows by primary key ``key``; all rows must carry the same columns."""
    if not rows:
        return
    target = _TABLES[table]
    columns = [c for c in rows[0] if c != key]
    statement = (
        target.update()
        .where(target.c[key] == sa.bindparam(f"k_{key}"))
        .values({c: sa.bindparam(f"v_{c}") for c in columns})
    )
    conn.execute(
        statement,
        [{f"k_{key}": r[key], **{f"v_{c}": r[c] for c in columns}} for r in rows],
    )


def delete_aliases(conn: sa.Connection, addresses: Iterable[str]) -> None:
    for chunk in _chunks(list(addresses)):
        conn.execute(aliases.delete().where(aliases.c.address.in_(chunk)))


def upsert_departements(conn: sa.Connection, rows: Sequence[Row]) -> None:
    existing = {r.code for r in conn.execute(sa.select(departements.c.code))}
    new = [r for r in rows if r["code"] not in existing]
    old = [r for r in rows if r["code"] in existing]
    if new:
        conn.execute(departements.insert(), new)
    for row in old:
        conn.execute(departements.update().where(departements.c.code == row["code"]).values(**row))


def upsert_establishments(conn: sa.Connection, new: Sequence[Row], changed: Sequence[Row]) -> None:
    insert_rows(conn, "establishments", new)
    update_rows(conn, "establishments", "uai", changed)


def record_import(conn: sa.Connection, row: Row) -> int:
    result = conn.execute(import_runs.insert().values(**row))
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("import run inserted without a key")
    return int(key[0])


@dataclass(frozen=True)
class AccountRecord:
    """An account with its agent, as support and letters see it (no NUMEN in clear)."""

    account_id: str
    agent_id: str
    login: str
    address: str
    state: str
    resume_state: str | None
    locked_until: dt.datetime | None
    delete_after: dt.datetime | None
    letter_issued_at: dt.datetime | None
    letter_count: int
    temp_password_expires_at: dt.datetime | None
    has_password: bool
    civility: str
    first_name: str
    usage_name: str
    birth_name: str
    role: str
    corps: str
    uai: str | None
    establishment_name: str
    establishment_city: str
    departement_code: str
    duty_start: dt.date | None
    duty_end: dt.date | None
    address_lines: str
    postal_code: str
    city: str
    has_personal_email: bool
    has_mobile: bool
    numen_sealed: bytes | None
    aliases: tuple[str, ...]


def _account_query() -> sa.Select[Any]:
    return (
        sa.select(
            accounts.c.id.label("account_id"),
            accounts.c.agent_id,
            accounts.c.login,
            accounts.c.address,
            accounts.c.state,
            accounts.c.resume_state,
            accounts.c.locked_until,
            accounts.c.delete_after,
            accounts.c.letter_issued_at,
            accounts.c.letter_count,
            accounts.c.temp_password_expires_at,
            (accounts.c.password_hash.is_not(None)).label("has_password"),
            agents.c.civility,
            agents.c.first_name,
            agents.c.usage_name,
            agents.c.birth_name,
            agents.c.role,
            agents.c.corps,
            agents.c.uai,
            sa.func.coalesce(establishments.c.name, "").label("establishment_name"),
            sa.func.coalesce(establishments.c.city, "").label("establishment_city"),
            sa.func.coalesce(establishments.c.departement_code, "").label("departement_code"),
            agents.c.duty_start,
            agents.c.duty_end,
            agents.c.address_lines,
            agents.c.postal_code,
            agents.c.city,
            (agents.c.personal_email.is_not(None)).label("has_personal_email"),
            (agents.c.mobile.is_not(None)).label("has_mobile"),
            agents.c.numen_sealed,
        )
        .join(agents, agents.c.id == accounts.c.agent_id)
        .outerjoin(establishments, establishments.c.uai == agents.c.uai)
    )


def _records(conn: sa.Connection, query: sa.Select[Any]) -> list[AccountRecord]:
    rows = list(conn.execute(query).mappings())
    return _with_aliases(conn, rows)


def _with_aliases(conn: sa.Connection, rows: Sequence[sa.RowMapping]) -> list[AccountRecord]:
    ids = [r["account_id"] for r in rows]
    alias_of: dict[str, list[str]] = {}
    for chunk in _chunks(ids):
        for a in conn.execute(
            sa.select(aliases.c.address, aliases.c.account_id)
            .where(aliases.c.account_id.in_(chunk))
            .order_by(aliases.c.address)
        ):
            alias_of.setdefault(a.account_id, []).append(a.address)
    return [
        AccountRecord(**dict(r), aliases=tuple(alias_of.get(r["account_id"], ()))) for r in rows
    ]


def find_account(conn: sa.Connection, identifier: str) -> AccountRecord | None:
    """By login, primary address or alias (already normalised: trimmed, lowercase)."""
    alias_owner = sa.select(aliases.c.account_id).where(aliases.c.address == identifier)
    query = _account_query().where(
        sa.or_(
            accounts.c.login == identifier,
            accounts.c.address == identifier,
            accounts.c.id.in_(alias_owner.scalar_subquery()),
        )
    )
    found = _records(conn, query)
    return found[0] if found else None


def list_accounts(conn: sa.Connection, states: Sequence[str] | None = None) -> list[AccountRecord]:
    query = _account_query()
    if states:
        query = query.where(accounts.c.state.in_(list(states)))
    return _records(conn, query.order_by(accounts.c.login))


def select_for_letters(
    conn: sa.Connection,
    *,
    states: Sequence[str],
    departement: str | None = None,
    uai: str | None = None,
    logins: Sequence[str] | None = None,
) -> list[AccountRecord]:
    """Accounts in ``states`` of a département, an establishment and/or a list of logins.

    Which states may get a letter is the caller's rule (:mod:`academail.letters`).
    """
    query = _account_query().where(accounts.c.state.in_(list(states)))
    if departement:
        query = query.where(establishments.c.departement_code == departement)
    if uai:
        query = query.where(agents.c.uai == uai)
    if logins is None:
        return _records(conn, query)
    rows: list[sa.RowMapping] = []
    for chunk in _chunks(list(dict.fromkeys(logins))):
        rows += conn.execute(query.where(accounts.c.login.in_(chunk))).mappings()
    return _with_aliases(conn, rows)


def letter_states(conn: sa.Connection, account_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
    """``(state, letter_count)`` by account id: what a letter run checks before commit.

    The rows stay locked until the unit of work ends (``FOR UPDATE`` on PostgreSQL;
    SQLite's ``BEGIN IMMEDIATE`` already serialises writers), so two runs cannot both
    pass the check; ids are locked in sorted order so that they cannot deadlock.
    """
    found: dict[str, tuple[str, int]] = {}
    for chunk in _chunks(sorted(account_ids)):
        query = (
            sa.select(accounts.c.id, accounts.c.state, accounts.c.letter_count)
            .where(accounts.c.id.in_(chunk))
            .order_by(accounts.c.id)
            .with_for_update()
        )
        found.update({r.id: (r.state, r.letter_count) for r in conn.execute(query)})
    return found


def last_disabled_by(
    conn: sa.Connection, logins: Sequence[str], actions: Sequence[str]
) -> dict[str, str]:
    """By login, the actor of the latest audit entry among ``actions`` (who disabled it)."""
    latest: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(logins):
        query = sa.select(audit_log.c.id, audit_log.c.target, audit_log.c.actor).where(
            audit_log.c.action.in_(list(actions)), audit_log.c.target.in_(chunk)
        )
        for r in conn.execute(query):
            if r.target not in latest or latest[r.target][0] < r.id:
                latest[r.target] = (r.id, r.actor)
    return {login: actor for login, (_, actor) in latest.items()}


def load_hr_fields(conn: sa.Connection, columns: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The HR columns of every agent, by agent id (to name what an import changed)."""
    query = sa.select(agents.c.id, *[agents.c[c] for c in columns])
    return {r.id: {c: r._mapping[c] for c in columns} for r in conn.execute(query)}


def wipe_agents(conn: sa.Connection, agent_ids: Sequence[str], now: dt.datetime) -> None:
    """Erases the personal data of deleted agents; the NUMEN HMAC stays for re-hiring."""
    for chunk in _chunks(agent_ids):
        conn.execute(
            agents.update()
            .where(agents.c.id.in_(chunk))
            .values(
                numen_sealed=None,
                birth_date=None,
                address_lines="",
                postal_code="",
                city="",
                personal_email=None,
                mobile=None,
                hr_fingerprint="",
                updated_at=now,
            )
        )


def release_identifiers(conn: sa.Connection, values: Sequence[str], now: dt.datetime) -> None:
    """Marks identifiers of deleted accounts released (the start of any quarantine)."""
    for chunk in _chunks(values):
        conn.execute(
            identifiers.update().where(identifiers.c.identifier.in_(chunk)).values(released_at=now)
        )
