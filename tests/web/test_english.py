"""English second, on both stores: the language a visitor chose (``/langue/en``, the
``lang`` cookie, or ``Accept-Language``) gives English pages whose ``<html lang>``
says so (WCAG 2.1 SC 3.1.1), including the texts code hands to the pages (errors,
policy rules, notices); without a choice the portal stays French."""

from __future__ import annotations

import re

from academail.identity import messages
from academail.runtime import Platform
from academail.web import i18n
from tests.fixtures.agents import PASSWORD, active_agent
from tests.fixtures.hr import export, numen, row
from tests.fixtures.letters import temporary_password
from tests.web.conftest import BASE, Browser
from tests.web.test_selfservice import identify

ENGLISH_ACCEPT = {"accept-language": "en-GB,en;q=0.9"}


def html_lang(page: str) -> str:
    match = re.search(r'<html lang="([a-z]+)">', page)
    assert match, "no lang on <html>"
    return match.group(1)


def english(text: str) -> str:
    """The catalog's English for a French id, as a page prints it."""
    i18n.use_language("en")
    try:
        return i18n.gettext(text)
    finally:
        i18n.use_language("fr")


async def test_french_without_a_choice(web: Browser):
    page = await web.get("/connexion")
    assert html_lang(page.text) == "fr"
    assert "Se connecter" in page.text and "Mot de passe oublié" in page.text
    assert "Sign in" not in page.text


async def test_accept_language_gives_english(web: Browser):
    page = await web.get("/connexion", headers=ENGLISH_ACCEPT)
    assert html_lang(page.text) == "en"
    assert "Username or e-mail address" in page.text and "Forgotten password" in page.text
    assert "Need help?" in page.text and 'lang="fr" hreflang="fr">Français' in page.text
    assert "Se connecter" not in page.text and "Besoin d'aide" not in page.text


async def test_the_language_link_sets_the_cookie_that_wins(web: Browser):
    chosen = await web.get("/langue/en?next=/connexion")
    assert chosen.status_code == 303 and chosen.headers["location"] == "/connexion"
    assert "lang=en" in chosen.headers["set-cookie"]
    page = await web.get("/connexion", headers={"accept-language": "fr-FR,fr;q=0.9"})
    assert html_lang(page.text) == "en" and "Sign in" in page.text
    await web.get("/langue/fr?next=/connexion")
    page = await web.get("/connexion", headers=ENGLISH_ACCEPT)
    assert html_lang(page.text) == "fr" and "Se connecter" in page.text


async def test_sign_in_failure_and_csrf_refusal_in_english(platform: Platform, web: Browser):
    web.client.cookies.set("lang", "en")
    failed = await web.submit(
        "/connexion", "/connexion", {"identifiant": "personne", "mot_de_passe": "Faux-2026!"}
    )
    assert failed.status_code == 200 and html_lang(failed.text) == "en"
    assert english(messages.LOGIN_FAILED).startswith("Wrong username or password")
    assert english(messages.LOGIN_FAILED) in failed.text
    assert "Identifiant ou mot de passe incorrect" not in failed.text
    refused = await web.client.post("/connexion", data={}, headers={"origin": BASE})
    assert refused.status_code == 403 and refused.text.startswith("Request refused")


async def test_self_service_identification_in_english(platform: Platform, web: Browser):
    web.client.cookies.set("lang", "en")
    page = await web.get("/assistance/identifiants")
    assert html_lang(page.text) == "en"
    assert "<h1>I don't know my username or password</h1>" in page.text
    assert "Date of birth" in page.text and "Check: copy the 6 digits" in page.text
    failed = await identify(platform, web, "/assistance/identifiants", numen(99))
    assert failed.status_code == 200 and html_lang(failed.text) == "en"
    assert "The information entered does not identify you." in failed.text
    assert messages.SELF_SERVICE_FAILED not in failed.text


async def test_activation_in_english(platform: Platform, web: Browser):
    report = await platform.staff.run(export(row(numen=numen(1))), "rh.csv")
    login = report.created[0].login
    temp = await temporary_password(platform, login)
    web.client.cookies.set("lang", "en")
    signed = await web.submit(
        "/connexion", "/connexion", {"identifiant": login, "mot_de_passe": temp}
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/activation"
    page = await web.get("/activation")
    assert html_lang(page.text) == "en"
    assert "<h1>Activating your account</h1>" in page.text
    assert "Your password must meet these rules:" in page.text
    assert "must not contain your name, username, NUMEN or date of birth" in page.text
    mismatch = await web.submit(
        "/activation", "/activation/mot-de-passe", {"mot_de_passe": PASSWORD, "confirmation": "x"}
    )
    assert mismatch.status_code == 422
    assert "Please correct the following:" in mismatch.text
    assert "The two entries of the password do not match." in mismatch.text


async def test_account_overview_in_english(platform: Platform, web: Browser):
    login, _account_id = await active_agent(platform)
    web.client.cookies.set("lang", "en")
    await web.submit(
        "/connexion?next=/compte",
        "/connexion",
        {"identifiant": login, "mot_de_passe": PASSWORD, "next": "/compte"},
    )
    page = await web.get("/compte")
    assert page.status_code == 200 and html_lang(page.text) == "en"
    assert "<h1>My account</h1>" in page.text and 'aria-current="page">Overview' in page.text
    for phrase in ("Identity", "Recovery address", "Two-factor authentication", "Open sessions"):
        assert phrase in page.text
    assert "Devices signed in to your account" in page.text and "Sign out" in page.text
    assert "Vue d'ensemble" not in page.text and "Adresse de secours" not in page.text
    done = await web.submit("/compte/sessions", "/compte/sessions/autres", {})
    notice = await web.get(done.headers["location"])
    assert "All your other sessions are ended." in notice.text
