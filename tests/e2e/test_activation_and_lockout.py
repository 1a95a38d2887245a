"""Journeys in a real browser: letter → activation → applications; lockout and unlock."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import Page, expect

from academail.runtime import Platform
from tests.fixtures.agents import PASSWORD, active_agent, outbox_code
from tests.fixtures.hr import export, numen, row
from tests.fixtures.letters import temporary_password

NEW = "Somme-Baie-2026-phoque!"


async def test_letter_activation_applications(platform: Platform, live: str, page: Page):
    report = await platform.staff.run(
        export(row(numen=numen(1), prenom="Zoë", nom_usage="Lefèvre")), "rh.csv"
    )
    login = report.created[0].login
    temp = await temporary_password(platform, login)

    await page.goto(f"{live}/connexion")
    await page.get_by_label("Identifiant ou adresse électronique").fill(login)
    await page.get_by_label("Mot de passe", exact=True).fill(temp)
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.get_by_role("heading", name="Activation de votre compte")).to_be_visible()

    await page.get_by_label("Nouveau mot de passe").fill("motdepasse")
    await expect(page.locator("#retour-regles")).to_contain_text("12 caractères")
    await page.get_by_label("Nouveau mot de passe").fill(NEW)
    await page.get_by_label("Confirmez le mot de passe").fill(NEW)
    await expect(page.locator("#retour-regles")).to_contain_text("Toutes les règles")
    await page.get_by_role("button", name="Continuer").click()

    await page.get_by_label("Adresse électronique personnelle").fill("zoe.perso@example.org")
    await page.get_by_label("Téléphone mobile (facultatif)").fill("07 11 22 33 44")
    await page.get_by_role("button", name="Recevoir le code").click()
    await page.get_by_label("Code reçu par courriel").fill(
        await outbox_code(platform, "zoe.perso@example.org")
    )
    await page.get_by_label("Code reçu par SMS").fill(await outbox_code(platform, "+33711223344"))
    await page.get_by_role("button", name="Activer mon compte").click()

    await expect(page.get_by_role("heading", name="Bonjour Zoë")).to_be_visible()
    await expect(
        page.locator(".applications").get_by_role("link", name="Messagerie")
    ).to_be_visible()
    await page.screenshot(path=str(platform.settings.data_dir / "applications.png"), full_page=True)


async def test_lockout_after_five_wrong_passwords_then_unlock(
    platform: Platform, live: str, page: Page, clock
):
    login, _ = await active_agent(platform)
    await page.goto(f"{live}/connexion")
    for attempt in range(5):
        await page.get_by_label("Identifiant ou adresse électronique").fill(login)
        await page.get_by_label("Mot de passe", exact=True).fill(f"Erreur-{attempt}-2026!")
        await page.get_by_role("button", name="Se connecter").click()
        await expect(page.get_by_role("alert")).to_contain_text(
            "Identifiant ou mot de passe incorrect"
        )
    await page.get_by_label("Identifiant ou adresse électronique").fill(login)
    await page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.get_by_role("alert")).to_contain_text("Identifiant ou mot de passe incorrect")

    clock.advance(dt.timedelta(minutes=30))
    await page.get_by_label("Identifiant ou adresse électronique").fill(login)
    await page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.get_by_role("heading", name="Mes applications")).to_be_visible()
