"""The agent's own second factor and protocol secrets: TOTP seed, recovery codes,
application passwords, and the devices list of "My account".

Reads used at sign-in stay in :mod:`.credentials` (one query per attempt); these are
the writes of the account pages, each meant to run inside one unit of work with its
audit line. Only hashes and sealed values are stored, never a clear secret.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from academail.store.repos.credentials import update as update_credentials
from academail.store.tables import app_passwords, auth_devices, recovery_codes

__all__ = [
    "add_app_password",
    "clear_otp",
    "forget_device",
    "live_app_password_count",
    "recovery_codes_left",
    "replace_recovery_codes",
    "revoke_all_app_passwords",
    "revoke_app_password",
    "store_otp",
]


def store_otp(
    conn: sa.Connection, account_id: str, sealed: bytes, now: dt.datetime, last_step: int
) -> None:
    """Turns OTP on with a sealed seed; ``last_step`` is the step of the enrolment code,
    so that code cannot be replayed at the next sign-in (RFC 6238 §5.2)."""
    update_credentials(
        conn, account_id, otp_secret_sealed=sealed, otp_enabled_at=now, otp_last_step=last_step
    )


def clear_otp(conn: sa.Connection, account_id: str) -> None:
    """Turns OTP off: the seed, its last step and every recovery code go."""
    update_credentials(
        conn, account_id, otp_secret_sealed=None, otp_enabled_at=None, otp_last_step=None
    )
    conn.execute(recovery_codes.delete().where(recovery_codes.c.account_id == account_id))


def replace_recovery_codes(conn: sa.Connection, account_id: str, hashes: Sequence[str]) -> None:
    """A new set of recovery codes (their keyed hashes); the old set stops working."""
    conn.execute(recovery_codes.delete().where(recovery_codes.c.account_id == account_id))
    if hashes:
        conn.execute(
            recovery_codes.insert(),
            [{"account_id": account_id, "code_hash": h, "used_at": None} for h in hashes],
        )


def recovery_codes_left(conn: sa.Connection, account_id: str) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(recovery_codes)
        .where(recovery_codes.c.account_id == account_id, recovery_codes.c.used_at.is_(None))
    )
    return int(conn.execute(query).scalar_one())


def add_app_password(
    conn: sa.Connection,
    app_id: str,
    account_id: str,
    name: str,
    secret_hash: str,
    now: dt.datetime,
) -> None:
    conn.execute(
        app_passwords.insert().values(
            id=app_id,
            account_id=account_id,
            name=name[:80],
            secret_hash=secret_hash,
            created_at=now,
        )
    )


def live_app_password_count(conn: sa.Connection, account_id: str) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(app_passwords)
        .where(app_passwords.c.account_id == account_id, app_passwords.c.revoked_at.is_(None))
    )
    return int(conn.execute(query).scalar_one())


def revoke_app_password(
    conn: sa.Connection, account_id: str, app_id: str, now: dt.datetime
) -> str | None:
    """Revokes one of the account's live application passwords; returns its name."""
    row = conn.execute(
        sa.select(app_passwords.c.name).where(
            app_passwords.c.id == app_id,
            app_passwords.c.account_id == account_id,
            app_passwords.c.revoked_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    conn.execute(app_passwords.update().where(app_passwords.c.id == app_id).values(revoked_at=now))
    return str(row.name)


def revoke_all_app_passwords(conn: sa.Connection, account_id: str, now: dt.datetime) -> int:
    done = conn.execute(
        app_passwords.update()
        .where(app_passwords.c.account_id == account_id, app_passwords.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(done.rowcount)


def forget_device(conn: sa.Connection, account_id: str, device_id: str) -> bool:
    """Removes a device from the account's list (it comes back at its next attempt)."""
    done = conn.execute(
        auth_devices.delete().where(
            auth_devices.c.id == device_id, auth_devices.c.account_id == account_id
        )
    )
    return int(done.rowcount) == 1
