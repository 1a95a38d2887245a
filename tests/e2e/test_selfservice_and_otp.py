"""Browser journeys: NUMEN + date of birth recovery with the captcha, the reset link,
and a school director forced to enrol OTP, then signing in with a code."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
from playwright.async_api import Page, expect

from academail.identity.authenticate import AuthContext, Door
from academail.runtime import Platform
from academail.store import captcha as captcha_repo
from academail.store import outbox
from tests.fixtures.agents import PASSWORD, active_agent
from tests.fixtures.hr import numen

NEW = "Oise-Compiegne-2027-foret!"


async def _captcha_answer(platform: Platform, page: Page) -> str:
    """The expected answer, read from the server's store (no bypass in production code)."""
    challenge = await page.locator("input[name=captcha_id]").get_attribute("value")
    assert challenge
    answer = await platform.store.run(
        lambda c: captcha_repo.answer_of(c, challenge, platform.clock.now())
    )
    assert answer
    return answer


async def test_numen_recovery_with_captcha(platform: Platform, live: str, page: Page):
    login, _ = await active_agent(platform)
    await page.goto(f"{live}/connexion")
    await page.get_by_role(
        "link", name="Je ne connais pas mon identifiant ou mon mot de passe"
    ).click()
    await page.get_by_label("NUMEN").fill(numen(1))
    await page.get_by_label("Date de naissance").fill("1980-05-12")
    await expect(page.locator("img[src$='.png']")).to_be_visible()
    await page.get_by_label("Les 6 chiffres").fill(await _captcha_answer(platform, page))
    await page.get_by_role("button", name="Continuer").click()
    await expect(page.get_by_text(login).first).to_be_visible()
    await page.get_by_label("Nouveau mot de passe").fill(NEW)
    await page.get_by_label("Confirmez le mot de passe").fill(NEW)
    await page.get_by_role("button", name="Enregistrer le mot de passe").click()
    await expect(page.get_by_role("heading", name="Mot de passe enregistré")).to_be_visible()
    assert (await platform.authenticator.authenticate(login, NEW, _ctx())).ok


async def test_reset_link(platform: Platform, live: str, page: Page):
    login, _ = await active_agent(platform)
    await page.goto(f"{live}/assistance/mot-de-passe-oublie")
    await page.get_by_label("Identifiant ou adresse électronique académique").fill(login)
    await page.get_by_role("button", name="Recevoir un lien").click()
    await expect(page.get_by_role("status").or_(page.locator(".alerte")).first).to_contain_text(
        "lien"
    )
    mails = await platform.store.run(lambda c: outbox.latest(c, "perso1@example.org", limit=1))
    link = re.search(r"https?://\S+/assistance/reinitialiser\?jeton=\S+", mails[0].body)
    assert link
    path = link.group(0).split("/assistance/", 1)[1]
    await page.goto(f"{live}/assistance/{path}")
    await page.get_by_label("Nouveau mot de passe").fill(NEW)
    await page.get_by_label("Confirmez le mot de passe").fill(NEW)
    await page.get_by_role("button", name="Enregistrer le mot de passe").click()
    await expect(page.get_by_role("heading", name="Mot de passe enregistré")).to_be_visible()
    # Single use: the same link a second time is dead.
    await page.goto(f"{live}/assistance/{path}")
    await expect(page.get_by_role("heading", name="Lien invalide ou expiré")).to_be_visible()


async def test_director_must_enrol_otp_then_signs_in_with_it(
    platform: Platform, live: str, page: Page, clock
):
    login, _ = await active_agent(
        platform, 3, fonction="DIR_ECOLE", prenom="Hélène", nom_usage="Carpentier"
    )
    await page.goto(f"{live}/connexion")
    await page.get_by_label("Identifiant ou adresse électronique").fill(login)
    await page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.get_by_role("heading", name="Double authentification")).to_be_visible()
    await page.goto(f"{live}/applications")  # nothing else before enrolment
    await expect(page).to_have_url(re.compile(r"/compte/otp$"))
    secret = (await page.locator("[data-otp-secret], .secret").first.inner_text()).replace(" ", "")
    totp = pyotp.TOTP(secret)
    await page.get_by_label("Code à 6 chiffres", exact=True).fill(totp.at(clock.now()))
    await page.get_by_role("button", name="Activer la double authentification").click()
    await expect(page.get_by_text("codes de secours").first).to_be_visible()

    await page.context.clear_cookies()
    clock.advance(dt.timedelta(seconds=60))  # the next time step: a code is never used twice
    await page.goto(f"{live}/connexion")
    await page.get_by_label("Identifiant ou adresse électronique").fill(login)
    await page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.get_by_label(re.compile("Code à 6 chiffres")).fill(totp.at(clock.now()))
    await page.get_by_role("button", name="Valider").click()
    await expect(page.get_by_role("heading", name="Mes applications")).to_be_visible()


def _ctx() -> AuthContext:
    return AuthContext(Door.PORTAL, "192.0.2.50", "test")
