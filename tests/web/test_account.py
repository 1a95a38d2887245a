""" "My account" over HTTP on both stores: password change, recovery data, OTP enrolment
(forced for a school director), sign-in with OTP, application passwords, sessions,
and the device that keeps failing."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
import pyotp

from academail.identity.authenticate import AuthContext, Door, Outcome
from academail.runtime import Platform
from academail.web import create_app
from tests.fixtures.agents import PASSWORD, active_agent
from tests.web.conftest import BASE, Browser, code_in, last_mail

NEW = "Autre-Picardie-2027?"
IMAP = AuthContext(Door.IMAP, "198.51.100.7", "iPhone Mail (iOS 18)")
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"
)


@asynccontextmanager
async def browser(platform: Platform) -> AsyncIterator[Browser]:
    """Another browser (its own cookies) on the same platform."""
    transport = httpx2.ASGITransport(app=create_app(platform))
    async with httpx2.AsyncClient(
        transport=transport, base_url=BASE, follow_redirects=False
    ) as client:
        yield Browser(client)


async def sign_in(web: Browser, login: str, password: str = PASSWORD, next_: str = "/applications"):
    response = await web.submit(
        f"/connexion?next={next_}",
        "/connexion",
        {"identifiant": login, "mot_de_passe": password, "next": next_},
    )
    assert response.status_code == 303, response.text
    return response


def secret_on(page: str) -> str:
    match = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page)
    assert match, page
    return match.group(1).replace(" ", "")


def recovery_codes_on(page: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-9-]{14})</code></li>", page)


async def test_account_pages_need_a_signed_in_session(platform: Platform, web: Browser):
    for path in (
        "/compte",
        "/compte/mot-de-passe",
        "/compte/secours",
        "/compte/otp",
        "/compte/applications",
        "/compte/sessions",
    ):
        response = await web.get(path)
        assert (
            response.status_code == 303
            and response.headers["location"] == f"/connexion?next={path}"
        )


async def test_overview_shows_identity_masked_recovery_and_status(platform: Platform, web: Browser):
    login, account_id = await active_agent(platform)
    await sign_in(web, login, next_="/compte")
    page = await web.get("/compte")
    assert page.status_code == 200
    assert login in page.text and "Jeanne" in page.text and "@ac-amiens.fr" in page.text
    assert "p•••@example.org" in page.text and "perso1@example.org" not in page.text
    assert "désactivée" in page.text and 'aria-current="page"' in page.text
    assert "style=" not in page.text


async def test_change_password_ends_other_sessions_and_tells_the_agent(
    platform: Platform, web: Browser
):
    login, account_id = await active_agent(platform)
    await sign_in(web, login)
    async with browser(platform) as other:
        await sign_in(other, login)
        assert (await other.get("/compte")).status_code == 200
        page = await web.get("/compte/mot-de-passe")
        assert (
            'data-verifier="/mot-de-passe/verifier"' in page.text
            and "/static/password.js" in page.text
        )
        wrong = await web.submit(
            "/compte/mot-de-passe",
            "/compte/mot-de-passe",
            {"mot_de_passe_actuel": "Pas-le-bon-2026!", "mot_de_passe": NEW, "confirmation": NEW},
        )
        assert wrong.status_code == 422 and "mot de passe actuel est incorrect" in wrong.text
        weak = await web.submit(
            "/compte/mot-de-passe",
            "/compte/mot-de-passe",
            {"mot_de_passe_actuel": PASSWORD, "mot_de_passe": "court", "confirmation": "court"},
        )
        assert weak.status_code == 422 and "12 caractères" in weak.text
        done = await web.submit(
            "/compte/mot-de-passe",
            "/compte/mot-de-passe",
            {"mot_de_passe_actuel": PASSWORD, "mot_de_passe": NEW, "confirmation": NEW},
        )
        assert done.status_code == 303 and done.headers["location"] == "/compte?ok=mot-de-passe"
        assert (await web.get("/compte")).status_code == 200  # this session continues
        assert (await other.get("/compte")).status_code == 303  # the other one is over
    assert not (await platform.authenticator.authenticate(login, PASSWORD, IMAP)).ok
    assert (await platform.authenticator.authenticate(login, NEW, IMAP)).ok
    record = await platform.credentials.record(account_id)
    mail = await last_mail(platform, record.address)
    assert "a été changé" in mail and NEW not in mail
    assert len(await platform.second_factor.web_sessions(account_id)) == 1


async def test_recovery_change_needs_the_password_and_new_codes(platform: Platform, web: Browser):
    login, account_id = await active_agent(platform)
    await sign_in(web, login)
    fields = {"courriel": "nouvelle@example.net", "mobile": "07 11 22 33 44"}
    refused = await web.submit(
        "/compte/secours", "/compte/secours", {**fields, "mot_de_passe_actuel": "Pas-le-bon-2026!"}
    )
    assert refused.status_code == 422
    assert (await platform.credentials.record(account_id)).recovery_email == "perso1@example.org"
    sent = await web.submit(
        "/compte/secours", "/compte/secours", {**fields, "mot_de_passe_actuel": PASSWORD}
    )
    assert sent.status_code == 303
    assert "modifiées" in await last_mail(platform, "perso1@example.org")  # the old address is told
    page = await web.get("/compte/secours")
    assert (
        "Code reçu par SMS" in page.text
        and "n•••@example.net" in page.text
        and "+33 7 •• •• •• 44" in page.text
    )
    email_code = code_in(await last_mail(platform, "nouvelle@example.net"))
    sms_code = code_in(await last_mail(platform, "+33711223344"))
    bad = await web.submit(
        "/compte/secours",
        "/compte/secours/confirmer",
        {"code_courriel": email_code, "code_sms": "000000"},
    )
    assert bad.status_code == 422
    good = await web.submit(
        "/compte/secours",
        "/compte/secours/confirmer",
        {"code_courriel": email_code, "code_sms": sms_code},
    )
    assert good.status_code == 303
    record = await platform.credentials.record(account_id)
    assert record.recovery_email_verified_at and record.recovery_mobile_verified_at


async def test_enrol_otp_then_sign_in_with_a_code_or_a_recovery_code(
    platform: Platform, web: Browser, clock
):
    login, account_id = await active_agent(platform)
    await sign_in(web, login)
    page = await web.get("/compte/otp")
    assert '<svg role="img"' in page.text and "<title>" in page.text
    svg = page.text[page.text.index("<svg") : page.text.index("</svg>")]
    assert "style" not in svg
    seed = secret_on(page.text)
    assert secret_on((await web.get("/compte/otp")).text) == seed  # a reload keeps the secret
    code = pyotp.TOTP(seed).at(clock.now())
    no_password = await web.submit("/compte/otp", "/compte/otp/activer", {"code": code})
    assert no_password.status_code == 422
    done = await web.submit(
        "/compte/otp", "/compte/otp/activer", {"code": code, "mot_de_passe_actuel": PASSWORD}
    )
    assert done.status_code == 200
    codes = recovery_codes_on(done.text)
    assert len(codes) == 10
    assert "activée" in (await web.get("/compte/otp")).text
    assert not recovery_codes_on((await web.get("/compte/otp")).text)  # shown once
    await web.submit("/compte", "/deconnexion", {})

    async with browser(platform) as fresh:
        step = await sign_in(fresh, login)
        assert step.headers["location"] == "/connexion/otp"
        replay = await fresh.submit(
            "/connexion/otp", "/connexion/otp", {"code": code}
        )  # the enrolment step
        assert replay.status_code == 200 and "incorrect" in replay.text
        clock.advance(dt.timedelta(seconds=30))
        ok = await fresh.submit(
            "/connexion/otp", "/connexion/otp", {"code": pyotp.TOTP(seed).at(clock.now())}
        )
        assert ok.status_code == 303 and ok.headers["location"] == "/applications"

    async with browser(platform) as fresh:
        await sign_in(fresh, login)
        ok = await fresh.submit("/connexion/otp", "/connexion/otp", {"code": codes[0]})
        assert ok.status_code == 303 and ok.headers["location"] == "/applications"
    async with browser(platform) as fresh:
        await sign_in(fresh, login)
        again = await fresh.submit("/connexion/otp", "/connexion/otp", {"code": codes[0]})
        assert again.status_code == 200
    assert (await platform.second_factor.status(account_id)).recovery_codes_left == 9


async def test_a_school_director_must_enrol_before_anything_else(
    platform: Platform, web: Browser, clock
):
    login, account_id = await active_agent(platform, fonction="DIR_ECOLE")
    first = await sign_in(web, login)
    assert first.headers["location"] == "/compte/otp"
    for path in ("/applications", "/compte", "/compte/applications", "/"):
        response = await web.get(path, follow_redirects=True)
        assert str(response.url).endswith("/compte/otp"), path
        assert "Votre fonction impose la double authentification" in response.text
    page = await web.get("/compte/otp")
    assert (
        "Désactiver" not in page.text and "mdp-on" not in page.text
    )  # no password asked right after sign-in
    seed = secret_on(page.text)
    done = await web.submit(
        "/compte/otp", "/compte/otp/activer", {"code": pyotp.TOTP(seed).at(clock.now())}
    )
    assert done.status_code == 200 and len(recovery_codes_on(done.text)) == 10
    assert 'href="/applications"' in done.text
    assert any(c.startswith("__Host-academail=") for c in done.headers.get_list("set-cookie"))
    assert (await web.get("/applications")).status_code == 200
    otp_page = await web.get("/compte/otp")
    assert "ne peut pas être désactivée" in otp_page.text
    clock.advance(dt.timedelta(seconds=30))
    refused = await web.submit(
        "/compte/otp",
        "/compte/otp/desactiver",
        {"mot_de_passe_actuel": PASSWORD, "code": pyotp.TOTP(seed).at(clock.now())},
    )
    assert refused.status_code == 422
    assert (await platform.second_factor.status(account_id)).otp_enabled_at is not None


async def test_application_password_for_imap_shown_once_and_revocable(
    platform: Platform, web: Browser, clock
):
    login, account_id = await active_agent(platform)
    await sign_in(web, login)
    page = await web.get("/compte/applications")
    assert "IMAP" in page.text and "double authentification" in page.text
    created = await web.submit(
        "/compte/applications",
        "/compte/applications",
        {"nom": "Thunderbird bureau", "mot_de_passe_actuel": PASSWORD},
    )
    assert created.status_code == 200
    secret = re.search(r'<code class="secret">([a-z2-9 ]{24})</code>', created.text).group(1)
    listing = await web.get("/compte/applications")
    assert "<strong>Thunderbird bureau</strong>" in listing.text and secret not in listing.text
    assert "Nouveau mot de passe d'application" in await platform.store.run(
        lambda c: repr(c.exec_driver_sql("select subject from outbox").all())
    )

    seed_page = await web.get("/compte/otp")
    seed = secret_on(seed_page.text)
    await web.submit(
        "/compte/otp",
        "/compte/otp/activer",
        {"code": pyotp.TOTP(seed).at(clock.now()), "mot_de_passe_actuel": PASSWORD},
    )
    assert (await platform.authenticator.authenticate(login, secret, IMAP)).outcome is Outcome.OK
    assert (
        await platform.authenticator.authenticate(login, PASSWORD, IMAP)
    ).outcome is Outcome.FAILED
    overview = await web.get("/compte")
    assert "doit utiliser un mot de passe d'application" in overview.text

    reference = re.search(r'name="reference" value="([0-9a-f]{32})"', listing.text).group(1)
    revoked = await web.submit(
        "/compte/applications", "/compte/applications/revoquer", {"reference": reference}
    )
    assert revoked.status_code == 303
    assert (
        await platform.authenticator.authenticate(login, secret, IMAP)
    ).outcome is Outcome.FAILED
    assert "<strong>Thunderbird bureau</strong>" not in (await web.get("/compte/applications")).text


async def test_sessions_listed_and_revoked(platform: Platform, web: Browser):
    login, account_id = await active_agent(platform)
    await sign_in(web, login)
    async with browser(platform) as phone:
        phone.client.headers["user-agent"] = IPHONE_SAFARI
        await sign_in(phone, login)
        page = await web.get("/compte/sessions")
        assert "Safari · iPhone" in page.text and "cette session" in page.text
        hashes = re.findall(r'name="session" value="([0-9a-f]{64})"', page.text)
        sessions = await platform.second_factor.web_sessions(account_id)
        phone_hash = next(s.id_hash for s in sessions if "iPhone" in s.user_agent)
        assert len(hashes) == 2 and phone_hash in hashes
        revoked = await web.submit(
            "/compte/sessions", "/compte/sessions/revoquer", {"session": phone_hash}
        )
        assert revoked.status_code == 303
        assert (await phone.get("/compte")).status_code == 303  # its cookie no longer works
        assert (await web.get("/compte")).status_code == 200

        await sign_in(phone, login)
        everyone = await web.submit("/compte/sessions", "/compte/sessions/autres", {})
        assert everyone.status_code == 303
        assert (await phone.get("/compte")).status_code == 303
    me = [s.id_hash for s in await platform.second_factor.web_sessions(account_id)]
    out = await web.submit("/compte/sessions", "/compte/sessions/revoquer", {"session": me[0]})
    assert out.status_code == 303 and out.headers["location"] == "/connexion"
    assert (await web.get("/compte")).status_code == 303


async def test_lost_phone_revokes_everything_else(platform: Platform, web: Browser):
    login, account_id = await active_agent(platform)
    app = await platform.second_factor.create_app_password(account_id, "iPhone")
    await sign_in(web, login)
    async with browser(platform) as phone:
        await sign_in(phone, login)
        lost = await web.submit("/compte/sessions", "/compte/appareil-perdu", {})
        assert (
            lost.status_code == 303 and lost.headers["location"] == "/compte/mot-de-passe?ok=perdu"
        )
        assert (await phone.get("/compte")).status_code == 303
    assert not (await platform.authenticator.authenticate(login, app.secret, IMAP)).ok
    page = await web.get("/compte/mot-de-passe?ok=perdu")
    assert "Changez maintenant votre mot de passe" in page.text


async def test_the_failing_phone_appears_on_the_account_page(
    platform: Platform, web: Browser, clock
):
    login, account_id = await active_agent(platform)
    assert (await platform.authenticator.authenticate(login, PASSWORD, IMAP)).ok
    clock.advance(dt.timedelta(hours=2))
    await sign_in(web, login)
    await web.submit(
        "/compte/mot-de-passe",
        "/compte/mot-de-passe",
        {"mot_de_passe_actuel": PASSWORD, "mot_de_passe": NEW, "confirmation": NEW},
    )
    clock.advance(dt.timedelta(minutes=3))
    for _ in range(4):
        assert not (await platform.authenticator.authenticate(login, PASSWORD, IMAP)).ok
    page = await web.get("/compte")
    assert "Des appareils échouent à se connecter" in page.text
    assert "iPhone Mail (iOS 18)" in page.text and "198.51.100.7" in page.text
    assert "utilise encore votre ancien mot de passe" in page.text
    assert clock.now().month == 9  # summer time: Paris is UTC+2
    assert (clock.now() + dt.timedelta(hours=2)).strftime("%d/%m/%Y %H:%M") in page.text
    device = next(d for d in await platform.second_factor.devices(account_id) if d.problem)
    forgotten = await web.submit("/compte", "/compte/appareils/oublier", {"appareil": device.id})
    assert forgotten.status_code == 303
    assert "Des appareils échouent" not in (await web.get("/compte")).text
