"""Planning one HR import: the set of writes, computed in memory from a snapshot.

:class:`Plan` reads the directory once (:func:`~academail.store.directory.load_snapshot`),
walks the prepared rows, fills the report and collects rows to insert and update;
:meth:`Plan.write` then sends them in a few set-based statements, in the same unit
of work. The rules it applies (issue 2, mission.md part 1):

* A new agent gets an account in state *provisioned*, a ``prenom.nom`` address and a
  login chosen by :mod:`.naming` against every identifier ever given.
* A changed name gives a new address unless the current one already is the new name
  (``prenom.nom`` or ``prenom.nom<digits>``); the old address stays as an alias.
  Logins never change (except for a deleted account that comes back after its login
  went to someone else, see below).
* An agent whose end of duty is past is disabled. With ``full`` an agent absent from
  the file is disabled too; an agent is *in* the file whenever one of its lines
  carries their NUMEN, even a line refused for another reason. If a refused line has
  no readable NUMEN at all, nobody is disabled for absence in that run (the line may
  be anyone) and the report says so.
* A departed agent who comes back is re-enabled, but only if the import itself
  disabled the account: a disable by support (or anyone but the import's actor) is a
  human decision that an HR file does not undo.
* A deleted account (purged after its grace period) is never updated from HR data:
  its personal data was erased on purpose. Only an agent who is back in duty brings
  it back (*recreate*), with their data written afresh.
* Identifiers: an identifier belongs to whoever holds it (a login, an address, an
  alias). It may go to another person only when the holder's account is deleted, the
  identifier was released at the purge and ``identifier_reuse_after_days`` have
  passed. The deleted account's column then becomes a tombstone
  ``deleted-<account id>`` (its alias row is dropped), so unique constraints hold;
  if that person ever comes back, they get new identifiers for those taken.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from academail.config import IdentitySettings
from academail.core.errors import AcademailError
from academail.identity import naming, numen
from academail.identity.hr import HrRecord
from academail.identity.lifecycle import AccountState, Event, transition
from academail.identity.staff_report import ImportReport, ReportLine
from academail.identity.uai import departement_of
from academail.store import AuditEntry, Connection, DirectorySnapshot, KnownAgent
from academail.store import audit as audit_repo
from academail.store import directory as repo

__all__ = ["DISABLE_ACTIONS", "HR_LABELS", "Plan", "PlanContext", "Prepared"]

# Audit actions that disable an account: the import's, and support's (lifecycle event).
DISABLE_ACTIONS = ("account.disabled", f"account.{Event.DISABLE.value}")

# The HR columns of an agent, with the French name a report gives a changed one.
HR_LABELS = {
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


@dataclass(frozen=True)
class Prepared:
    """One valid HR row with its keys, computed off the event loop."""

    record: HrRecord
    numen_key: str
    identity_key: str
    fingerprint: str
    hr: dict[str, Any]


@dataclass(frozen=True)
class PlanContext:
    """What a plan needs besides the database: time, rules, key, who acts."""

    now: dt.datetime
    today: dt.date
    domain: str
    identity: IdentitySettings
    seal_key: bytes
    actor: str
    full: bool


def _who(record: HrRecord) -> str:
    return f"{record.first_name} {record.usage_name.upper()}"


def _tombstone(account_id: str) -> str:
    return f"deleted-{account_id}"


def _is_name_address(address: str, wanted_local: str) -> bool:
    """Whether ``address`` is ``wanted_local`` or one of its homonyms (``wanted_local7``)."""
    local = address.rpartition("@")[0]
    return re.fullmatch(re.escape(wanted_local) + r"\d*", local) is not None


class Plan:
    """The writes of one import. Build with :meth:`build`, then :meth:`write` (or not)."""

    def __init__(self, conn: Connection, report: ImportReport, ctx: PlanContext) -> None:
        self.conn = conn
        self.report = report
        self.ctx = ctx
        self.now = ctx.now
        self.snap: DirectorySnapshot = repo.load_snapshot(conn)
        self.malformed = False
        self.writes: dict[str, list[dict[str, Any]]] = {
            k: []
            for k in ("agents", "accounts", "identifiers", "aliases", "etab_new", "etab_changed")
        }
        self.agent_updates: list[dict[str, Any]] = []
        self.account_updates: list[dict[str, Any]] = []
        self.identity_updates: list[dict[str, Any]] = []
        self.login_tombstones: list[dict[str, Any]] = []
        self.address_tombstones: list[dict[str, Any]] = []
        self.identifier_updates: list[dict[str, Any]] = []
        self.state_updates: list[dict[str, Any]] = []
        self.sealed_updates: list[dict[str, Any]] = []
        self.alias_drops: list[str] = []
        self.audit: list[AuditEntry] = []
        self._old_hr: dict[str, dict[str, Any]] | None = None
        self._disabled_by: dict[str, str] | None = None
        # Who holds each identifier now (numen key), as login, address or alias.
        account_owner = {k.account_id: k.numen_key for k in self.snap.agents.values()}
        self.holders: dict[str, str] = {}
        for known in self.snap.agents.values():
            self.holders[known.login] = known.numen_key
            self.holders[known.address] = known.numen_key
        for alias, account_id in self.snap.aliases.items():
            if account_id in account_owner:
                self.holders[alias] = account_owner[account_id]

    # -- identifiers -----------------------------------------------------------------
    def _free(self, identifier: str, numen_key: str) -> bool:
        holder = self.holders.get(identifier)
        if holder is not None and holder != numen_key:
            known = self.snap.agents.get(holder)
            if known is None or AccountState(known.state) is not AccountState.DELETED:
                return False  # held by a live account, whatever the history says
        given = self.snap.identifiers.get(identifier)
        if given is None:
            return holder is None or holder == numen_key
        if given.numen_key == numen_key:
            return True  # a person may always get back their own identifier
        reuse_days = self.ctx.identity.identifier_reuse_after_days
        return bool(
            reuse_days
            and given.released_at is not None
            and given.released_at + dt.timedelta(days=reuse_days) <= self.now
        )

    def _give(self, identifier: str, kind: str, numen_key: str) -> None:
        holder = self.holders.get(identifier)
        if holder is not None and holder != numen_key:
            self._take_from_deleted(identifier, holder)
        self.holders[identifier] = numen_key
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

    def _take_from_deleted(self, identifier: str, holder: str) -> None:
        """Frees a released identifier of a deleted account for someone else (see above)."""
        known = self.snap.agents[holder]
        if AccountState(known.state) is not AccountState.DELETED:  # _free forbids it
            raise RuntimeError("an identifier of a live account cannot be given again")
        row = {"id": known.account_id, "updated_at": self.now}
        if known.login == identifier:
            self.login_tombstones.append({**row, "login": _tombstone(known.account_id)})
            known = dataclasses.replace(known, login=_tombstone(known.account_id))
        elif known.address == identifier:
            self.address_tombstones.append({**row, "address": _tombstone(known.account_id)})
            known = dataclasses.replace(known, address=_tombstone(known.account_id))
        elif self.snap.aliases.get(identifier) == known.account_id:
            self.alias_drops.append(identifier)
            del self.snap.aliases[identifier]
        self.snap.agents[holder] = known

    def _mine(self, identifier: str, numen_key: str) -> bool:
        """Whether ``identifier`` is still held by, and was given to, this person."""
        given = self.snap.identifiers.get(identifier)
        return (
            self.holders.get(identifier) == numen_key
            and given is not None
            and given.numen_key == numen_key
        )

    def _choose_address(self, record: HrRecord, numen_key: str) -> str:
        ident = self.ctx.identity
        local = naming.choose_address_local(
            record.first_name,
            record.usage_name,
            lambda c: not self._free(f"{c}@{self.ctx.domain}", numen_key),
            ident.homonym_first_suffix,
            max_length=naming.local_part_limit(self.ctx.domain),
        )
        address = f"{local}@{self.ctx.domain}"
        self._give(address, "address", numen_key)
        return address

    def _choose_login(self, record: HrRecord, numen_key: str) -> str:
        ident = self.ctx.identity
        login = naming.choose_login(
            record.first_name,
            record.usage_name,
            lambda c: not self._free(c, numen_key),
            ident.login_max_length,
            ident.homonym_first_suffix,
        )
        self._give(login, "login", numen_key)
        return login

    def _wanted_local(self, record: HrRecord) -> str:
        return naming.address_local_part(
            record.first_name, record.usage_name, naming.local_part_limit(self.ctx.domain)
        )

    # -- planning --------------------------------------------------------------------
    def build(self, prepared: list[Prepared], present: set[str], unknown_rows: int) -> None:
        """Plans every row; ``present`` holds the NUMEN keys of refused rows.

        ``unknown_rows`` counts refused rows with no readable NUMEN: any of them holds
        back the disabling of agents absent from a full export.
        """
        seen = set(present)
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
        if not self.ctx.full:
            return
        if unknown_rows:
            self.report.notes.append(
                f"export complet : aucun agent absent n'a été désactivé, car {unknown_rows} "
                "ligne(s) refusée(s) n'ont pas de NUMEN lisible (corrigez-les puis relancez)"
            )
            return
        for known in list(self.snap.agents.values()):
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
        return record.duty_end is not None and record.duty_end < self.ctx.today

    def _create(self, item: Prepared) -> None:
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
                "numen_sealed": numen.seal(record.numen, agent_id, self.ctx.seal_key),
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
            AuditEntry(self.now, self.ctx.actor, "account.created", login, {"line": record.line})
        )
        self.report.created.append(ReportLine(record.line, _who(record), login, address))

    def _update(self, item: Prepared, known: KnownAgent) -> None:
        record = item.record
        state = AccountState(known.state)
        if state is AccountState.DELETED:
            if self._ended(record):
                self.report.unchanged += 1  # gone and erased: nothing to restore
            else:
                self._recreate(item, known)
            return
        if item.fingerprint != known.fingerprint:
            self._apply_changes(item, known)
        else:
            self.report.unchanged += 1
        if self._ended(record):
            if state is not AccountState.DISABLED:
                self._disable(known, record.line, f"fin de fonction le {record.duty_end:%d/%m/%Y}")
        elif state is AccountState.DISABLED and self._disabled_by_import(known):
            outcome = transition(state, Event.ENABLE, _state(known.resume_state))
            self._set_state(known, outcome.state, outcome.resume_state, delete_after=None)
            self.audit.append(
                AuditEntry(
                    self.now, self.ctx.actor, "account.enabled", known.login, {"line": record.line}
                )
            )
            self.report.enabled.append(
                ReportLine(record.line, _who(record), known.login, known.address, "agent de retour")
            )

    def _disabled_by_import(self, known: KnownAgent) -> bool:
        # One set-based read, on the first departed agent who comes back.
        if self._disabled_by is None:
            logins = [
                k.login for k in self.snap.agents.values() if k.state == AccountState.DISABLED.value
            ]
            self._disabled_by = repo.last_disabled_by(self.conn, logins, DISABLE_ACTIONS)
        return self._disabled_by.get(known.login) == self.ctx.actor

    def _recreate(self, item: Prepared, known: KnownAgent) -> None:
        record, key = item.record, item.numen_key
        outcome = transition(AccountState.DELETED, Event.RECREATE)
        old_aliases = [a for a, owner in self.snap.aliases.items() if owner == known.account_id]
        login = known.login
        if self._mine(login, key):
            self._give(login, "login", key)
        else:
            login = self._choose_login(record, key)
        kept_address = self._mine(known.address, key)
        if kept_address and _is_name_address(known.address, self._wanted_local(record)):
            address = known.address
            self._give(address, "address", key)
        else:
            address = self._choose_address(record, key)
        if address in old_aliases:  # an old alias is the address again
            self.alias_drops.append(address)
            del self.snap.aliases[address]
        for alias in old_aliases:
            if alias != address and self._mine(alias, key):
                self._give(alias, "address", key)
        if kept_address and address != known.address:
            self._give(known.address, "address", key)
            self.writes["aliases"].append(
                {"address": known.address, "account_id": known.account_id, "created_at": self.now}
            )
            self.snap.aliases[known.address] = known.account_id
        if (login, address) != (known.login, known.address):
            self.identity_updates.append(
                {"id": known.account_id, "login": login, "address": address, "updated_at": self.now}
            )
        self.agent_updates.append(self._agent_row(item, known))
        self.sealed_updates.append(
            {
                "id": known.agent_id,
                "numen_sealed": numen.seal(record.numen, known.agent_id, self.ctx.seal_key),
            }
        )
        self._set_state(known, outcome.state, None, delete_after=None)
        self.snap.agents[key] = dataclasses.replace(
            known,
            login=login,
            address=address,
            state=outcome.state.value,
            resume_state=None,
            fingerprint=item.fingerprint,
        )
        self.audit.append(
            AuditEntry(self.now, self.ctx.actor, "account.recreate", login, {"line": record.line})
        )
        detail = "compte recréé (nouveau courrier à éditer)"
        if login != known.login:
            detail += " ; nouvel identifiant (l'ancien a été réattribué)"
        self.report.enabled.append(ReportLine(record.line, _who(record), login, address, detail))

    def _agent_row(self, item: Prepared, known: KnownAgent) -> dict[str, Any]:
        return {
            "id": known.agent_id,
            "identity_key": item.identity_key,
            "hr_fingerprint": item.fingerprint,
            "updated_at": self.now,
            **item.hr,
        }

    def _apply_changes(self, item: Prepared, known: KnownAgent) -> None:
        record = item.record
        changed = [
            HR_LABELS[name]
            for name, value in item.hr.items()
            if self._old_value(known, name) != value
        ]
        self.agent_updates.append(self._agent_row(item, known))
        address = known.address
        if (record.first_name, record.usage_name) != (known.first_name, known.usage_name):
            if not _is_name_address(known.address, self._wanted_local(record)):
                address = self._choose_address(record, item.numen_key)
                self._move_address(known, address)
        self.audit.append(
            AuditEntry(
                self.now,
                self.ctx.actor,
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
            self._old_hr = repo.load_hr_fields(self.conn, list(HR_LABELS))
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
        grace = dt.timedelta(days=self.ctx.identity.deletion_grace_days)
        self._set_state(known, outcome.state, outcome.resume_state, delete_after=self.now + grace)
        self.audit.append(
            AuditEntry(
                self.now, self.ctx.actor, "account.disabled", known.login, {"reason": reason}
            )
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
        """Sends the plan; identifiers leave deleted accounts before anyone takes them."""
        conn = self.conn
        repo.update_rows(conn, "accounts", "id", self.login_tombstones)
        repo.update_rows(conn, "accounts", "id", self.address_tombstones)
        repo.delete_aliases(conn, self.alias_drops)
        repo.upsert_establishments(conn, self.writes["etab_new"], self.writes["etab_changed"])
        repo.insert_rows(conn, "agents", self.writes["agents"])
        repo.update_rows(conn, "accounts", "id", self.identity_updates)
        repo.insert_rows(conn, "accounts", self.writes["accounts"])
        repo.insert_rows(conn, "identifiers", self.writes["identifiers"])
        repo.update_rows(conn, "identifiers", "identifier", self.identifier_updates)
        repo.update_rows(conn, "agents", "id", self.agent_updates)
        repo.update_rows(conn, "agents", "id", self.sealed_updates)
        repo.insert_rows(conn, "aliases", self.writes["aliases"])
        repo.update_rows(conn, "accounts", "id", self.account_updates)
        repo.update_rows(conn, "accounts", "id", self.state_updates)
        audit_repo.append(conn, self.audit)


def _state(value: str | None) -> AccountState | None:
    return AccountState(value) if value else None
