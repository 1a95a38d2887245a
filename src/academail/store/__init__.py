"""The only package that speaks SQL: engine, schema, repositories, migrations."""

from academail.store.engine import Connection, PostgresStore, SqliteStore, Store, open_store
from academail.store.migrate import current_revision, head_revision, upgrade
from academail.store.repos import audit, credentials, directory, outbox, sessions, tokens
from academail.store.repos.audit import AuditEntry
from academail.store.repos.directory import AccountRecord, DirectorySnapshot, KnownAgent

__all__ = [
    "AccountRecord",
    "AuditEntry",
    "Connection",
    "DirectorySnapshot",
    "KnownAgent",
    "PostgresStore",
    "SqliteStore",
    "Store",
    "audit",
    "credentials",
    "outbox",
    "sessions",
    "tokens",
    "current_revision",
    "directory",
    "head_revision",
    "open_store",
    "upgrade",
]
