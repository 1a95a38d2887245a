"""The schema, in SQLAlchemy Core (no ORM: see docs/adr/0001-store-shape.md).

Names of constraints follow one convention so that Alembic's batch mode can alter
them on SQLite and plain ALTERs work on PostgreSQL from the same scripts.

Personal data kept here, and why:
* the NUMEN only as two keyed HMACs (matching an HR row; self-service with the date
  of birth) and sealed for the letters (``numen_sealed``);
* names, date of birth, postal address, recovery contacts: HR data the letters and
  the password policy need.
"""

from __future__ import annotations

import sqlalchemy as sa

from academail.store.types import UtcDateTime

__all__ = [
    "accounts",
    "agents",
    "aliases",
    "audit_log",
    "departements",
    "establishments",
    "identifiers",
    "import_runs",
    "metadata",
]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

departements = sa.Table(
    "departements",
    metadata,
    sa.Column("code", sa.String(3), primary_key=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("dsden", sa.String(120), nullable=False),
)

establishments = sa.Table(
    "establishments",
    metadata,
    sa.Column("uai", sa.String(8), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("city", sa.String(120), nullable=False, server_default=""),
    sa.Column("departement_code", sa.String(3), sa.ForeignKey("departements.code"), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

agents = sa.Table(
    "agents",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("numen_key", sa.String(64), nullable=False, unique=True),
    sa.Column("identity_key", sa.String(64), nullable=False, index=True),
    sa.Column("numen_sealed", sa.LargeBinary(), nullable=True),
    sa.Column("civility", sa.String(8), nullable=False, server_default=""),
    sa.Column("usage_name", sa.String(120), nullable=False),
    sa.Column("birth_name", sa.String(120), nullable=False),
    sa.Column("first_name", sa.String(120), nullable=False),
    sa.Column("birth_date", sa.Date(), nullable=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("corps", sa.String(120), nullable=False, server_default=""),
    sa.Column("uai", sa.String(8), sa.ForeignKey("establishments.uai"), nullable=True),
    sa.Column("duty_start", sa.Date(), nullable=True),
    sa.Column("duty_end", sa.Date(), nullable=True),
    sa.Column("address_lines", sa.Text(), nullable=False, server_default=""),
    sa.Column("postal_code", sa.String(10), nullable=False, server_default=""),
    sa.Column("city", sa.String(120), nullable=False, server_default=""),
    sa.Column("personal_email", sa.String(254), nullable=True),
    sa.Column("mobile", sa.String(20), nullable=True),
    sa.Column("hr_fingerprint", sa.String(64), nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("agent_id", sa.String(32), sa.ForeignKey("agents.id"), nullable=False, unique=True),
    sa.Column("login", sa.String(64), nullable=False, unique=True),
    sa.Column("address", sa.String(254), nullable=False, unique=True),
    sa.Column("state", sa.String(20), nullable=False, index=True),
    sa.Column("resume_state", sa.String(20), nullable=True),
    sa.Column("state_changed_at", UtcDateTime(), nullable=False),
    sa.Column("locked_until", UtcDateTime(), nullable=True),
    sa.Column("delete_after", UtcDateTime(), nullable=True),
    sa.Column("temp_password_hash", sa.String(200), nullable=True),
    sa.Column("temp_password_expires_at", UtcDateTime(), nullable=True),
    sa.Column("password_hash", sa.String(200), nullable=True),
    sa.Column("letter_issued_at", UtcDateTime(), nullable=True),
    sa.Column("letter_count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

aliases = sa.Table(
    "aliases",
    metadata,
    sa.Column("address", sa.String(254), primary_key=True),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

# Every login and address ever given, with whom it went to: the guard that an
# identifier is never silently given to someone else (mission.md, part 2).
identifiers = sa.Table(
    "identifiers",
    metadata,
    sa.Column("identifier", sa.String(254), primary_key=True),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("numen_key", sa.String(64), nullable=False, index=True),
    sa.Column("given_at", UtcDateTime(), nullable=False),
    sa.Column("released_at", UtcDateTime(), nullable=True),
)

# Append-only: triggers created by the first migration refuse UPDATE and DELETE.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False, index=True),
    sa.Column("actor", sa.String(120), nullable=False),
    sa.Column("action", sa.String(60), nullable=False, index=True),
    sa.Column("target", sa.String(254), nullable=False, server_default="", index=True),
    sa.Column("details", sa.JSON(), nullable=False),
)

import_runs = sa.Table(
    "import_runs",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(120), nullable=False),
    sa.Column("source", sa.String(255), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("encoding", sa.String(20), nullable=False),
    sa.Column("full_export", sa.Boolean(), nullable=False),
    sa.Column("applied", sa.Boolean(), nullable=False),
    sa.Column("counts", sa.JSON(), nullable=False),
)
