"""Regression tests of the portal security review, one block per finding, on both stores.

3. The live password check is no oracle for the current or a previous password.
10. Every recovery path revokes what an intruder may have set up: application
    passwords, OIDC tokens, sessions (and the credentials cache).
11. Every use of the NUMEN path is mailed to the agent, not only a new password.
13. The CSRF origin check compares scheme, host and port; resending confirmation
    codes is limited and does not give the tries back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import pytest

from academail.core.errors import LimitReached
from academail.identity import Event
from academail.identity import credentials as credentials_mod
from academail.identity.authenticate import AuthContext, Door, Outcome
from academail.identity.credentials import LIVE_CHECKS, RESENDS, PasswordRejected
from academail.identity.sessions import Session
from academail.letters import LetterSelection
from academail.runtime import Platform
from academail.store.repos import sso as sso_repo
from academail.store.repos import tokens as token_repo
from academail.web.security.csrf import same_origin
from tests.fixtures.agents import PASSWORD, active_agent
from tests.fixtures.hr import numen
from tests.web.conftest import BASE, Browser, code_in, last_mail
from tests.web.test_account import sign_in
from tests.web.test_selfservice import NEW_PASSWORD, identify, link_in

IMAP = AuthContext(Door.IMAP, "198.51.100.7", "iPhone Mail (iOS 18)")
PORTAL = AuthContext(Door.PORTAL, "192.0.2.1")


# -- 3. the live check is no oracle ------------------------------------------------------------
async def _live(web: Browser, candidate: str, page: str = "/compte/mot-de-passe"):
    form = await web.get(page)
    return await web.client.post(
        "/mot-de-passe/verifier",
        data={"csrf": web.token(form.text), "mot_de_passe": candidate},
        headers={"origin": BASE},
    )


async def test_live_check_never_tells_the_current_password(
    platform: Platform, web: Browser, monkeypatch: pytest.MonkeyPatch
):
    login, account_id = await active_agent(platform)
    await sign_in(web, login)
    verified: list[str] = []

    async def spy(encoded: str, password: str) -> bool:
        verified.append(password)
        return True  # as if every candidate were a previous password

    monkeypatch.setattr(credentials_mod, "verify_off_loop", spy)
    right, other = await _live(web, PASSWORD), await _live(web, "Autre-Picardie-2027?")
    assert right.status_code == other.status_code == 200
    assert right.json() == other.json() == {"reasons": []}
    assert verified == [], "the live check ran argon2 against the stored hashes"
    # On submit the history still counts.
    with pytest.raises(PasswordRejected):
        await platform.credentials.set_password(account_id, PASSWORD, login, "test")


async def test_live_check_is_limited_per_session_and_bounded(
    platform: Platform, web: Browser, clock, monkeypatch: pytest.MonkeyPatch
):
    login, _ = await active_agent(platform)
    await sign_in(web, login)
    seen: list[int] = []
    real = credentials_mod.policy_mod.check_password

    def measuring(password: str, *args: object) -> object:
        seen.append(len(password))
        return real(password, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(credentials_mod.policy_mod, "check_password", measuring)
    assert (await _live(web, "a" * 100_000)).status_code == 200
    assert seen and max(seen) <= credentials_mod.MAX_PASSWORD_LENGTH
    for _ in range(LIVE_CHECKS.limit - 1):
        assert (await _live(web, "court")).status_code == 200
    refused = await _live(web, "court")
    assert refused.status_code == 429 and refused.json()["reasons"]
    clock.advance(LIVE_CHECKS.window)
    assert (await _live(web, "court")).status_code == 200


# -- 10. recovery takes the account back -------------------------------------------------------
@dataclass(frozen=True)
class Access:
    """What an intruder would keep: a mail client's secret, an application's token."""

    app_secret: str
    token_hash: str
    session: Session


async def plant_access(platform: Platform, login: str, account_id: str) -> Access:
    secret = (await platform.second_factor.create_app_password(account_id, "intrus")).secret
    assert (await platform.authenticator.authenticate(login, secret, IMAP)).ok  # now cached
    session = await platform.sessions.start(account_id, "full", "203.0.113.66", "Intrus")
    token = sso_repo.TokenRow(
        token_hash=secrets.token_hex(32),
        client_id="webmail",
        account_id=account_id,
        session_hash=session.id_hash,
        scope="openid profile",
        expires_at=platform.clock.now() + dt.timedelta(hours=1),
        revoked_at=None,
    )
    await platform.store.run(lambda c: sso_repo.add_token(c, token))
    return Access(secret, token.token_hash, session)


async def assert_gone(platform: Platform, login: str, access: Access) -> None:
    result = await platform.authenticator.authenticate(login, access.app_secret, IMAP)
    assert result.outcome is not Outcome.OK, "the application password still works"
    token = await platform.store.run(lambda c: sso_repo.get_token(c, access.token_hash))
    assert token is not None and token.revoked_at is not None, "the OIDC token still works"
    assert await platform.sessions.load(access.session.raw_id) is None


async def test_reset_link_revokes_the_intruders_access(platform: Platform, web: Browser):
    login, account_id = await active_agent(platform)
    access = await plant_access(platform, login, account_id)
    await platform.recovery.request_reset(login, "192.0.2.1")
    await web.get(
        link_in(await last_mail(platform, "perso1@example.org"), "/assistance/reinitialiser")
    )
    done = await web.submit(
        "/assistance/reinitialiser",
        "/assistance/reinitialiser",
        {"mot_de_passe": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
    )
    assert done.status_code == 303
    await assert_gone(platform, login, access)


async def test_numen_recovery_revokes_the_intruders_access(platform: Platform, web: Browser):
    login, account_id = await active_agent(platform)
    access = await plant_access(platform, login, account_id)
    assert (await identify(platform, web, "/assistance/identifiants", numen(1))).status_code == 303
    done = await web.submit(
        "/assistance/identifiants/mot-de-passe",
        "/assistance/identifiants/mot-de-passe",
        {"mot_de_passe": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
    )
    assert done.status_code == 303
    await assert_gone(platform, login, access)


async def test_it_was_not_me_revokes_the_intruders_access(platform: Platform, web: Browser):
    login, account_id = await active_agent(platform)
    access = await plant_access(platform, login, account_id)
    raw = secrets.token_urlsafe(32)  # the link of a lockout mail
    now = platform.clock.now()
    digest = hashlib.sha256(raw.encode()).hexdigest()
    await platform.store.run(
        lambda c: token_repo.add(c, digest, "not_me", account_id, now, now + dt.timedelta(days=7))
    )
    done = await web.submit(f"/pas-moi?jeton={raw}", "/pas-moi", {"jeton": raw})
    assert done.status_code == 200
    await assert_gone(platform, login, access)
    # Support puts the account back: the intruder's application password stays dead.
    await platform.accounts.apply(login, Event.REINSTATE, "support")
    result = await platform.authenticator.authenticate(login, access.app_secret, IMAP)
    assert result.outcome is not Outcome.OK


async def test_a_new_letter_revokes_the_intruders_access(platform: Platform):
    login, account_id = await active_agent(platform)
    access = await plant_access(platform, login, account_id)
    before = (await platform.credentials.record(account_id)).generation
    await platform.letters.issue(
        LetterSelection(logins=(login,)), "support", deliver=lambda _: None
    )
    assert (await platform.credentials.record(account_id)).generation == before + 1
    await assert_gone(platform, login, access)


async def test_lost_phone_keeps_the_tokens_of_this_session_only(platform: Platform):
    login, account_id = await active_agent(platform)
    access = await plant_access(platform, login, account_id)
    here = await platform.sessions.start(account_id, "full", "192.0.2.1", "Firefox")
    mine = sso_repo.TokenRow(
        secrets.token_hex(32),
        "webmail",
        account_id,
        here.id_hash,
        "openid",
        platform.clock.now() + dt.timedelta(hours=1),
        None,
    )
    await platform.store.run(lambda c: sso_repo.add_token(c, mine))
    await platform.second_factor.lost_device(account_id, here.id_hash, PORTAL)
    await assert_gone(platform, login, access)
    kept = await platform.store.run(lambda c: sso_repo.get_token(c, mine.token_hash))
    assert kept is not None and kept.revoked_at is None


# -- 11. each use of the NUMEN path is mailed --------------------------------------------------
@pytest.mark.parametrize(
    ("page", "named"),
    [
        ("/assistance/identifiants", "Je ne connais pas mon identifiant"),
        ("/assistance/parametres", "Mes paramètres de messagerie"),
    ],
)
async def test_each_numen_identification_is_mailed(
    platform: Platform, web: Browser, page: str, named: str
):
    login, _ = await active_agent(platform)
    address = (await platform.accounts.show(login)).record.address
    assert (await identify(platform, web, page, numen(1))).status_code == 303
    for recipient in (address, "perso1@example.org"):
        mail = await last_mail(platform, recipient)
        assert "NUMEN" in mail and named in mail and "127.0.0.1" in mail, mail
        assert numen(1) not in mail
    before = await last_mail(platform, address)
    failed = await identify(platform, web, page, numen(1), "01/01/1970")
    assert failed.status_code == 200
    assert await last_mail(platform, address) == before, "a failure mails nobody"


# -- 13. CSRF origin and resend limits -----------------------------------------------------------
@pytest.mark.parametrize(
    ("origin", "status"),
    [
        (BASE, 200),
        ("https://portail.test:443", 200),
        ("http://portail.test", 403),
        ("https://portail.test:8443", 403),
        ("https://evil@portail.test", 403),
        ("null", 403),
        ("portail.test", 403),
    ],
)
async def test_origin_must_match_scheme_host_and_port(web: Browser, origin: str, status: int):
    page = await web.get("/connexion")
    answer = await web.client.post(
        "/connexion",
        data={"csrf": web.token(page.text), "identifiant": "x", "mot_de_passe": "y"},
        headers={"origin": origin},
    )
    assert answer.status_code == status


def test_same_origin_compares_the_whole_origin():
    assert same_origin("https://Portail.test", "https", "portail.test")
    assert same_origin("http://127.0.0.1:8080", "http", "127.0.0.1:8080")
    assert same_origin("https://[::1]:8443", "https", "[::1]:8443")
    assert not same_origin("http://portail.test", "https", "portail.test")
    assert not same_origin("https://portail.test", "http", "portail.test")
    assert not same_origin("https://portail.test.evil.example", "https", "portail.test")
    assert not same_origin("https://portail.test", "https", "")


async def test_account_resend_is_limited(platform: Platform, web: Browser, clock):
    login, _ = await active_agent(platform)
    await sign_in(web, login)
    for _ in range(RESENDS.limit):
        sent = await web.submit("/compte/secours", "/compte/secours/renvoyer", {})
        assert sent.status_code == 303
    refused = await web.submit("/compte/secours", "/compte/secours/renvoyer", {})
    assert refused.status_code == 429 and "Trop de tentatives" in refused.text
    clock.advance(RESENDS.window)
    assert (await web.submit("/compte/secours", "/compte/secours/renvoyer", {})).status_code == 303


async def test_activation_resend_is_limited(platform: Platform, web: Browser):
    from tests.fixtures.hr import export, row
    from tests.fixtures.letters import temporary_password

    report = await platform.staff.run(export(row(numen=numen(3))), "rh.csv")
    login = report.created[0].login
    temporary = await temporary_password(platform, login)
    await web.submit("/connexion", "/connexion", {"identifiant": login, "mot_de_passe": temporary})
    await web.submit(
        "/activation",
        "/activation/mot-de-passe",
        {"mot_de_passe": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
    )
    await web.submit("/activation", "/activation/secours", {"courriel": "moi@example.org"})
    for _ in range(RESENDS.limit):
        assert (await web.submit("/activation", "/activation/renvoyer", {})).status_code == 303
    refused = await web.submit("/activation", "/activation/renvoyer", {})
    assert refused.status_code == 429 and "Trop de tentatives" in refused.text


async def test_a_new_code_does_not_give_the_tries_back(platform: Platform):
    login, account_id = await active_agent(platform)
    credentials = platform.credentials
    await credentials.set_recovery(account_id, "nouvelle@example.net", "")
    for _ in range(4):
        assert not await credentials.confirm(account_id, "000000", None)
    await credentials.resend_codes(account_id)
    code = code_in(await last_mail(platform, "nouvelle@example.net"))
    wrong = "000000" if code != "000000" else "111111"
    assert not await credentials.confirm(account_id, wrong, None)  # the fifth wrong try
    assert not await credentials.confirm(account_id, code, None), "the 5 tries came back"
    with pytest.raises(LimitReached):
        for _ in range(RESENDS.limit):
            await credentials.resend_codes(account_id)
