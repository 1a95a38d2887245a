"""Support actions and credential letters against the real store, both dialects."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader

from academail.core.errors import IllegalTransition, InvalidInput, NotFound
from academail.identity import AccountState, Event, passwords
from academail.letters import LetterSelection
from academail.runtime import Platform
from academail.store import audit as audit_repo
from tests.fixtures.hr import BEAUVAIS_COLLEGE, export, numen, row


@pytest.fixture
async def two_agents(platform: Platform) -> Platform:
    data = export(
        row(numen=numen(1), prenom="Zoë", nom_usage="Lefèvre"),
        row(
            numen=numen(2),
            prenom="Œdipe",
            nom_usage="N'Diaye",
            uai=BEAUVAIS_COLLEGE,
            etablissement="Collège Jules Verne",
            commune_etablissement="Beauvais",
        ),
    )
    report = await platform.staff.run(data, "rh.csv")
    assert len(report.created) == 2
    return platform


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _password_on(page: str) -> str:
    match = re.search(r"\b([a-km-zA-HJ-NP-Z2-9]{16})\b", page)
    assert match, page
    return match.group(1)


async def _temp_hash(platform: Platform, login: str) -> str:
    import sqlalchemy as sa

    from academail.store.tables import accounts

    def work(conn):
        return conn.execute(
            sa.select(accounts.c.temp_password_hash).where(accounts.c.login == login)
        ).scalar_one()

    return await platform.store.run(work)


async def test_letters_for_a_departement_move_state_and_carry_a_working_password(
    two_agents: Platform, clock
):
    platform = two_agents
    issued = await platform.letters.issue(LetterSelection(departement="60"), "test")
    assert issued.count == 1 and issued.logins == ("ondiaye",)
    (page,) = _pages(issued.pdf)
    assert "Œdipe" in page and "N'Diaye" in page.replace("’", "'")
    assert "ondiaye" in page and "oedipe.ndiaye@ac-amiens.fr" in page
    assert "20E0700000002" in page  # the letter is the one place the NUMEN is printed
    # The fake clock starts on 1 September 2026: 30 days later, in French.
    assert clock.today() == dt.date(2026, 9, 1)
    assert "avant le 1er octobre 2026" in page
    password = _password_on(page.replace("ondiaye", ""))
    assert await passwords.verify_off_loop(await _temp_hash(platform, "ondiaye"), password)
    view = await platform.accounts.show("ondiaye")
    assert view.state is AccountState.LETTER_ISSUED
    assert view.record.letter_count == 1
    assert (await platform.accounts.show("zlefevre")).state is AccountState.PROVISIONED


async def test_reissue_invalidates_the_previous_password(two_agents: Platform):
    platform = two_agents
    first = await platform.letters.issue(LetterSelection(logins=("zlefevre",)), "test")
    old = _password_on(_pages(first.pdf)[0].replace("zlefevre", ""))
    second = await platform.letters.issue(LetterSelection(logins=("zlefevre",)), "test")
    new = _password_on(_pages(second.pdf)[0].replace("zlefevre", ""))
    stored = await _temp_hash(platform, "zlefevre")
    assert old != new
    assert await passwords.verify_off_loop(stored, new)
    assert not await passwords.verify_off_loop(stored, old)
    actions = [
        e.action for e in await platform.store.run(lambda c: audit_repo.entries_for(c, "zlefevre"))
    ]
    assert actions[:2] == ["letter.reissued", "letter.issued"]


async def test_new_only_skips_issued_accounts(two_agents: Platform):
    platform = two_agents
    assert (await platform.letters.issue(LetterSelection(only_new=True), "t")).count == 2
    assert (await platform.letters.issue(LetterSelection(only_new=True), "t")).count == 0


async def test_letters_need_a_selection_and_known_logins(two_agents: Platform):
    with pytest.raises(InvalidInput):
        await two_agents.letters.issue(LetterSelection(), "t")
    with pytest.raises(NotFound):
        await two_agents.letters.issue(LetterSelection(logins=("personne",)), "t")


async def test_lock_expires_with_the_clock_and_unlock(two_agents: Platform, clock):
    platform = two_agents
    await platform.letters.issue(LetterSelection(logins=("zlefevre",)), "t")
    view = await platform.accounts.apply("zlefevre", Event.LOCK, "support")
    assert view.state is AccountState.LOCKED
    assert view.record.locked_until == clock.now() + dt.timedelta(minutes=30)
    clock.advance(dt.timedelta(minutes=29))
    assert (await platform.accounts.show("zlefevre")).state is AccountState.LOCKED
    clock.advance(dt.timedelta(minutes=1))
    assert (await platform.accounts.show("zlefevre")).state is AccountState.LETTER_ISSUED
    await platform.accounts.apply("zlefevre", Event.LOCK, "support")
    view = await platform.accounts.apply("zlefevre", Event.UNLOCK, "support")
    assert view.state is AccountState.LETTER_ISSUED
    assert view.history[0].action == "account.unlock"
    assert view.history[0].actor == "support"


async def test_suspend_reinstate_disable_enable(two_agents: Platform):
    platform = two_agents
    assert (
        await platform.accounts.apply("zlefevre", Event.SUSPEND, "s", "it wasn't me")
    ).state is AccountState.SUSPENDED
    assert (
        await platform.accounts.apply("zlefevre", Event.REINSTATE, "s")
    ).state is AccountState.PROVISIONED
    view = await platform.accounts.apply("zlefevre", Event.DISABLE, "s")
    assert view.state is AccountState.DISABLED and view.record.delete_after is not None
    view = await platform.accounts.apply("zlefevre", Event.ENABLE, "s")
    assert view.state is AccountState.PROVISIONED and view.record.delete_after is None


async def test_illegal_and_unknown(two_agents: Platform):
    with pytest.raises(IllegalTransition, match="déverrouiller"):
        await two_agents.accounts.apply("zlefevre", Event.UNLOCK, "s")
    with pytest.raises(NotFound):
        await two_agents.accounts.show("inconnu")
    with pytest.raises(NotFound):
        await two_agents.accounts.apply("inconnu", Event.LOCK, "s")


async def test_purge_waits_for_the_grace_period_and_wipes_personal_data(
    two_agents: Platform, clock
):
    platform = two_agents
    await platform.accounts.apply("zlefevre", Event.DISABLE, "s")
    clock.advance(dt.timedelta(days=89))
    assert await platform.accounts.purge_expired("s") == []
    clock.advance(dt.timedelta(days=1))
    assert await platform.accounts.purge_expired("s") == ["zlefevre"]
    view = await platform.accounts.show("zlefevre")
    assert view.state is AccountState.DELETED
    assert view.record.numen_sealed is None and view.record.address_lines == ""
    with pytest.raises(IllegalTransition):
        await platform.accounts.apply("zlefevre", Event.ENABLE, "s")
