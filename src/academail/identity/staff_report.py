"""The report of one HR import: what an administrator reads, line by line.

Nothing here carries a NUMEN or a date of birth: a line names the agent ("Prénom
NOM"), the file line, the login and address, and what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ImportReport", "ReportLine"]


@dataclass(frozen=True)
class ReportLine:
    """One row of the report; never carries a NUMEN or a date of birth."""

    line: int | None
    who: str
    login: str = ""
    address: str = ""
    detail: str = ""


@dataclass
class ImportReport:
    source: str
    encoding: str
    rows: int
    dry_run: bool
    full: bool
    applied: bool = False
    aborted: str = ""
    created: list[ReportLine] = field(default_factory=list)
    updated: list[ReportLine] = field(default_factory=list)
    disabled: list[ReportLine] = field(default_factory=list)
    enabled: list[ReportLine] = field(default_factory=list)
    refused: list[ReportLine] = field(default_factory=list)
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)  # run-wide remarks (e.g. --full held back)

    def counts(self) -> dict[str, int]:
        return {
            "lignes": self.rows,
            "créés": len(self.created),
            "modifiés": len(self.updated),
            "désactivés": len(self.disabled),
            "réactivés": len(self.enabled),
            "refusés": len(self.refused),
            "inchangés": self.unchanged,
        }

    def machine_counts(self) -> dict[str, int]:
        """The counts with English keys, for JSON, logs and the import run record."""
        return {
            "rows": self.rows,
            "created": len(self.created),
            "updated": len(self.updated),
            "disabled": len(self.disabled),
            "enabled": len(self.enabled),
            "refused": len(self.refused),
            "unchanged": self.unchanged,
        }

    def clear_changes(self) -> None:
        """Forgets the planned changes (the file was refused: nothing will be written)."""
        self.created.clear()
        self.updated.clear()
        self.disabled.clear()
        self.enabled.clear()

    def to_json(self) -> dict[str, Any]:
        def lines(items: list[ReportLine]) -> list[dict[str, Any]]:
            return [item.__dict__ for item in items]

        return {
            "source": self.source,
            "encoding": self.encoding,
            "dry_run": self.dry_run,
            "full": self.full,
            "applied": self.applied,
            "aborted": self.aborted,
            "notes": list(self.notes),
            "counts": self.machine_counts(),
            "created": lines(self.created),
            "updated": lines(self.updated),
            "disabled": lines(self.disabled),
            "enabled": lines(self.enabled),
            "refused": lines(self.refused),
        }
