"""The one sign-in path: lockout, repeated secrets, throttling, cache, states — both stores."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from academail.identity import AccountState, Event
from academail.identity.authenticate import AuthContext, Door, Outcome
from academail.runtime import Platform
from academail.store import outbox
from academail.store.tables import audit_log
from tests.fixtures.agents import PASSWORD, active_agent

IMAP = AuthContext(Door.IMAP, "192.0.2.10", "Thunderbird 128")
PORTAL = AuthContext(Door.PORTAL, "192.0.2.20", "Firefox")


async def _audit(platform: Platform, action: str) -> int:
    def work(conn):
        return conn.execute(
            sa.select(sa.func.count()).select_from(audit_log).where(audit_log.c.action == action)
        ).scalar_one()

    return await platform.store.run(work)


async def test_password_and_address_sign_in_any_case(platform: Platform):
    login, _ = await active_agent(platform)
    view = await platform.accounts.show(login)
    for identifier in (login, f"  {login.upper()} ", view.record.address.upper()):
        result = await platform.authenticator.authenticate(identifier, PASSWORD, PORTAL)
        assert result.outcome is Outcome.OK, identifier


async def test_five_distinct_failures_lock_for_thirty_minutes(platform: Platform, clock):
    login, _ = await active_agent(platform)
    for attempt in range(5):
        result = await platform.authenticator.authenticate(login, f"Mauvais-{attempt}-xyz!", PORTAL)
        assert result.outcome is Outcome.FAILED
    assert (await platform.accounts.show(login)).state is AccountState.LOCKED
    # Locked: even the right password fails, with the same answer.
    locked = await platform.authenticator.authenticate(login, PASSWORD, IMAP)
    assert locked.outcome is Outcome.FAILED and locked.message
    assert await _audit(platform, "auth.lockout") == 1
    await platform.authenticator.drain()
    mails = await platform.store.run(lambda c: outbox.latest(c))
    lock_mail = [m for m in mails if "verrouillé" in m.subject]
    assert lock_mail and "/pas-moi?jeton=" in lock_mail[0].body
    assert PASSWORD not in lock_mail[0].body
    clock.advance(dt.timedelta(minutes=30))
    assert (await platform.authenticator.authenticate(login, PASSWORD, IMAP)).outcome is Outcome.OK
    assert (await platform.accounts.show(login)).state is AccountState.ACTIVE


async def test_a_phone_repeating_the_same_old_password_counts_once(platform: Platform):
    login, _ = await active_agent(platform)
    for _ in range(20):
        assert (
            await platform.authenticator.authenticate(login, "Ancien-mot-2025!", IMAP)
        ).outcome is Outcome.FAILED
    assert (await platform.accounts.show(login)).state is AccountState.ACTIVE
    assert (await platform.authenticator.authenticate(login, PASSWORD, IMAP)).outcome is Outcome.OK
    assert await _audit(platform, "auth.failure") == 20  # each attempt audited, counted once


async def test_unknown_and_wrong_give_the_same_result(platform: Platform):
    login, _ = await active_agent(platform)
    wrong = await platform.authenticator.authenticate(login, "Faux-2026-mdp!", PORTAL)
    unknown = await platform.authenticator.authenticate(
        "personne.inconnue", "Faux-2026-mdp!", PORTAL
    )
    assert wrong == unknown
    assert wrong.account_id is None and wrong.login is None


async def test_per_ip_throttle_runs_before_any_account(platform: Platform):
    login, _ = await active_agent(platform)
    attacker = AuthContext(Door.IMAP, "198.51.100.7", "bot")
    limit = platform.settings.auth.ip_failure_limit
    for n in range(limit):
        await platform.authenticator.authenticate(f"inconnu{n}", "x", attacker)
    throttled = await platform.authenticator.authenticate(login, PASSWORD, attacker)
    assert throttled.outcome is Outcome.THROTTLED
    assert (await platform.authenticator.authenticate(login, PASSWORD, IMAP)).outcome is Outcome.OK
    assert await _audit(platform, "auth.ip_throttled") == 1


async def test_suspended_and_disabled_cannot_sign_in(platform: Platform):
    login, _ = await active_agent(platform)
    await platform.accounts.apply(login, Event.SUSPEND, "support")
    assert (
        await platform.authenticator.authenticate(login, PASSWORD, PORTAL)
    ).outcome is Outcome.FAILED
    await platform.accounts.apply(login, Event.REINSTATE, "support")
    assert (
        await platform.authenticator.authenticate(login, PASSWORD, PORTAL)
    ).outcome is Outcome.OK
    await platform.accounts.apply(login, Event.DISABLE, "support")
    assert (
        await platform.authenticator.authenticate(login, PASSWORD, PORTAL)
    ).outcome is Outcome.FAILED


async def test_cache_is_voided_by_a_password_change(platform: Platform):
    login, account_id = await active_agent(platform)
    assert (await platform.authenticator.authenticate(login, PASSWORD, IMAP)).ok
    assert (await platform.authenticator.authenticate(login, PASSWORD, IMAP)).ok  # from the cache
    await platform.credentials.set_password(account_id, "Nouveau-Beauvais-2027!", login, "test")
    assert not (await platform.authenticator.authenticate(login, PASSWORD, IMAP)).ok
    assert (await platform.authenticator.authenticate(login, "Nouveau-Beauvais-2027!", IMAP)).ok


async def test_temporary_password_only_opens_activation_on_the_portal(platform: Platform, clock):
    from tests.fixtures.hr import export, numen, row
    from tests.fixtures.letters import temporary_password

    report = await platform.staff.run(export(row(numen=numen(5), prenom="Paul")), "rh.csv")
    login = report.created[0].login
    temp = await temporary_password(platform, login)
    assert (await platform.authenticator.authenticate(login, temp, IMAP)).outcome is Outcome.FAILED
    assert (
        await platform.authenticator.authenticate(login, temp, PORTAL)
    ).outcome is Outcome.MUST_ACTIVATE
    clock.advance(dt.timedelta(days=31))
    assert (
        await platform.authenticator.authenticate(login, temp, PORTAL)
    ).outcome is Outcome.TEMP_EXPIRED


async def test_expired_password_after_180_days(platform: Platform, clock):
    login, _ = await active_agent(platform)
    clock.advance(dt.timedelta(days=180))
    assert (
        await platform.authenticator.authenticate(login, PASSWORD, PORTAL)
    ).outcome is Outcome.PASSWORD_EXPIRED


async def test_expiry_warning_mailed_once_inside_the_window(platform: Platform, clock):
    login, _ = await active_agent(platform)
    clock.advance(dt.timedelta(days=164))  # 16 days before the 180-day expiry: not yet
    assert (await platform.authenticator.authenticate(login, PASSWORD, PORTAL)).ok
    clock.advance(dt.timedelta(days=2))  # 14 days left
    assert (await platform.authenticator.authenticate(login, PASSWORD, IMAP)).ok
    assert (await platform.authenticator.authenticate(login, PASSWORD, PORTAL)).ok
    warnings = [m for m in await platform.notifier.latest(50) if "expire" in m.subject]
    address = (await platform.accounts.show(login)).record.address
    assert sorted(m.recipient for m in warnings) == sorted([address, "perso1@example.org"])
    assert all("14 jours" in m.body for m in warnings)


def test_ip_keys_group_ipv6_hosts():
    from academail.identity.throttle import ip_key

    assert ip_key("2001:db8:1:2:aaaa::1") == ip_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert ip_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert ip_key("192.0.2.7") == "192.0.2.7"


async def test_parallel_guesses_all_count_towards_the_lock(platform: Platform):
    import asyncio

    login, _ = await active_agent(platform)
    ctxs = [AuthContext(Door.IMAP, f"192.0.2.{n}", "bot") for n in range(10)]
    await asyncio.gather(
        *(
            platform.authenticator.authenticate(login, f"Devine-{n}-2026!", ctx)
            for n, ctx in enumerate(ctxs)
        )
    )
    assert (await platform.accounts.show(login)).state is AccountState.LOCKED
