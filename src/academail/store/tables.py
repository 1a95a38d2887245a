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
    "blob_refs",
    "expunged_messages",
    "mail_queue",
    "mailboxes",
    "messages",
    "quota_usage",
    "app_passwords",
    "auth_devices",
    "captcha_challenges",
    "cas_services",
    "cas_tickets",
    "credentials",
    "oidc_clients",
    "oidc_codes",
    "oidc_tokens",
    "one_time_tokens",
    "outbox",
    "password_history",
    "rate_counters",
    "recovery_codes",
    "web_sessions",
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


# --- Authentication and the portal (issue 3) ------------------------------------------

# Per-account credential state beside `accounts` (kept apart so that the directory
# import never touches it). `generation` grows at every password change: caches of
# verified credentials and sessions compare it to know they are stale.
credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("generation", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("password_changed_at", UtcDateTime(), nullable=True),
    sa.Column("failed_count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_failure_at", UtcDateTime(), nullable=True),
    sa.Column("recent_failed_secrets", sa.JSON(), nullable=False),
    sa.Column("otp_secret_sealed", sa.LargeBinary(), nullable=True),
    sa.Column("otp_enabled_at", UtcDateTime(), nullable=True),
    sa.Column("otp_last_step", sa.BigInteger(), nullable=True),
    sa.Column("recovery_email", sa.String(254), nullable=True),
    sa.Column("recovery_email_verified_at", UtcDateTime(), nullable=True),
    sa.Column("recovery_mobile", sa.String(20), nullable=True),
    sa.Column("recovery_mobile_verified_at", UtcDateTime(), nullable=True),
    sa.Column("expiry_warned_at", UtcDateTime(), nullable=True),
)

password_history = sa.Table(
    "password_history",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

recovery_codes = sa.Table(
    "recovery_codes",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("used_at", UtcDateTime(), nullable=True),
)

app_passwords = sa.Table(
    "app_passwords",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("last_used_at", UtcDateTime(), nullable=True),
    sa.Column("last_ip", sa.String(64), nullable=True),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
)

# Server-side web sessions: the cookie carries a random id, the table its HMAC.
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=True, index=True),
    sa.Column("generation", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("stage", sa.String(20), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("last_seen_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("ip", sa.String(64), nullable=False, server_default=""),
    sa.Column("user_agent", sa.String(300), nullable=False, server_default=""),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
)

# Where sign-ins come from: one row per (account, protocol, client). The page of the
# agent names the device that keeps failing (the stale phone after a password change).
auth_devices = sa.Table(
    "auth_devices",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("protocol", sa.String(10), nullable=False),
    sa.Column("client", sa.String(300), nullable=False),
    sa.Column("ip", sa.String(64), nullable=False),
    sa.Column("first_seen_at", UtcDateTime(), nullable=False),
    sa.Column("last_success_at", UtcDateTime(), nullable=True),
    sa.Column("last_failure_at", UtcDateTime(), nullable=True),
    sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
)

# Single-use secrets sent to agents: reset links, confirmation codes, "it wasn't me".
one_time_tokens = sa.Table(
    "one_time_tokens",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("used_at", UtcDateTime(), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("data", sa.JSON(), nullable=False),
)

captcha_challenges = sa.Table(
    "captcha_challenges",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("answer", sa.String(12), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("used_at", UtcDateTime(), nullable=True),
)

# Counters of fixed windows shared by every node (rate limits by IP, by NUMEN key…).
rate_counters = sa.Table(
    "rate_counters",
    metadata,
    sa.Column("key", sa.String(160), primary_key=True),
    sa.Column("window_start", UtcDateTime(), nullable=False),
    sa.Column("count", sa.Integer(), nullable=False),
)

# Notifications (mail and SMS) kept for delivery and, in demo mode, for reading.
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("recipient", sa.String(254), nullable=False, index=True),
    sa.Column("subject", sa.String(300), nullable=False, server_default=""),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("sent_at", UtcDateTime(), nullable=True),
    sa.Column("error", sa.String(300), nullable=True),
)

oidc_clients = sa.Table(
    "oidc_clients",
    metadata,
    sa.Column("client_id", sa.String(80), primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=True),
    sa.Column("redirect_uris", sa.JSON(), nullable=False),
    sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=False),
    sa.Column("backchannel_logout_uri", sa.String(500), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

oidc_codes = sa.Table(
    "oidc_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(80), nullable=False),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("session_hash", sa.String(64), nullable=False),
    sa.Column("redirect_uri", sa.String(500), nullable=False),
    sa.Column("scope", sa.String(300), nullable=False),
    sa.Column("nonce", sa.String(200), nullable=True),
    sa.Column("code_challenge", sa.String(128), nullable=False),
    sa.Column("code_challenge_method", sa.String(10), nullable=False),
    sa.Column("auth_time", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("used_at", UtcDateTime(), nullable=True),
)

oidc_tokens = sa.Table(
    "oidc_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(80), nullable=False),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("session_hash", sa.String(64), nullable=False, index=True),
    sa.Column("scope", sa.String(300), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
)

cas_services = sa.Table(
    "cas_services",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("service_url", sa.String(500), nullable=False, unique=True),
    sa.Column("logout_url", sa.String(500), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

cas_tickets = sa.Table(
    "cas_tickets",
    metadata,
    sa.Column("ticket", sa.String(80), primary_key=True),
    sa.Column("service_url", sa.String(500), nullable=False),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("session_hash", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("used_at", UtcDateTime(), nullable=True),
)


# --- The mail store (issue 4) ----------------------------------------------------------

_BIGINT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # a rowid on SQLite

mailboxes = sa.Table(
    "mailboxes",
    metadata,
    sa.Column("id", _BIGINT_ID, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("special_use", sa.String(20), nullable=True),
    sa.Column("subscribed", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
    sa.Column("uidnext", sa.BigInteger(), nullable=False, server_default="1"),
    sa.Column("highestmodseq", sa.BigInteger(), nullable=False, server_default="1"),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("account_id", "name", name="uq_mailboxes_account_name"),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", _BIGINT_ID, primary_key=True, autoincrement=True),
    sa.Column("mailbox_id", sa.BigInteger(), sa.ForeignKey("mailboxes.id"), nullable=False),
    sa.Column("uid", sa.BigInteger(), nullable=False),
    sa.Column("modseq", sa.BigInteger(), nullable=False),
    sa.Column("flags", sa.Text(), nullable=False, server_default=""),
    sa.Column("internal_date", UtcDateTime(), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("blob_key", sa.String(64), nullable=False, index=True),
    sa.Column("subject", sa.Text(), nullable=False, server_default=""),
    sa.Column("from_address", sa.Text(), nullable=False, server_default=""),
    sa.Column("to_addresses", sa.Text(), nullable=False, server_default=""),
    sa.Column("cc_addresses", sa.Text(), nullable=False, server_default=""),
    sa.Column("message_id", sa.Text(), nullable=False, server_default=""),
    sa.Column("in_reply_to", sa.Text(), nullable=False, server_default=""),
    sa.Column("references", sa.Text(), nullable=False, server_default=""),
    sa.Column("sent_at", UtcDateTime(), nullable=True),
    sa.Column("has_attachments", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("envelope", sa.JSON(), nullable=False),
    sa.Column("body_structure", sa.JSON(), nullable=False),
    sa.UniqueConstraint("mailbox_id", "uid", name="uq_messages_mailbox_uid"),
    sa.Index("ix_messages_mailbox_modseq", "mailbox_id", "modseq"),
)

# Expunged UIDs with the MODSEQ of their expunge: QRESYNC's VANISHED (RFC 7162 §3.2.10).
expunged_messages = sa.Table(
    "expunged_messages",
    metadata,
    sa.Column("mailbox_id", sa.BigInteger(), sa.ForeignKey("mailboxes.id"), primary_key=True),
    sa.Column("uid", sa.BigInteger(), primary_key=True),
    sa.Column("modseq", sa.BigInteger(), nullable=False),
)

# One row per stored blob: how many messages use it. At zero it becomes a candidate
# for the garbage collector after a grace period (mail/blob_gc.py).
blob_refs = sa.Table(
    "blob_refs",
    metadata,
    sa.Column("blob_key", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("refcount", sa.Integer(), nullable=False),
    sa.Column("zero_since", UtcDateTime(), nullable=True, index=True),
)

quota_usage = sa.Table(
    "quota_usage",
    metadata,
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("bytes", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("messages", sa.BigInteger(), nullable=False, server_default="0"),
)

# The outbound queue (delivery/queue): one row per external recipient of a message
# whose bytes are in the blob store (a blob_refs reference keeps them alive). A
# worker claims due rows by moving next_attempt_at forward (a lease), so several
# nodes never send the same row twice at once. Rows leave the queue when delivered
# or returned to the sender (DSN); captured rows (demo mode) stay for the console.
mail_queue = sa.Table(
    "mail_queue",
    metadata,
    sa.Column("id", _BIGINT_ID, primary_key=True, autoincrement=True),
    sa.Column("blob_key", sa.String(64), nullable=False, index=True),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("sender", sa.String(254), nullable=False, server_default=""),  # "": <>
    sa.Column("recipient", sa.String(254), nullable=False),
    sa.Column("domain", sa.String(253), nullable=False),
    sa.Column("account_id", sa.String(32), nullable=True),  # the submitting account
    sa.Column("state", sa.String(12), nullable=False),  # queued | captured
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("last_error", sa.String(500), nullable=False, server_default=""),
    sa.Index("ix_mail_queue_due", "state", "next_attempt_at"),
)
