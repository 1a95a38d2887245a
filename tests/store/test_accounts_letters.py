"""Support actions and credential letters against the real store, both dialects."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader

from academail.core.errors import IllegalTransition, InvalidInput, NotFound
from academail.identity import AccountState, Event, passwords
from academail.letters import IssuedLetters, LetterSelection
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


async def issue(platform: Platform, selection: LetterSelection, actor: str = "t") -> IssuedLetters:
    return await platform.letters.issue(selection, actor, deliver=lambda _pdf: None)


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
    issued = await issue(platform, LetterSelection(departement="60"), "test")
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
    first = await issue(platform, LetterSelection(logins=("zlefevre",)), "test")
    old = _password_on(_pages(first.pdf)[0].replace("zlefevre", ""))
    second = await issue(platform, LetterSelection(logins=("zlefevre",)), "test")
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
    assert (await issue(platform, LetterSelection(only_new=True), "t")).count == 2
    assert (await issue(platform, LetterSelection(only_new=True), "t")).count == 0


async def test_letters_need_a_selection_and_known_logins(two_agents: Platform):
    with pytest.raises(InvalidInput):
        await issue(two_agents, LetterSelection(), "t")
    with pytest.raises(NotFound):
        await issue(two_agents, LetterSelection(logins=("personne",)), "t")


async def test_lock_expires_with_the_clock_and_unlock(two_agents: Platform, clock):
    platform = two_agents
    await issue(platform, LetterSelection(logins=("zlefevre",)), "t")
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


async def _account_row(platform: Platform, login: str) -> dict:
    import sqlalchemy as sa

    from academail.store.tables import accounts

    def work(conn):
        return dict(
            conn.execute(sa.select(accounts).where(accounts.c.login == login)).mappings().one()
        )

    return await platform.store.run(work)


async def _make_active(platform: Platform, login: str) -> None:
    """As if the agent had activated: state active with a chosen password's hash."""

    from academail.store.tables import accounts

    def work(conn):
        conn.execute(
            accounts.update()
            .where(accounts.c.login == login)
            .values(state="active", password_hash="$argon2id$chosen", temp_password_hash=None)
        )

    await platform.store.run(work)


async def test_batches_never_reset_an_active_account_only_reissue_does(two_agents: Platform):
    platform = two_agents
    await issue(platform, LetterSelection(logins=("ondiaye",)))
    await _make_active(platform, "ondiaye")
    # Printing the Oise again must not break the password of an agent who activated.
    assert (await issue(platform, LetterSelection(departement="60"))).count == 0
    row = await _account_row(platform, "ondiaye")
    assert (row["state"], row["password_hash"]) == ("active", "$argon2id$chosen")
    # A letter issued but never activated is printed again (a lost letter).
    assert (await issue(platform, LetterSelection(departement="80"))).logins == ("zlefevre",)
    assert (await issue(platform, LetterSelection(departement="80"))).logins == ("zlefevre",)
    # Support's explicit reissue is the one way to reset an active account.
    assert (await issue(platform, LetterSelection(logins=("ondiaye",)))).count == 1
    row = await _account_row(platform, "ondiaye")
    assert (row["state"], row["password_hash"]) == ("letter_issued", None)


async def test_letters_are_delivered_before_the_commit_and_a_failed_delivery_changes_nothing(
    two_agents: Platform,
):
    platform = two_agents
    seen: list[tuple[str, int]] = []
    loop = asyncio.get_running_loop()

    def deliver(pdf: bytes) -> None:
        assert pdf.startswith(b"%PDF")
        row = asyncio.run_coroutine_threadsafe(_account_row(platform, "zlefevre"), loop).result()
        seen.append((row["state"], row["letter_count"]))

    await platform.letters.issue(LetterSelection(logins=("zlefevre",)), "t", deliver=deliver)
    assert seen == [("provisioned", 0)]  # nothing was committed when the PDF was handed over
    assert (await _account_row(platform, "zlefevre"))["letter_count"] == 1

    def broken(_pdf: bytes) -> None:
        raise OSError(28, "No space left on device")

    before = await _account_row(platform, "zlefevre")
    with pytest.raises(OSError):
        await platform.letters.issue(LetterSelection(logins=("zlefevre",)), "t", deliver=broken)
    assert await _account_row(platform, "zlefevre") == before


async def test_a_concurrent_letter_run_is_detected_by_the_letter_count(two_agents: Platform):
    """Another run that re-issued the same letter (same state) in between is refused."""
    platform = two_agents
    await issue(platform, LetterSelection(logins=("zlefevre",)))
    loop = asyncio.get_running_loop()

    def other_run_commits(_pdf: bytes) -> None:
        asyncio.run_coroutine_threadsafe(
            issue(platform, LetterSelection(logins=("zlefevre",))), loop
        ).result()

    with pytest.raises(InvalidInput, match="a changé pendant l'édition"):
        await platform.letters.issue(
            LetterSelection(logins=("zlefevre",)), "t", deliver=other_run_commits
        )
    row = await _account_row(platform, "zlefevre")
    assert row["letter_count"] == 2  # the first and the concurrent run; ours was refused


async def test_a_suspension_survives_a_departure_and_a_return(two_agents: Platform):
    platform = two_agents
    await issue(platform, LetterSelection(logins=("zlefevre",)))
    await platform.accounts.apply("zlefevre", Event.SUSPEND, "support")
    await platform.accounts.apply("zlefevre", Event.DISABLE, "support")
    view = await platform.accounts.apply("zlefevre", Event.ENABLE, "support")
    assert view.state is AccountState.SUSPENDED
    # Lifting the suspension returns to the step the credentials show.
    view = await platform.accounts.apply("zlefevre", Event.REINSTATE, "support")
    assert view.state is AccountState.LETTER_ISSUED
    await _make_active(platform, "ondiaye")
    await platform.accounts.apply("ondiaye", Event.SUSPEND, "support")
    await platform.accounts.apply("ondiaye", Event.DISABLE, "support")
    await platform.accounts.apply("ondiaye", Event.ENABLE, "support")
    view = await platform.accounts.apply("ondiaye", Event.REINSTATE, "support")
    assert view.state is AccountState.ACTIVE


async def test_no_statement_carries_a_long_in_list(
    platform: Platform, clock, monkeypatch: pytest.MonkeyPatch
):
    """asyncpg refuses more than 32,767 parameters: every key list goes in chunks."""
    from sqlalchemy import event

    from academail.store import directory

    monkeypatch.setattr(directory, "CHUNK", 3)
    longest: list[int] = [0]

    def watch(_conn, _cursor, statement, _parameters, _context, _many) -> None:
        longest[0] = max([longest[0], *_in_list_lengths(statement)])

    engine = getattr(platform.store.engine, "sync_engine", platform.store.engine)
    event.listen(engine, "before_cursor_execute", watch)
    rows = [row(numen=numen(n), prenom=f"Jean{'ne' * n}", nom_usage="Martin") for n in range(8)]
    report = await platform.staff.run(export(*rows), "rh.csv")
    logins = tuple(line.login for line in report.created)
    assert len(logins) == 8
    assert (await issue(platform, LetterSelection(logins=logins))).count == 8
    assert (await issue(platform, LetterSelection(departement="80"))).count == 8
    for login in logins[:5]:
        await platform.accounts.apply(login, Event.DISABLE, "support")
    clock.advance(dt.timedelta(days=91))
    assert len(await platform.accounts.purge_expired("t")) == 5
    report = await platform.staff.run(export(*rows[3:]), "rh.csv", full=True)
    assert len(report.enabled) == 2 and len(report.disabled) == 0
    event.remove(engine, "before_cursor_execute", watch)
    assert 0 < longest[0] <= 3


def _in_list_lengths(statement: str) -> list[int]:
    """The number of items of each ``IN (…)`` list of a statement (sub-selects count 1)."""
    lengths = []
    for match in re.finditer(r"\bIN \(", statement, flags=re.IGNORECASE):
        depth, items, index = 1, 1, match.end()
        while depth and index < len(statement):
            char = statement[index]
            depth += {"(": 1, ")": -1}.get(char, 0)
            items += char == "," and depth == 1
            index += 1
        lengths.append(items)
    return lengths


async def test_letter_selection_by_logins_in_chunks(
    two_agents: Platform, monkeypatch: pytest.MonkeyPatch
):
    from academail.store import directory

    monkeypatch.setattr(directory, "CHUNK", 1)

    def work(conn):
        found = directory.select_for_letters(
            conn, states=["provisioned"], logins=["zlefevre", "personne", "ondiaye", "zlefevre"]
        )
        ids = [r.account_id for r in found]
        return sorted(r.login for r in found), directory.letter_states(conn, ids)

    logins, states = await two_agents.store.run(work)
    assert logins == ["ondiaye", "zlefevre"]
    assert sorted(states.values()) == [("provisioned", 0), ("provisioned", 0)]


async def test_a_letters_batch_is_logged_without_personal_data(two_agents: Platform):
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        await issue(two_agents, LetterSelection(departement="80"), "cli")
    (line,) = [entry for entry in logs if entry["event"] == "letters_issued"]
    assert line["count"] == 1 and line["departement"] == "80" and line["actor"] == "cli"
    assert "zlefevre" not in repr(line) and "Lefèvre" not in repr(line)
