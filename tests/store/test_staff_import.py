"""The HR import against the real store, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from academail.identity import AccountState
from academail.identity.hr import generate_export
from academail.runtime import Platform
from academail.store import Connection
from academail.store.tables import accounts, agents, aliases, audit_log, identifiers
from tests.fixtures.hr import BEAUVAIS_COLLEGE, PARIS_LYCEE, export, numen, row


async def _count(platform: Platform, table: sa.Table) -> int:
    def work(conn: Connection) -> int:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

    return await platform.store.run(work)


async def _accounts(platform: Platform) -> dict[str, dict]:
    def work(conn: Connection) -> dict[str, dict]:
        query = sa.select(accounts, agents.c.first_name, agents.c.usage_name, agents.c.uai).join(
            agents, agents.c.id == accounts.c.agent_id
        )
        return {r["login"]: dict(r) for r in conn.execute(query).mappings()}

    return await platform.store.run(work)


async def test_generated_export_creates_everyone_once(platform: Platform):
    data = generate_export(150).encode("utf-8")
    report = await platform.staff.run(data, "rh.csv")
    assert report.applied and not report.aborted
    assert len(report.created) == 150 - len(report.refused)
    made = await _accounts(platform)
    assert len(made) == len(report.created)
    assert len({a["address"] for a in made.values()}) == len(made)
    assert all(a["state"] == AccountState.PROVISIONED.value for a in made.values())
    assert all(a["address"].endswith("@ac-amiens.fr") for a in made.values())
    audit_before = await _count(platform, audit_log)

    again = await platform.staff.run(data, "rh.csv")
    assert again.applied
    assert (again.created, again.updated, again.disabled) == ([], [], [])
    assert again.unchanged == len(made)
    assert await _count(platform, audit_log) == audit_before + 1  # only the run itself


async def test_homonyms_get_the_lowest_free_digit(platform: Platform):
    data = export(
        row(numen=numen(1), prenom="Jean", nom_usage="Dupont"),
        row(numen=numen(2), prenom="Jean", nom_usage="Dupont", date_naissance="01/01/1970"),
        row(numen=numen(3), prenom="Jacques", nom_usage="Dupont"),
        row(numen=numen(4), prenom="Jean-Pierre", nom_usage="Lefèvre"),
    )
    report = await platform.staff.run(data, "rh.csv")
    got = {(line.login, line.address) for line in report.created}
    assert got == {
        ("jdupont", "jean.dupont@ac-amiens.fr"),
        ("jdupont1", "jean.dupont1@ac-amiens.fr"),
        ("jdupont2", "jacques.dupont@ac-amiens.fr"),
        ("jlefevre", "jeanpierre.lefevre@ac-amiens.fr"),
    }


async def test_dry_run_reports_and_writes_nothing(platform: Platform):
    report = await platform.staff.run(export(row(numen=numen(1))), "rh.csv", dry_run=True)
    assert [line.login for line in report.created] == ["jdupont"]
    assert not report.applied
    assert await _count(platform, accounts) == 0
    assert await _count(platform, audit_log) == 0


async def test_malformed_file_changes_nothing_unless_told(platform: Platform):
    data = export(
        row(numen=numen(1)),
        row(numen="20E07", prenom="Paul"),  # malformed NUMEN
        row(numen=numen(3), prenom="Léa", fonction="ELEVE"),  # ineligible
    )
    report = await platform.staff.run(data, "rh.csv")
    assert report.aborted and not report.applied
    assert report.created == []
    assert {line.line for line in report.refused} == {3, 4}
    assert await _count(platform, accounts) == 0

    report = await platform.staff.run(data, "rh.csv", apply_valid_rows=True)
    assert report.applied
    assert [line.login for line in report.created] == ["jdupont"]
    assert await _count(platform, accounts) == 1


async def test_establishment_outside_the_academie_is_refused(platform: Platform):
    data = export(row(numen=numen(1), uai=PARIS_LYCEE, etablissement="Lycée Louis-le-Grand"))
    report = await platform.staff.run(data, "rh.csv")
    assert report.aborted
    assert "hors de l'académie" in report.refused[0].detail


async def test_changes_update_and_a_new_name_keeps_the_old_address(platform: Platform):
    await platform.staff.run(export(row(numen=numen(1))), "rh.csv")
    changed = export(
        row(
            numen=numen(1),
            nom_usage="Martin",
            nom_naissance="Dupont",
            uai=BEAUVAIS_COLLEGE,
            etablissement="Collège Jules Verne",
        )
    )
    report = await platform.staff.run(changed, "rh.csv")
    (line,) = report.updated
    assert line.login == "jdupont"  # logins never change
    assert line.address == "jeanne.martin@ac-amiens.fr"
    assert "nom d'usage" in line.detail and "établissement" in line.detail
    made = await _accounts(platform)
    assert made["jdupont"]["address"] == "jeanne.martin@ac-amiens.fr"
    assert made["jdupont"]["uai"] == BEAUVAIS_COLLEGE

    def alias_rows(conn: Connection) -> list[str]:
        return [r.address for r in conn.execute(sa.select(aliases))]

    assert await platform.store.run(alias_rows) == ["jeanne.dupont@ac-amiens.fr"]
    view = await platform.accounts.show("JEANNE.DUPONT@ac-amiens.fr ")
    assert view.record.login == "jdupont"

    # Back to the birth name: she gets her old address back, the alias goes.
    report = await platform.staff.run(
        export(row(numen=numen(1), uai=BEAUVAIS_COLLEGE, etablissement="Collège Jules Verne")),
        "rh.csv",
    )
    assert report.updated[0].address == "jeanne.dupont@ac-amiens.fr"
    assert await platform.store.run(alias_rows) == ["jeanne.martin@ac-amiens.fr"]


async def test_end_of_duty_disables_and_return_enables(platform: Platform, clock):
    await platform.staff.run(
        export(row(numen=numen(1)), row(numen=numen(2), prenom="Paul")), "rh.csv"
    )
    past = (clock.today() - dt.timedelta(days=1)).strftime("%d/%m/%Y")
    report = await platform.staff.run(
        export(row(numen=numen(1), date_sortie=past), row(numen=numen(2), prenom="Paul")), "rh.csv"
    )
    assert [line.login for line in report.disabled] == ["jdupont"]
    view = await platform.accounts.show("jdupont")
    assert view.state is AccountState.DISABLED
    assert view.record.delete_after == clock.now() + dt.timedelta(days=90)

    report = await platform.staff.run(
        export(row(numen=numen(1)), row(numen=numen(2), prenom="Paul")), "rh.csv"
    )
    assert [line.login for line in report.enabled] == ["jdupont"]
    assert (await platform.accounts.show("jdupont")).state is AccountState.PROVISIONED


async def test_full_export_disables_the_missing(platform: Platform):
    await platform.staff.run(
        export(row(numen=numen(1)), row(numen=numen(2), prenom="Paul")), "rh.csv"
    )
    partial = export(row(numen=numen(2), prenom="Paul"))
    report = await platform.staff.run(partial, "rh.csv")
    assert report.disabled == []  # not a full export: absence means nothing
    report = await platform.staff.run(partial, "rh.csv", full=True)
    assert [(line.login, line.detail) for line in report.disabled] == [
        ("jdupont", "absent de l'export complet")
    ]


async def test_identifier_of_a_deleted_account_is_never_given_to_someone_else(
    platform: Platform, clock
):
    await platform.staff.run(export(row(numen=numen(1), prenom="Jean")), "rh.csv")
    await platform.staff.run(export(row(numen=numen(1), prenom="Jean")), "rh.csv", full=False)
    from academail.identity import Event

    await platform.accounts.apply("jdupont", Event.DISABLE, "test")
    clock.advance(dt.timedelta(days=91))
    assert await platform.accounts.purge_expired("test") == ["jdupont"]
    report = await platform.staff.run(
        export(row(numen=numen(9), prenom="Jean", date_naissance="02/02/1990")), "rh.csv"
    )
    assert [(line.login, line.address) for line in report.created] == [
        ("jdupont1", "jean.dupont1@ac-amiens.fr")
    ]

    # The same person coming back gets their own identifiers again, in a new account cycle.
    report = await platform.staff.run(
        export(
            row(numen=numen(1), prenom="Jean"),
            row(numen=numen(9), prenom="Jean", date_naissance="02/02/1990"),
        ),
        "rh.csv",
    )
    assert [(line.login, line.detail) for line in report.enabled] == [
        ("jdupont", "compte recréé (nouveau courrier à éditer)")
    ]
    assert (await platform.accounts.show("jdupont")).state is AccountState.PROVISIONED


async def test_numen_and_birth_date_never_stored_in_clear(platform: Platform):
    await platform.staff.run(export(row(numen="20E0712345ABC")), "rh.csv")

    def dump(conn: Connection) -> str:
        text = []
        for table in (agents, accounts, identifiers, audit_log):
            for r in conn.execute(sa.select(table)):
                text.append(repr(tuple(r)))
        return "\n".join(text)

    everything = await platform.store.run(dump)
    assert "20E0712345ABC" not in everything
    assert "12345ABC" not in everything


async def test_audit_log_is_append_only(platform: Platform):
    await platform.staff.run(export(row(numen=numen(1))), "rh.csv")

    def tamper(conn: Connection) -> None:
        conn.execute(audit_log.update().values(actor="someone else"))

    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        await platform.store.run(tamper)

    def erase(conn: Connection) -> None:
        conn.execute(audit_log.delete())

    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        await platform.store.run(erase)
    assert await _count(platform, audit_log) >= 2


async def test_cp1252_file_is_read(platform: Platform):
    data = export(row(numen=numen(1), prenom="Hélène", nom_usage="Lefèvre-Cœur"), encoding="cp1252")
    report = await platform.staff.run(data, "rh.csv")
    assert report.encoding.lower().replace("-", "") in {"cp1252", "windows1252"}
    assert [line.address for line in report.created] == ["helene.lefevrecoeur@ac-amiens.fr"]
