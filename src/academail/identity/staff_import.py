"""Applying an HR export to the directory (``academail staff import``).

The rules (issue 2, mission.md part 1):

* Idempotent: each agent row carries a fingerprint of its HR fields; a row whose
  fingerprint is unchanged costs nothing, so re-importing the same file changes
  nothing (no write, no audit line besides the run itself).
* Agents are matched by a keyed HMAC of the NUMEN (:mod:`.numen`), never by name.
* New agents get an account in state *provisioned* with a ``prenom.nom`` address
  and a login chosen by :mod:`.naming` against every identifier ever given.
* A changed name gives a new address; the old one stays as an alias so no mail is
  lost. Logins never change.
* An agent whose end of duty is past is disabled; with ``full=True`` (a complete
  export) an agent missing from the file is disabled too. A departed agent who
  comes back is re-enabled.
* All or nothing: a file with any malformed row changes nothing, unless the
  ``apply_valid_rows`` setting says to apply the valid rows. Ineligible rows
  (pupils, parents, unknown functions) are only reported.

The whole plan is computed and written in one unit of work, so a failure half-way
(a crash, a constraint) leaves the directory as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from academail.config import Settings
from academail.core.clock import Clock
from academail.core.errors import AcademailError
from academail.core.keys import Keys
from academail.core.offload import off_loop
from academail.identity import naming, numen
from academail.identity.hr import HrRecord, ParsedExport, load_dialect
from academail.identity.lifecycle import AccountState, Event, transition
from academail.identity.uai import departement_of
from academail.store import AuditEntry, Connection, DirectorySnapshot, KnownAgent, Store
from academail.store import audit as audit_repo
from academail.store import directory as repo

__all__ = ["ImportReport", "ReportLine", "StaffImporter"]

Progress = Callable[[int, int], None]


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
            "counts": {
                "rows": self.rows,
                "created": len(self.created),
                "updated": len(self.updated),
                "disabled": len(self.disabled),
                "enabled": len(self.enabled),
                "refused": len(self.refused),
                "unchanged": self.unchanged,
            },
            "created": lines(self.created),
            "updated": lines(self.updated),
            "disabled": lines(self.disabled),
            "enabled": lines(self.enabled),
            "refused": lines(self.refused),
        }


@dataclass(frozen=True)
class _Prepared:
    record: HrRecord
    numen_key: str
    identity_key: str
    fingerprint: str
    hr: dict[str, Any]


_HR_LABELS = {
    "civility": "civilité",
    "usage_name": "nom d'usage",
    "birth_name": "nom de naissance",
    "first_name": "prénom",
    "birth_date": "date de naissance",
    "role": "fonction",
    "corps": "corps",
    "uai": "établissement",
    "duty_start": "date d'entrée",
    "duty_end": "date de sortie",
    "address_lines": "adresse",
    "postal_code": "code postal",
    "city": "commune",
    "personal_email": "courriel personnel",
    "mobile": "mobile",
}


def _who(record: HrRecord) -> str:
    return f"{record.first_name} {record.usage_name.upper()}"


def _hr_fields(record: HrRecord) -> dict[str, Any]:
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


def _fingerprint(hr: dict[str, Any]) -> str:
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
        actor: str = "cli",
        apply_valid_rows: bool | None = None,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Parses, plans and (unless ``dry_run``) applies one export; returns the report."""
        dialect = load_dialect(self._settings.hr_import.dialect)
        parsed: ParsedExport = await off_loop(dialect.parse, data)
        report = ImportReport(source, parsed.encoding, parsed.rows, dry_run, full)
        for refusal in parsed.refusals:
            report.refused.append(ReportLine(refusal.line, refusal.who, detail=refusal.reason))
        if apply_valid_rows is None:
            apply_valid_rows = self._settings.hr_import.apply_valid_rows
        prepared = await off_loop(self._prepare, parsed, progress)
        sha = hashlib.sha256(data).hexdigest()
        malformed = bool(parsed.malformed)

        def work(conn: Connection) -> None:
            plan = _Plan(self, conn, report, full)
            plan.build(prepared)
            if (malformed or plan.malformed) and not apply_valid_rows:
                report.aborted = (
                    "fichier refusé : des lignes sont mal formées, aucune modification "
                    "n'a été faite (corrigez-les, ou autorisez l'application des lignes valides)"
                )
                report.created.clear()
                report.updated.clear()
                report.disabled.clear()
                report.enabled.clear()
            elif not dry_run:
                plan.write()
                report.applied = True
            if not dry_run:
                self._record_run(conn, report, source, sha, actor)

        await self._store.run(work)
        report.refused.sort(key=lambda item: item.line or 0)
        return report

    def _prepare(self, parsed: ParsedExport, progress: Progress | None) -> list[_Prepared]:
        out = []
        total = len(parsed.records)
        for index, record in enumerate(parsed.records, 1):
            hr = _hr_fields(record)
            out.append(
                _Prepared(
                    record,
                    numen.numen_key(record.numen, self._keys.numen_hmac),
                    numen.lookup_key(record.numen, record.birth_date, self._keys.numen_hmac),
                    _fingerprint(hr),
                    hr,
                )
            )
            if progress is not None and (index % 1000 == 0 or index == total):
                progress(index, total)
        return out

    def _record_run(
        self, conn: Connection, report: ImportReport, source: str, sha: str, actor: str
    ) -> None:
        now = self._clock.now()
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
                "counts": report.to_json()["counts"],
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
                    {"run": run_id, **report.to_json()["counts"]},
                )
            ],
        )


class _Plan:
    """The set of writes one import makes, computed in memory from a snapshot."""

    def __init__(
        self, owner: StaffImporter, conn: Connection, report: ImportReport, full: bool
    ) -> None:
        self.o = owner
        self.conn = conn
        self.report = report
        self.full = full
        self.now = owner._clock.now()
        self.today = owner._clock.today()
        self.snap: DirectorySnapshot = repo.load_snapshot(conn)
        self.domain = owner._settings.academie.domain
        self.malformed = False
        self.writes: dict[str, list[dict[str, Any]]] = {
            k: []
            for k in ("agents", "accounts", "identifiers", "aliases", "etab_new", "etab_changed")
        }
        self.agent_updates: list[dict[str, Any]] = []
        self.account_updates: list[dict[str, Any]] = []
        self.identifier_updates: list[dict[str, Any]] = []
        self.state_updates: list[dict[str, Any]] = []
        self.sealed_updates: list[dict[str, Any]] = []
        self.alias_drops: list[str] = []
        self.audit: list[AuditEntry] = []
        self.actor = "import-rh"
        self._old_hr: dict[str, dict[str, Any]] | None = None

    # -- identifiers -----------------------------------------------------------------
    def _free(self, identifier: str, numen_key: str) -> bool:
        given = self.snap.identifiers.get(identifier)
        if given is None:
            return identifier not in self.snap.aliases
        if given.numen_key == numen_key:
            return True  # a person may always get back their own identifier
        reuse_days = self.o._settings.identity.identifier_reuse_after_days
        return bool(
            reuse_days
            and given.released_at is not None
            and given.released_at + dt.timedelta(days=reuse_days) <= self.now
        )

    def _give(self, identifier: str, kind: str, numen_key: str) -> None:
        previous = self.snap.identifiers.get(identifier)
        self.snap.identifiers[identifier] = repo.GivenIdentifier(numen_key, None)
        row = {
            "identifier": identifier,
            "kind": kind,
            "numen_key": numen_key,
            "given_at": self.now,
            "released_at": None,
        }
        if previous is None:
            self.writes["identifiers"].append(row)
        elif previous.numen_key != numen_key or previous.released_at is not None:
            self.identifier_updates.append(row)

    def _choose_address(self, record: HrRecord, numen_key: str) -> str:
        ident = self.o._settings.identity
        local = naming.choose_address_local(
            record.first_name,
            record.usage_name,
            lambda c: not self._free(f"{c}@{self.domain}", numen_key),
            ident.homonym_first_suffix,
            max_length=naming.local_part_limit(self.domain),
        )
        address = f"{local}@{self.domain}"
        self._give(address, "address", numen_key)
        return address

    def _choose_login(self, record: HrRecord, numen_key: str) -> str:
        ident = self.o._settings.identity
        login = naming.choose_login(
            record.first_name,
            record.usage_name,
            lambda c: not self._free(c, numen_key),
            ident.login_max_length,
            ident.homonym_first_suffix,
        )
        self._give(login, "login", numen_key)
        return login

    # -- planning --------------------------------------------------------------------
    def build(self, prepared: list[_Prepared]) -> None:
        seen: set[str] = set()
        for item in prepared:
            seen.add(item.numen_key)
            try:
                if not self._establishment(item.record):
                    continue
                known = self.snap.agents.get(item.numen_key)
                if known is None:
                    self._create(item)
                else:
                    self._update(item, known)
            except AcademailError as exc:
                self.malformed = True
                self.report.refused.append(
                    ReportLine(item.record.line, _who(item.record), detail=exc.message)
                )
        if self.full:
            for known in self.snap.agents.values():
                if known.numen_key not in seen:
                    self._disable(known, None, "absent de l'export complet")

    def _establishment(self, record: HrRecord) -> bool:
        dep = departement_of(record.uai)
        if dep not in self.snap.departements:
            self.malformed = True
            self.report.refused.append(
                ReportLine(
                    record.line,
                    _who(record),
                    detail=f"établissement {record.uai} hors de l'académie (département {dep})",
                )
            )
            return False
        current = self.snap.establishments.get(record.uai)
        wanted = (record.establishment_name, record.establishment_city or "")
        if current is None:
            self.writes["etab_new"].append(
                {
                    "uai": record.uai,
                    "name": wanted[0],
                    "city": wanted[1],
                    "departement_code": dep,
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            )
        elif current != wanted and wanted[0]:
            self.writes["etab_changed"].append(
                {"uai": record.uai, "name": wanted[0], "city": wanted[1], "updated_at": self.now}
            )
        if current != wanted and wanted[0]:
            self.snap.establishments[record.uai] = wanted
        return True

    def _ended(self, record: HrRecord) -> bool:
        return record.duty_end is not None and record.duty_end < self.today

    def _create(self, item: _Prepared) -> None:
        record = item.record
        if self._ended(record):
            self.report.refused.append(
                ReportLine(
                    record.line, _who(record), detail="fin de fonction passée : aucun compte créé"
                )
            )
            return
        agent_id, account_id = uuid.uuid4().hex, uuid.uuid4().hex
        address = self._choose_address(record, item.numen_key)
        login = self._choose_login(record, item.numen_key)
        self.writes["agents"].append(
            {
                "id": agent_id,
                "numen_key": item.numen_key,
                "identity_key": item.identity_key,
                "numen_sealed": numen.seal(record.numen, agent_id, self.o._keys.numen_seal),
                "hr_fingerprint": item.fingerprint,
                "created_at": self.now,
                "updated_at": self.now,
                **item.hr,
            }
        )
        self.writes["accounts"].append(
            {
                "id": account_id,
                "agent_id": agent_id,
                "login": login,
                "address": address,
                "state": AccountState.PROVISIONED.value,
                "resume_state": None,
                "state_changed_at": self.now,
                "created_at": self.now,
                "updated_at": self.now,
            }
        )
        self.snap.agents[item.numen_key] = KnownAgent(
            agent_id,
            item.numen_key,
            item.fingerprint,
            record.first_name,
            record.usage_name,
            account_id,
            login,
            address,
            AccountState.PROVISIONED.value,
            None,
            record.duty_end,
        )
        self.audit.append(
            AuditEntry(self.now, self.actor, "account.created", login, {"line": record.line})
        )
        self.report.created.append(ReportLine(record.line, _who(record), login, address))

    def _update(self, item: _Prepared, known: KnownAgent) -> None:
        record = item.record
        state = AccountState(known.state)
        if item.fingerprint != known.fingerprint:
            self._apply_changes(item, known)
        else:
            self.report.unchanged += 1
        if self._ended(record):
            if state not in (AccountState.DISABLED, AccountState.DELETED):
                self._disable(known, record.line, f"fin de fonction le {record.duty_end:%d/%m/%Y}")
        elif state is AccountState.DELETED:
            self._recreate(item, known)
        elif state is AccountState.DISABLED:
            outcome = transition(state, Event.ENABLE, _state(known.resume_state))
            self._set_state(known, outcome.state, outcome.resume_state, delete_after=None)
            self.audit.append(
                AuditEntry(
                    self.now, self.actor, "account.enabled", known.login, {"line": record.line}
                )
            )
            self.report.enabled.append(
                ReportLine(record.line, _who(record), known.login, known.address, "agent de retour")
            )

    def _recreate(self, item: _Prepared, known: KnownAgent) -> None:
        record = item.record
        outcome = transition(AccountState.DELETED, Event.RECREATE)
        self.sealed_updates.append(
            {
                "id": known.agent_id,
                "numen_sealed": numen.seal(record.numen, known.agent_id, self.o._keys.numen_seal),
            }
        )
        for identifier, kind in ((known.login, "login"), (known.address, "address")):
            self._give(identifier, kind, known.numen_key)
        self._set_state(known, outcome.state, None, delete_after=None)
        self.audit.append(
            AuditEntry(self.now, self.actor, "account.recreate", known.login, {"line": record.line})
        )
        self.report.enabled.append(
            ReportLine(
                record.line,
                _who(record),
                known.login,
                known.address,
                "compte recréé (nouveau courrier à éditer)",
            )
        )

    def _apply_changes(self, item: _Prepared, known: KnownAgent) -> None:
        record = item.record
        changed = [
            _HR_LABELS[name]
            for name, value in item.hr.items()
            if self._old_value(known, name) != value
        ]
        self.agent_updates.append(
            {
                "id": known.agent_id,
                "identity_key": item.identity_key,
                "hr_fingerprint": item.fingerprint,
                "updated_at": self.now,
                **item.hr,
            }
        )
        address = known.address
        if (record.first_name, record.usage_name) != (known.first_name, known.usage_name):
            wanted = naming.address_local_part(
                record.first_name, record.usage_name, naming.local_part_limit(self.domain)
            )
            if not known.address.startswith(wanted):
                address = self._choose_address(record, item.numen_key)
                self._move_address(known, address)
        self.audit.append(
            AuditEntry(
                self.now,
                self.actor,
                "agent.updated",
                known.login,
                {"line": record.line, "fields": changed},
            )
        )
        detail = ", ".join(changed) or "fiche"
        if address != known.address:
            detail += f" ; nouvelle adresse (l'ancienne {known.address} reste un alias)"
        self.report.updated.append(
            ReportLine(record.line, _who(record), known.login, address, detail)
        )

    def _old_value(self, known: KnownAgent, name: str) -> Any:
        # Loaded on the first changed row only: a no-change re-import never reads it.
        if self._old_hr is None:
            self._old_hr = repo.load_hr_fields(self.conn, list(_HR_LABELS))
        return self._old_hr.get(known.agent_id, {}).get(name)

    def _move_address(self, known: KnownAgent, address: str) -> None:
        if address in self.snap.aliases:
            self.alias_drops.append(address)
            del self.snap.aliases[address]
        self.writes["aliases"].append(
            {"address": known.address, "account_id": known.account_id, "created_at": self.now}
        )
        self.snap.aliases[known.address] = known.account_id
        self.account_updates.append(
            {"id": known.account_id, "address": address, "updated_at": self.now}
        )

    def _disable(self, known: KnownAgent, line: int | None, reason: str) -> None:
        state = AccountState(known.state)
        if state in (AccountState.DISABLED, AccountState.DELETED):
            return
        outcome = transition(state, Event.DISABLE, _state(known.resume_state))
        grace = dt.timedelta(days=self.o._settings.identity.deletion_grace_days)
        self._set_state(known, outcome.state, outcome.resume_state, delete_after=self.now + grace)
        self.audit.append(
            AuditEntry(self.now, self.actor, "account.disabled", known.login, {"reason": reason})
        )
        who = f"{known.first_name} {known.usage_name.upper()}"
        self.report.disabled.append(ReportLine(line, who, known.login, known.address, reason))

    def _set_state(
        self,
        known: KnownAgent,
        state: AccountState,
        resume: AccountState | None,
        *,
        delete_after: dt.datetime | None,
    ) -> None:
        self.state_updates.append(
            {
                "id": known.account_id,
                "state": state.value,
                "resume_state": resume.value if resume else None,
                "state_changed_at": self.now,
                "delete_after": delete_after,
                "updated_at": self.now,
            }
        )

    # -- writing ---------------------------------------------------------------------
    def write(self) -> None:
        conn = self.conn
        repo.upsert_establishments(conn, self.writes["etab_new"], self.writes["etab_changed"])
        repo.insert_rows(conn, "agents", self.writes["agents"])
        repo.insert_rows(conn, "accounts", self.writes["accounts"])
        repo.insert_rows(conn, "identifiers", self.writes["identifiers"])
        repo.update_rows(conn, "identifiers", "identifier", self.identifier_updates)
        repo.update_rows(conn, "agents", "id", self.agent_updates)
        repo.update_rows(conn, "agents", "id", self.sealed_updates)
        repo.delete_aliases(conn, self.alias_drops)
        repo.insert_rows(conn, "aliases", self.writes["aliases"])
        repo.update_rows(conn, "accounts", "id", self.account_updates)
        repo.update_rows(conn, "accounts", "id", self.state_updates)
        audit_repo.append(conn, self.audit)


def _state(value: str | None) -> AccountState | None:
    return AccountState(value) if value else None
