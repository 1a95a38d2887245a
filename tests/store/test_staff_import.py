"""The HR import against the real store, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa

from academail.identity import AccountState, Event
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


async def _state(platform: Platform, login: str) -> AccountState:
    return (await platform.accounts.show(login)).state


async def test_full_export_never_disables_an_agent_whose_row_was_refused(platform: Platform):
    await platform.staff.run(
        export(
            row(numen=numen(1)),
            row(numen=numen(2), prenom="Paul"),
            row(numen=numen(3), prenom="Léa"),
        ),
        "rh.csv",
    )
    report = await platform.staff.run(
        export(
            row(numen=numen(1)),
            row(numen=numen(2), prenom="Paul", fonction="INCONNU"),  # ineligible this time
            row(numen=numen(3), prenom="Léa", date_naissance="31/02/1980"),  # malformed
        ),
        "rh.csv",
        full=True,
        apply_valid_rows=True,
    )
    assert report.applied and len(report.refused) == 2
    assert report.disabled == []
    assert await _state(platform, "pdupont") is AccountState.PROVISIONED
    assert await _state(platform, "ldupont") is AccountState.PROVISIONED


async def test_full_export_with_an_unreadable_numen_disables_nobody(platform: Platform):
    await platform.staff.run(
        export(row(numen=numen(1)), row(numen=numen(2), prenom="Paul")), "rh.csv"
    )
    report = await platform.staff.run(
        export(row(numen=numen(1)), row(numen="20E07", prenom="Paul")),
        "rh.csv",
        full=True,
        apply_valid_rows=True,
    )
    assert report.applied and report.disabled == []
    assert "aucun agent absent n'a été désactivé" in report.notes[0]
    assert report.to_json()["notes"] == report.notes
    assert await _state(platform, "pdupont") is AccountState.PROVISIONED


async def test_a_purged_agent_stays_erased_when_the_export_still_lists_them(
    platform: Platform, clock
):
    past = (clock.today() - dt.timedelta(days=1)).strftime("%d/%m/%Y")
    await platform.staff.run(export(row(numen=numen(1))), "rh.csv")
    departed = export(row(numen=numen(1), date_sortie=past))
    await platform.staff.run(departed, "rh.csv")
    clock.advance(dt.timedelta(days=91))
    assert await platform.accounts.purge_expired("t") == ["jdupont"]

    report = await platform.staff.run(departed, "rh.csv")
    assert (report.updated, report.enabled, report.created) == ([], [], [])
    view = await platform.accounts.show("jdupont")
    assert view.state is AccountState.DELETED
    assert view.record.numen_sealed is None and view.record.address_lines == ""

    def birth_date(conn: Connection) -> object:
        return conn.execute(sa.select(agents.c.birth_date)).scalar_one()

    assert await platform.store.run(birth_date) is None

    # Back in duty: the account is recreated and the data written afresh.
    report = await platform.staff.run(export(row(numen=numen(1))), "rh.csv")
    assert [line.login for line in report.enabled] == ["jdupont"]
    view = await platform.accounts.show("jdupont")
    assert view.record.numen_sealed is not None and view.record.address_lines
    assert await platform.store.run(birth_date) == dt.date(1980, 5, 12)


async def test_a_new_name_that_only_prefixes_the_address_gets_its_own_address(
    platform: Platform,
):
    await platform.staff.run(
        export(row(numen=numen(1), prenom="Jean", nom_usage="Dupontel")), "rh.csv"
    )
    report = await platform.staff.run(
        export(row(numen=numen(1), prenom="Jean", nom_usage="Dupont")), "rh.csv"
    )
    assert report.updated[0].address == "jean.dupont@ac-amiens.fr"
    # A homonym's digit is still "the same name": no new address for jean.dupont1.
    await platform.staff.run(
        export(
            row(numen=numen(1), prenom="Jean", nom_usage="Dupont"),
            row(numen=numen(2), prenom="Jean", nom_usage="Dupond", date_naissance="01/01/1970"),
        ),
        "rh.csv",
    )
    report = await platform.staff.run(
        export(
            row(numen=numen(1), prenom="Jean", nom_usage="Dupont"),
            row(numen=numen(2), prenom="Jean", nom_usage="Dupont", date_naissance="01/01/1970"),
        ),
        "rh.csv",
    )
    assert report.updated[0].address == "jean.dupont1@ac-amiens.fr"
    report = await platform.staff.run(
        export(
            row(numen=numen(1), prenom="Jean", nom_usage="Dupont"),
            row(numen=numen(2), prenom="Jean", nom_usage="Dupont", nom_naissance="Dupond"),
        ),
        "rh.csv",
    )
    assert report.updated[0].address == "jean.dupont1@ac-amiens.fr"  # only the birth name


async def _platform_with(settings, clock, **identity):
    from academail.runtime import initialise, open_platform

    changed = dataclasses.replace(
        settings, identity=dataclasses.replace(settings.identity, **identity)
    )
    await initialise(changed)
    return open_platform(changed, clock)


async def test_identifiers_reused_after_the_quarantine(settings, clock):
    async with await _platform_with(settings, clock, identifier_reuse_after_days=30) as platform:
        await platform.staff.run(export(row(numen=numen(1), prenom="Jean")), "rh.csv")
        # A name change leaves jean.dupont@ as an alias of the first Jean.
        await platform.staff.run(
            export(row(numen=numen(1), prenom="Jean", nom_usage="Martin")), "rh.csv"
        )
        await platform.accounts.apply("jdupont", Event.DISABLE, "support")
        clock.advance(dt.timedelta(days=91))
        assert await platform.accounts.purge_expired("t") == ["jdupont"]

        # Still in quarantine: a namesake gets other identifiers.
        namesake = row(numen=numen(9), prenom="Jean", date_naissance="02/02/1990")
        report = await platform.staff.run(export(namesake), "rh.csv", dry_run=True)
        assert [(r.login, r.address) for r in report.created] == [
            ("jdupont1", "jean.dupont1@ac-amiens.fr")
        ]
        clock.advance(dt.timedelta(days=30))
        other = row(numen=numen(8), prenom="Jean", nom_usage="Martin", date_naissance="03/03/1991")
        report = await platform.staff.run(export(namesake, other), "rh.csv")
        assert report.applied, report.refused
        assert sorted((r.login, r.address) for r in report.created) == [
            ("jdupont", "jean.dupont@ac-amiens.fr"),  # the old login and old alias
            ("jmartin", "jean.martin@ac-amiens.fr"),  # the old primary address
        ]
        assert (await platform.accounts.show("jdupont")).state is AccountState.PROVISIONED
        assert (await platform.accounts.show("jean.dupont@ac-amiens.fr")).record.login == "jdupont"

        # The first Jean comes back: new identifiers for those now held by others.
        report = await platform.staff.run(
            export(namesake, other, row(numen=numen(1), prenom="Jean", nom_usage="Martin")),
            "rh.csv",
        )
        assert report.applied, report.refused
        (back,) = report.enabled
        assert (back.login, back.address) == ("jmartin1", "jean.martin1@ac-amiens.fr")
        assert "nouvel identifiant" in back.detail
        view = await platform.accounts.show("jmartin1")
        assert view.state is AccountState.PROVISIONED and view.record.aliases == ()

        # And nothing is handed out twice on the next run.
        again = await platform.staff.run(
            export(namesake, other, row(numen=numen(1), prenom="Jean", nom_usage="Martin")),
            "rh.csv",
        )
        assert (again.created, again.updated, again.enabled) == ([], [], [])


async def test_recreated_account_keeps_its_aliases_out_of_reuse(settings, clock):
    async with await _platform_with(settings, clock, identifier_reuse_after_days=30) as platform:
        await platform.staff.run(export(row(numen=numen(1), prenom="Jean")), "rh.csv")
        await platform.staff.run(
            export(row(numen=numen(1), prenom="Jean", nom_usage="Martin")), "rh.csv"
        )
        await platform.accounts.apply("jdupont", Event.DISABLE, "support")
        clock.advance(dt.timedelta(days=91))
        await platform.accounts.purge_expired("t")
        report = await platform.staff.run(
            export(row(numen=numen(1), prenom="Jean", nom_usage="Martin")), "rh.csv"
        )
        assert [(r.login, r.address) for r in report.enabled] == [
            ("jdupont", "jean.martin@ac-amiens.fr")
        ]
        assert (await platform.accounts.show("jdupont")).record.aliases == (
            "jean.dupont@ac-amiens.fr",
        )
        clock.advance(dt.timedelta(days=60))
        report = await platform.staff.run(
            export(
                row(numen=numen(1), prenom="Jean", nom_usage="Martin"),
                row(numen=numen(9), prenom="Jean", date_naissance="02/02/1990"),
            ),
            "rh.csv",
        )
        assert [(r.login, r.address) for r in report.created] == [
            ("jdupont1", "jean.dupont1@ac-amiens.fr")
        ]


async def test_the_import_does_not_undo_a_support_decision(platform: Platform, clock):
    data = export(row(numen=numen(1)), row(numen=numen(2), prenom="Paul"))
    await platform.staff.run(data, "rh.csv")
    await platform.accounts.apply("jdupont", Event.DISABLE, "support")
    report = await platform.staff.run(data, "rh.csv")
    assert report.enabled == []
    assert await _state(platform, "jdupont") is AccountState.DISABLED

    # A suspended agent who leaves and comes back is still suspended.
    await platform.accounts.apply("pdupont", Event.SUSPEND, "support", "it wasn't me")
    past = (clock.today() - dt.timedelta(days=1)).strftime("%d/%m/%Y")
    report = await platform.staff.run(
        export(row(numen=numen(1)), row(numen=numen(2), prenom="Paul", date_sortie=past)),
        "rh.csv",
    )
    assert [line.login for line in report.disabled] == ["pdupont"]
    report = await platform.staff.run(data, "rh.csv")
    assert [line.login for line in report.enabled] == ["pdupont"]
    assert await _state(platform, "pdupont") is AccountState.SUSPENDED
    assert await _state(platform, "jdupont") is AccountState.DISABLED


async def test_audit_lines_carry_the_run_actor(platform: Platform, clock):
    from academail.identity.staff_import import IMPORT_ACTOR
    from academail.store import audit as audit_repo

    await platform.staff.run(export(row(numen=numen(1))), "rh.csv", actor="rh-nocturne")
    (created,) = await platform.store.run(lambda c: audit_repo.entries_for(c, "jdupont"))
    assert (created.action, created.actor) == ("account.created", "rh-nocturne")

    # The default actor is the import's; it re-enables what it disabled itself.
    past = (clock.today() - dt.timedelta(days=1)).strftime("%d/%m/%Y")
    await platform.staff.run(export(row(numen=numen(1), date_sortie=past)), "rh.csv")
    report = await platform.staff.run(export(row(numen=numen(1))), "rh.csv")
    assert [line.login for line in report.enabled] == ["jdupont"]
    entries = await platform.store.run(lambda c: audit_repo.entries_for(c, "jdupont"))
    assert [(e.action, e.actor) for e in entries if e.action.startswith("account.")] == [
        ("account.enabled", IMPORT_ACTOR),
        ("account.disabled", IMPORT_ACTOR),
        ("account.created", "rh-nocturne"),
    ]


async def test_born_in_the_future_uses_the_injected_clock(settings):
    from academail.core.clock import FakeClock
    from academail.runtime import initialise, open_platform

    await initialise(settings)
    clock = FakeClock(dt.datetime(1985, 1, 1, 8, 0, tzinfo=dt.UTC))
    data = export(row(numen=numen(1), date_naissance="01/01/1990", date_entree="01/09/2015"))
    async with open_platform(settings, clock) as platform:
        report = await platform.staff.run(data, "rh.csv", dry_run=True)
    assert report.created == []
    assert "date dans le futur" in report.refused[0].detail


async def test_an_import_run_is_logged_with_counts_only(platform: Platform):
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        await platform.staff.run(export(row(numen=numen(1))), "rh.csv")
    (line,) = [entry for entry in logs if entry["event"] == "staff_import"]
    assert line["created"] == 1 and line["applied"] is True and line["source"] == "rh.csv"
    assert "Dupont" not in repr(line) and "jdupont" not in repr(line)
