"""The only package that speaks SQL: engine, schema, repositories, migrations."""

from academail.store.engine import (
    Connection,
    DatabaseError,
    PostgresStore,
    SqliteStore,
    Store,
    open_store,
)
from academail.store.migrate import current_revision, head_revision, upgrade
from academail.store.repos import (
    audit,
    captcha,
    credentials,
    directory,
    lookup,
    mail,
    outbox,
    queue,
    rate_counters,
    sessions,
    sso,
    tokens,
)
from academail.store.repos.audit import AuditEntry
from academail.store.repos.directory import AccountRecord, DirectorySnapshot, KnownAgent

__all__ = [
    "AccountRecord",
    "AuditEntry",
    "Connection",
    "DatabaseError",
    "DirectorySnapshot",
    "KnownAgent",
    "PostgresStore",
    "SqliteStore",
    "Store",
    "audit",
    "captcha",
    "lookup",
    "rate_counters",
    "credentials",
    "outbox",
    "queue",
    "sessions",
    "sso",
    "tokens",
    "current_revision",
    "directory",
    "mail",
    "head_revision",
    "open_store",
    "upgrade",
]
