"""Credential state for sign-in: one read per attempt, one write per outcome.

``load_for_auth`` joins what the authentication service needs into one row so a
sign-in costs a single query before the password check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from academail.store.tables import (
    accounts,
    agents,
    aliases,
    app_passwords,
    auth_devices,
    credentials,
    password_history,
    recovery_codes,
)

__all__ = [
    "AppPassword",
    "AuthRecord",
    "Device",
    "add_history",
    "app_password_by_hash",
    "devices_of",
    "ensure",
    "history_hashes",
    "list_app_passwords",
    "load_for_auth",
    "recovery_code_hashes",
    "touch_app_password",
    "touch_device",
    "count_failure",
    "use_otp_step",
    "use_recovery_code",
    "update",
]


@dataclass(frozen=True)
class AuthRecord:
    account_id: str
    login: str
    address: str
    state: str
    resume_state: str | None
    locked_until: dt.datetime | None
    password_hash: str | None
    temp_password_hash: str | None
    temp_password_expires_at: dt.datetime | None
    role: str
    first_name: str
    usage_name: str
    birth_name: str
    birth_date: dt.date | None
    personal_email: str | None
    mobile: str | None
    generation: int
    password_changed_at: dt.datetime | None
    failed_count: int
    recent_failed_secrets: tuple[str, ...]
    otp_secret_sealed: bytes | None
    otp_enabled_at: dt.datetime | None
    otp_last_step: int | None
    recovery_email: str | None
    recovery_email_verified_at: dt.datetime | None
    recovery_mobile: str | None
    recovery_mobile_verified_at: dt.datetime | None
    expiry_warned_at: dt.datetime | None

    @property
    def has_otp(self) -> bool:
        return self.otp_secret_sealed is not None and self.otp_enabled_at is not None


_COLUMNS = (
    accounts.c.id.label("account_id"),
    accounts.c.login,
    accounts.c.address,
    accounts.c.state,
    accounts.c.resume_state,
    accounts.c.locked_until,
    accounts.c.password_hash,
    accounts.c.temp_password_hash,
    accounts.c.temp_password_expires_at,
    agents.c.role,
    agents.c.first_name,
    agents.c.usage_name,
    agents.c.birth_name,
    agents.c.birth_date,
    agents.c.personal_email,
    agents.c.mobile,
    sa.func.coalesce(credentials.c.generation, 0).label("generation"),
    credentials.c.password_changed_at,
    sa.func.coalesce(credentials.c.failed_count, 0).label("failed_count"),
    credentials.c.recent_failed_secrets,
    credentials.c.otp_secret_sealed,
    credentials.c.otp_enabled_at,
    credentials.c.otp_last_step,
    credentials.c.recovery_email,
    credentials.c.recovery_email_verified_at,
    credentials.c.recovery_mobile,
    credentials.c.recovery_mobile_verified_at,
    credentials.c.expiry_warned_at,
)


def _record(row: Any) -> AuthRecord:
    values = dict(row)
    values["recent_failed_secrets"] = tuple(values["recent_failed_secrets"] or ())
    return AuthRecord(**values)


def load_for_auth(
    conn: sa.Connection, identifier: str | None = None, account_id: str | None = None
) -> AuthRecord | None:
    """By login, address or alias (normalised), or by account id."""
    query = (
        sa.select(*_COLUMNS)
        .join(agents, agents.c.id == accounts.c.agent_id)
        .outerjoin(credentials, credentials.c.account_id == accounts.c.id)
    )
    if account_id is not None:
        query = query.where(accounts.c.id == account_id)
    else:
        owner = sa.select(aliases.c.account_id).where(aliases.c.address == identifier)
        query = query.where(
            sa.or_(
                accounts.c.login == identifier,
                accounts.c.address == identifier,
                accounts.c.id.in_(owner.scalar_subquery()),
            )
        )
    row = conn.execute(query).mappings().first()
    return _record(row) if row else None


def ensure(conn: sa.Connection, account_id: str) -> None:
    """Creates the credential row of an account if it has none yet."""
    exists = conn.execute(
        sa.select(credentials.c.account_id).where(credentials.c.account_id == account_id)
    ).first()
    if exists is None:
        conn.execute(credentials.insert().values(account_id=account_id, recent_failed_secrets=[]))


def update(conn: sa.Connection, account_id: str, **values: Any) -> None:
    ensure(conn, account_id)
    conn.execute(
        credentials.update().where(credentials.c.account_id == account_id).values(**values)
    )


def history_hashes(conn: sa.Connection, account_id: str, limit: int) -> list[str]:
    query = (
        sa.select(password_history.c.password_hash)
        .where(password_history.c.account_id == account_id)
        .order_by(password_history.c.id.desc())
        .limit(limit)
    )
    return [r.password_hash for r in conn.execute(query)]


def add_history(conn: sa.Connection, account_id: str, password_hash: str, now: dt.datetime) -> None:
    conn.execute(
        password_history.insert().values(
            account_id=account_id, password_hash=password_hash, created_at=now
        )
    )


def recovery_code_hashes(conn: sa.Connection, account_id: str) -> list[tuple[int, str]]:
    query = sa.select(recovery_codes.c.id, recovery_codes.c.code_hash).where(
        recovery_codes.c.account_id == account_id, recovery_codes.c.used_at.is_(None)
    )
    return [(r.id, r.code_hash) for r in conn.execute(query)]


@dataclass(frozen=True)
class AppPassword:
    id: str
    account_id: str
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    last_ip: str | None
    revoked_at: dt.datetime | None


def app_password_by_hash(conn: sa.Connection, secret_hash: str) -> AppPassword | None:
    row = (
        conn.execute(sa.select(app_passwords).where(app_passwords.c.secret_hash == secret_hash))
        .mappings()
        .first()
    )
    if row is None:
        return None
    return AppPassword(
        row["id"],
        row["account_id"],
        row["name"],
        row["created_at"],
        row["last_used_at"],
        row["last_ip"],
        row["revoked_at"],
    )


def list_app_passwords(conn: sa.Connection, account_id: str) -> list[AppPassword]:
    rows = conn.execute(
        sa.select(app_passwords)
        .where(app_passwords.c.account_id == account_id)
        .order_by(app_passwords.c.created_at)
    ).mappings()
    return [
        AppPassword(
            r["id"],
            r["account_id"],
            r["name"],
            r["created_at"],
            r["last_used_at"],
            r["last_ip"],
            r["revoked_at"],
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Device:
    id: str
    protocol: str
    client: str
    ip: str
    first_seen_at: dt.datetime
    last_success_at: dt.datetime | None
    last_failure_at: dt.datetime | None
    failures: int


def _upsert(conn: sa.Connection, table: sa.Table) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def touch_device(
    conn: sa.Connection,
    device_id: str,
    account_id: str,
    protocol: str,
    client: str,
    ip: str,
    now: dt.datetime,
    success: bool,
) -> None:
    """Records a sign-in from a device; failures count until the next success.

    One upsert: parallel connections of one phone must not collide on the key (and
    an error only for existing accounts would tell which ones exist).
    """
    statement = _upsert(conn, auth_devices).values(
        id=device_id,
        account_id=account_id,
        protocol=protocol,
        client=client[:300],
        ip=ip,
        first_seen_at=now,
        last_success_at=now if success else None,
        last_failure_at=None if success else now,
        failures=0 if success else 1,
    )
    changes: dict[str, Any] = {"ip": ip}
    if success:
        changes.update(last_success_at=now, failures=0)
    else:
        changes.update(last_failure_at=now, failures=auth_devices.c.failures + 1)
    conn.execute(statement.on_conflict_do_update(index_elements=[auth_devices.c.id], set_=changes))


def count_failure(conn: sa.Connection, account_id: str, recent: list[str], now: dt.datetime) -> int:
    """Adds one failure atomically and returns the new count (parallel guesses all count)."""
    ensure(conn, account_id)
    row = conn.execute(
        credentials.update()
        .where(credentials.c.account_id == account_id)
        .values(
            failed_count=credentials.c.failed_count + 1,
            last_failure_at=now,
            recent_failed_secrets=recent,
        )
        .returning(credentials.c.failed_count)
    ).first()
    return int(row.failed_count) if row else 1


def use_otp_step(conn: sa.Connection, account_id: str, step: int) -> bool:
    """Records a TOTP step if it is newer than the last one used: a code works once,
    even when two sign-ins race with it (compare-and-set)."""
    done = conn.execute(
        credentials.update()
        .where(
            credentials.c.account_id == account_id,
            sa.or_(credentials.c.otp_last_step.is_(None), credentials.c.otp_last_step < step),
        )
        .values(otp_last_step=step)
    )
    return done.rowcount == 1


def devices_of(conn: sa.Connection, account_id: str) -> list[Device]:
    rows = conn.execute(
        sa.select(auth_devices)
        .where(auth_devices.c.account_id == account_id)
        .order_by(
            sa.func.coalesce(auth_devices.c.last_failure_at, auth_devices.c.last_success_at).desc()
        )
    ).mappings()
    return [
        Device(
            r["id"],
            r["protocol"],
            r["client"],
            r["ip"],
            r["first_seen_at"],
            r["last_success_at"],
            r["last_failure_at"],
            r["failures"],
        )
        for r in rows
    ]


def touch_app_password(conn: sa.Connection, app_id: str, now: dt.datetime, ip: str) -> None:
    conn.execute(
        app_passwords.update()
        .where(app_passwords.c.id == app_id)
        .values(last_used_at=now, last_ip=ip)
    )


def use_recovery_code(conn: sa.Connection, row_id: int, now: dt.datetime) -> bool:
    """Uses a recovery code once, even under a race (only an unused row is updated)."""
    done = conn.execute(
        recovery_codes.update()
        .where(recovery_codes.c.id == row_id, recovery_codes.c.used_at.is_(None))
        .values(used_at=now)
    )
    return done.rowcount == 1
