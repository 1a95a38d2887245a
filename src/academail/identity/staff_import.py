"""Applying an HR export to the directory (``academail staff import``).

The rules (issue 2, mission.md part 1); the per-row ones are in :mod:`.staff_plan`:

* Idempotent: each agent row carries a fingerprint of its HR fields; a row whose
  fingerprint is unchanged costs nothing, so re-importing the same file changes
  nothing (no write, no audit line besides the run itself).
* Agents are matched by a keyed HMAC of the NUMEN (:mod:`.numen`), never by name.
* All or nothing: a file with any malformed row changes nothing, unless the
  ``apply_valid_rows`` setting says to apply the valid rows. Ineligible rows
  (pupils, parents, unknown functions) are only reported.
* Every audit line of a run carries the run's ``actor`` (:data:`IMPORT_ACTOR` by
  default). The import re-enables only the accounts that an import with the same
  actor disabled, so keep one actor for the scheduled HR imports.

The whole plan is computed and written in one unit of work, so a failure half-way
(a crash, a constraint) leaves the directory as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from academail.config import Settings
from academail.core.clock import Clock
from academail.core.keys import Keys
from academail.core.offload import off_loop
from academail.identity import numen
from academail.identity.hr import HrRecord, ParsedExport, load_dialect
from academail.identity.staff_plan import Plan, PlanContext, Prepared
from academail.identity.staff_report import ImportReport, ReportLine
from academail.observability import get_logger
from academail.store import AuditEntry, Connection, Store
from academail.store import audit as audit_repo
from academail.store import directory as repo

__all__ = ["IMPORT_ACTOR", "ImportReport", "ReportLine", "StaffImporter"]

IMPORT_ACTOR = "import-rh"  # who HR imports act as, in the audit log

Progress = Callable[[int, int], None]

_log = get_logger("academail.identity.staff_import")


def hr_fields(record: HrRecord) -> dict[str, Any]:
    """The HR columns of an agent row (same keys as :data:`.staff_plan.HR_LABELS`)."""
    return {
        "civility": record.civility,
        "usage_name": record.usage_name,
        "birth_name": record.birth_name,
        "first_name": record.first_name,
        "birth_date": record.birth_date,
        "role": record.role.value,
        "corps": record.corps,
        "uai": record.uai,
        "duty_start": record.duty_start,
        "duty_end": record.duty_end,
        "address_lines": "\n".join(record.address_lines),
        "postal_code": record.postal_code,
        "city": record.city,
        "personal_email": record.personal_email,
        "mobile": record.mobile,
    }


def fingerprint(hr: dict[str, Any]) -> str:
    text = "\x1f".join("" if v is None else str(v) for v in hr.values())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class StaffImporter:
    """Runs HR imports against the store."""

    def __init__(self, store: Store, clock: Clock, keys: Keys, settings: Settings) -> None:
        self._store = store
        self._clock = clock
        self._keys = keys
        self._settings = settings

    async def run(
        self,
        data: bytes,
        source: str,
        *,
        dry_run: bool = False,
        full: bool = False,
        actor: str = IMPORT_ACTOR,
        apply_valid_rows: bool | None = None,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Parses, plans and (unless ``dry_run``) applies one export; returns the report."""
        dialect = load_dialect(self._settings.hr_import.dialect)
        parsed: ParsedExport = await off_loop(
            lambda: dialect.parse(data, today=self._clock.today())
        )
        report = ImportReport(source, parsed.encoding, parsed.rows, dry_run, full)
        for refusal in parsed.refusals:
            report.refused.append(ReportLine(refusal.line, refusal.who, detail=refusal.reason))
        if apply_valid_rows is None:
            apply_valid_rows = self._settings.hr_import.apply_valid_rows
        prepared, present = await off_loop(self._prepare, parsed, progress)
        unknown = sum(1 for r in parsed.malformed if r.numen is None)
        sha = hashlib.sha256(data).hexdigest()
        malformed = bool(parsed.malformed)

        def work(conn: Connection) -> None:
            now = self._clock.now()
            context = PlanContext(
                now=now,
                today=self._clock.today(),
                domain=self._settings.academie.domain,
                identity=self._settings.identity,
                seal_key=self._keys.numen_seal,
                actor=actor,
                full=full,
            )
            plan = Plan(conn, report, context)
            plan.build(prepared, present, unknown)
            if (malformed or plan.malformed) and not apply_valid_rows:
                report.aborted = (
                    "fichier refusé : des lignes sont mal formées, aucune modification "
                    "n'a été faite (corrigez-les, ou autorisez l'application des lignes valides)"
                )
                report.clear_changes()
            elif not dry_run:
                plan.write()
                report.applied = True
            if not dry_run:
                self._record_run(conn, report, source, sha, actor)

        await self._store.run(work)
        report.refused.sort(key=lambda item: item.line or 0)
        _log.info(
            "staff_import",
            source=source[-255:],
            dry_run=dry_run,
            full=full,
            applied=report.applied,
            aborted=bool(report.aborted),
            actor=actor,
            **report.machine_counts(),
        )
        return report

    def _prepare(
        self, parsed: ParsedExport, progress: Progress | None
    ) -> tuple[list[Prepared], set[str]]:
        """The valid rows with their keys, and the NUMEN keys of the refused rows."""
        out = []
        hmac_key = self._keys.numen_hmac
        total = len(parsed.records)
        for index, record in enumerate(parsed.records, 1):
            hr = hr_fields(record)
            out.append(
                Prepared(
                    record,
                    numen.numen_key(record.numen, hmac_key),
                    numen.lookup_key(record.numen, record.birth_date, hmac_key),
                    fingerprint(hr),
                    hr,
                )
            )
            if progress is not None and (index % 1000 == 0 or index == total):
                progress(index, total)
        present = {
            numen.numen_key(r.numen, hmac_key) for r in parsed.refusals if r.numen is not None
        }
        return out, present

    def _record_run(
        self, conn: Connection, report: ImportReport, source: str, sha: str, actor: str
    ) -> None:
        now = self._clock.now()
        counts = report.machine_counts()
        run_id = repo.record_import(
            conn,
            {
                "at": now,
                "actor": actor,
                "source": source[-255:],
                "sha256": sha,
                "encoding": report.encoding,
                "full_export": report.full,
                "applied": report.applied,
                "counts": counts,
            },
        )
        audit_repo.append(
            conn,
            [
                AuditEntry(
                    now,
                    actor,
                    "staff.import" if report.applied else "staff.import.refused",
                    source[-254:],
                    {"run": run_id, **counts},
                )
            ],
        )
