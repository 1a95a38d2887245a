"""The append-only audit log: who did what to whom, when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from academail.store.tables import audit_log

__all__ = ["AuditEntry", "append", "entries_for"]


@dataclass(frozen=True)
class AuditEntry:
    """One audited event; ``details`` never holds a secret (callers' duty, tested)."""

    at: dt.datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]


def append(conn: sa.Connection, entries: Sequence[AuditEntry]) -> None:
    if not entries:
        return
    conn.execute(
        audit_log.insert(),
        [
            {
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "target": e.target,
                "details": e.details,
            }
            for e in entries
        ],
    )


def entries_for(conn: sa.Connection, target: str, limit: int = 50) -> list[AuditEntry]:
    rows = conn.execute(
        sa.select(audit_log)
        .where(audit_log.c.target == target)
        .order_by(audit_log.c.id.desc())
        .limit(limit)
    ).mappings()
    return [
        AuditEntry(r["at"], r["actor"], r["action"], r["target"], dict(r["details"])) for r in rows
    ]
