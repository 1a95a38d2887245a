"""The second-factor service on both stores: TOTP enrolment and replay, recovery codes,
application passwords through THE sign-in path, devices, "I lost my phone"."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
import sqlalchemy as sa

from academail.core.errors import InvalidInput, LimitReached, NoPermission
from academail.identity.authenticate import AuthContext, Door, Outcome
from academail.identity.second_factor import (
    APP_PASSWORD_ALPHABET,
    compact_app_password,
    new_app_password,
)
from academail.runtime import Platform
from academail.store import outbox
from academail.store.tables import app_passwords, audit_log, credentials, recovery_codes
from tests.fixtures.agents import PASSWORD, active_agent

IMAP = AuthContext(Door.IMAP, "192.0.2.10", "iPhone Mail")
PORTAL = AuthContext(Door.PORTAL, "192.0.2.20", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")


async def _enrol(platform: Platform, account_id: str, clock) -> tuple[str, list[str]]:
    enrolment = await platform.second_factor.enrolment(account_id)
    code = pyotp.TOTP(enrolment.secret).at(clock.now())
    codes = await platform.second_factor.confirm_enrolment(account_id, enrolment.sealed, code)
    return enrolment.secret, codes


async def _scalar(platform: Platform, query):
    return await platform.store.run(lambda c: c.execute(query).scalar_one())


def test_app_passwords_are_readable_and_long_enough():
    secret = new_app_password()
    groups = secret.split(" ")
    assert len(groups) == 5 and all(len(g) == 4 for g in groups)
    assert set(compact_app_password(secret)) <= set(APP_PASSWORD_ALPHABET)
    assert len(APP_PASSWORD_ALPHABET) == 32 and not set("01lo") & set(APP_PASSWORD_ALPHABET)
    assert len(compact_app_password(secret)) * 5 >= 80  # bits
    assert compact_app_password(" ABCD efgh\tIJKM ") == "abcdefghijkm"
    assert len({new_app_password() for _ in range(50)}) == 50


async def test_enrolment_shows_a_qr_without_inline_style_and_keeps_its_secret(
    platform: Platform, clock
):
    _, account_id = await active_agent(platform)
    first = await platform.second_factor.enrolment(account_id)
    assert first.svg.startswith("<svg") and "style" not in first.svg and "<title>" in first.svg
    assert first.uri.startswith("otpauth://totp/") and f"secret={first.secret}" in first.uri
    assert first.secret not in first.sealed  # the pending secret travels sealed
    again = await platform.second_factor.enrolment(account_id, first.sealed)
    assert again.secret == first.secret and again.sealed == first.sealed
    fresh = await platform.second_factor.enrolment(account_id, "nonsense")
    assert fresh.secret != first.secret


async def test_wrong_code_or_foreign_secret_does_not_enable(platform: Platform, clock):
    _, account_id = await active_agent(platform, 1)
    _, other_id = await active_agent(platform, 2)
    enrolment = await platform.second_factor.enrolment(account_id)
    right = pyotp.TOTP(enrolment.secret).at(clock.now())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with pytest.raises(InvalidInput):
        await platform.second_factor.confirm_enrolment(account_id, enrolment.sealed, wrong)
    with pytest.raises(InvalidInput):  # sealed for another account: does not open
        await platform.second_factor.confirm_enrolment(other_id, enrolment.sealed, right)
    assert (await platform.second_factor.status(account_id)).otp_enabled_at is None
    assert (await platform.second_factor.status(other_id)).otp_enabled_at is None


async def test_enrolment_stores_a_sealed_seed_and_ten_hashed_codes(platform: Platform, clock):
    login, account_id = await active_agent(platform)
    seed, codes = await _enrol(platform, account_id, clock)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", c) for c in codes)
    row = await platform.store.run(
        lambda c: (
            c.execute(sa.select(credentials).where(credentials.c.account_id == account_id))
            .mappings()
            .one()
        )
    )
    assert row["otp_enabled_at"] == clock.now() and seed.encode() not in row["otp_secret_sealed"]
    stored = await platform.store.run(
        lambda c: [
            r.code_hash
            for r in c.execute(
                sa.select(recovery_codes).where(recovery_codes.c.account_id == account_id)
            )
        ]
    )
    assert len(stored) == 10 and not set(codes) & set(stored)
    status = await platform.second_factor.status(account_id)
    assert status.otp_enabled_at == clock.now() and status.recovery_codes_left == 10
    mails = await platform.store.run(lambda c: outbox.latest(c, None, 5))
    assert any("Double authentification activée" in m.subject for m in mails)
    assert not any(code in m.body for m in mails for code in codes)
    with pytest.raises(InvalidInput):  # already on: a second enrolment cannot swap the seed
        await _enrol(platform, account_id, clock)
    _ = login


async def test_the_enrolment_code_cannot_be_replayed_and_recovery_codes_work_once(
    platform: Platform, clock
):
    _, account_id = await active_agent(platform)
    seed, codes = await _enrol(platform, account_id, clock)
    same_step = pyotp.TOTP(seed).at(clock.now())
    assert not await platform.authenticator.verify_second_factor(account_id, same_step, PORTAL)
    clock.advance(dt.timedelta(seconds=30))
    next_code = pyotp.TOTP(seed).at(clock.now())
    assert await platform.authenticator.verify_second_factor(account_id, next_code, PORTAL)
    assert not await platform.authenticator.verify_second_factor(account_id, next_code, PORTAL)
    assert await platform.authenticator.verify_second_factor(account_id, codes[0].upper(), PORTAL)
    assert not await platform.authenticator.verify_second_factor(account_id, codes[0], PORTAL)
    assert (await platform.second_factor.status(account_id)).recovery_codes_left == 9


async def test_new_recovery_codes_replace_the_old_ones(platform: Platform, clock):
    _, account_id = await active_agent(platform)
    _, old = await _enrol(platform, account_id, clock)
    with pytest.raises(InvalidInput):
        await platform.second_factor.regenerate_recovery_codes(
            account_id, "Pas-le-bon-2026!", PORTAL
        )
    new = await platform.second_factor.regenerate_recovery_codes(account_id, PASSWORD, PORTAL)
    assert len(new) == 10 and not set(new) & set(old)
    assert not await platform.authenticator.verify_second_factor(account_id, old[1], PORTAL)
    assert await platform.authenticator.verify_second_factor(account_id, new[1], PORTAL)


async def test_application_password_is_the_only_protocol_secret_once_otp_is_on(
    platform: Platform, clock
):
    login, account_id = await active_agent(platform)
    assert (await platform.authenticator.authenticate(login, PASSWORD, IMAP)).outcome is Outcome.OK
    created = await platform.second_factor.create_app_password(account_id, "  iPhone   de Jeanne ")
    assert created.name == "iPhone de Jeanne"
    for typed in (created.secret, compact_app_password(created.secret), created.secret.upper()):
        result = await platform.authenticator.authenticate(login, typed, IMAP)
        assert result.outcome is Outcome.OK and result.via_app_password, typed
    await _enrol(platform, account_id, clock)
    assert (
        await platform.authenticator.authenticate(login, PASSWORD, IMAP)
    ).outcome is Outcome.FAILED
    assert (await platform.authenticator.authenticate(login, created.secret, IMAP)).ok
    listed = await platform.second_factor.app_passwords(account_id)
    assert [p.name for p in listed] == ["iPhone de Jeanne"] and listed[0].last_ip == IMAP.remote_ip
    stored = await _scalar(platform, sa.select(app_passwords.c.secret_hash))
    assert compact_app_password(created.secret) not in stored
    assert await platform.second_factor.revoke_app_password(account_id, created.id)
    assert not await platform.second_factor.revoke_app_password(account_id, created.id)
    assert (
        await platform.authenticator.authenticate(login, created.secret, IMAP)
    ).outcome is Outcome.FAILED
    assert await platform.second_factor.app_passwords(account_id) == []


async def test_application_password_of_another_account_is_refused(platform: Platform):
    login, _ = await active_agent(platform, 1)
    _, other_id = await active_agent(platform, 2)
    theirs = await platform.second_factor.create_app_password(other_id, "Thunderbird")
    assert (
        await platform.authenticator.authenticate(login, theirs.secret, IMAP)
    ).outcome is Outcome.FAILED


async def test_application_passwords_need_a_name_and_are_limited(platform: Platform):
    _, account_id = await active_agent(platform)
    with pytest.raises(InvalidInput):
        await platform.second_factor.create_app_password(account_id, "   ")
    for n in range(20):
        await platform.second_factor.create_app_password(account_id, f"Appareil {n}")
    with pytest.raises(LimitReached):
        await platform.second_factor.create_app_password(account_id, "Un de trop")


async def test_disabling_otp_needs_password_and_code_and_a_role_that_allows_it(
    platform: Platform, clock
):
    _, account_id = await active_agent(platform, 1)
    seed, _ = await _enrol(platform, account_id, clock)
    clock.advance(dt.timedelta(seconds=30))
    code = pyotp.TOTP(seed).at(clock.now())
    with pytest.raises(InvalidInput):
        await platform.second_factor.disable_otp(account_id, "Pas-le-bon-2026!", code, PORTAL)
    with pytest.raises(InvalidInput):
        await platform.second_factor.disable_otp(account_id, PASSWORD, "000000", PORTAL)
    clock.advance(dt.timedelta(seconds=30))
    await platform.second_factor.disable_otp(
        account_id, PASSWORD, pyotp.TOTP(seed).at(clock.now()), PORTAL
    )
    status = await platform.second_factor.status(account_id)
    assert status.otp_enabled_at is None and status.recovery_codes_left == 0

    _, director_id = await active_agent(platform, 2, fonction="DIR_ECOLE")
    assert (await platform.second_factor.status(director_id)).otp_required
    seed, _ = await _enrol(platform, director_id, clock)
    clock.advance(dt.timedelta(seconds=30))
    with pytest.raises(NoPermission):
        await platform.second_factor.disable_otp(
            director_id, PASSWORD, pyotp.TOTP(seed).at(clock.now()), PORTAL
        )


async def test_reauthentication_counts_towards_the_lockout(platform: Platform):
    login, account_id = await active_agent(platform)
    for n in range(5):
        with pytest.raises(InvalidInput):
            await platform.second_factor.reauthenticate(account_id, f"Mauvais-{n}-2026!", PORTAL)
    assert (await platform.accounts.show(login)).state.value == "locked"


async def test_the_phone_with_the_old_password_is_named(platform: Platform, clock):
    login, account_id = await active_agent(platform)
    assert (await platform.authenticator.authenticate(login, PASSWORD, IMAP)).ok
    clock.advance(dt.timedelta(hours=1))
    await platform.credentials.set_password(account_id, "Autre-Picardie-2027?", login, "change")
    clock.advance(dt.timedelta(minutes=5))
    for _ in range(3):
        assert not (await platform.authenticator.authenticate(login, PASSWORD, IMAP)).ok
    devices = await platform.second_factor.devices(account_id)
    phone = next(d for d in devices if d.client == "iPhone Mail")
    assert phone.problem == "old_password" and phone.failures == 3 and phone.ip == IMAP.remote_ip
    assert phone.last_failure_at == clock.now()
    assert await platform.second_factor.forget_device(account_id, phone.id)
    assert all(d.id != phone.id for d in await platform.second_factor.devices(account_id))


async def test_an_old_failure_is_not_flagged(platform: Platform, clock):
    login, account_id = await active_agent(platform)
    assert not (await platform.authenticator.authenticate(login, "Faux-mot-2026!", IMAP)).ok
    assert [d.problem for d in await platform.second_factor.devices(account_id)] == [
        "wrong_password"
    ]
    clock.advance(dt.timedelta(minutes=1))
    await platform.credentials.set_password(account_id, "Autre-Picardie-2027?", login, "change")
    clock.advance(dt.timedelta(days=15))
    assert [d.problem for d in await platform.second_factor.devices(account_id)] == [""]


async def test_lost_phone_revokes_other_sessions_and_every_application_password(platform: Platform):
    login, account_id = await active_agent(platform)
    here = await platform.sessions.start(account_id, "full", "192.0.2.1", "Firefox")
    there = await platform.sessions.start(account_id, "full", "192.0.2.2", "Safari iPhone")
    secrets_ = [
        (await platform.second_factor.create_app_password(account_id, n)).secret
        for n in ("iPhone", "iPad")
    ]
    assert await platform.second_factor.lost_device(account_id, here.id_hash, PORTAL) == 2
    for secret in secrets_:
        assert not (await platform.authenticator.authenticate(login, secret, IMAP)).ok
    assert await platform.sessions.load(there.raw_id) is None
    assert await platform.sessions.load(here.raw_id) is not None
    assert [s.id_hash for s in await platform.second_factor.web_sessions(account_id)] == [
        here.id_hash
    ]


async def test_audit_names_actions_but_never_secrets(platform: Platform, clock):
    login, account_id = await active_agent(platform)
    _, codes = await _enrol(platform, account_id, clock)
    created = await platform.second_factor.create_app_password(account_id, "Thunderbird bureau")
    await platform.second_factor.revoke_app_password(account_id, created.id)
    rows = await platform.store.run(
        lambda c: c.execute(
            sa.select(audit_log.c.action, audit_log.c.details).where(audit_log.c.target == login)
        ).all()
    )
    actions = {r.action for r in rows}
    assert {"otp.enabled", "app_password.created", "app_password.revoked"} <= actions
    text = repr(rows)
    assert created.secret not in text and compact_app_password(created.secret) not in text
    assert not any(code in text for code in codes) and PASSWORD not in text
