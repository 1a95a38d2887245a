"""RGAA 4.1 / WCAG 2.1 AA in a real Chromium: axe-core plus the checks axe leaves out.

axe-core (from the npm registry, installed by ``scripts/bootstrap test`` into
``.cache/npm``) runs the WCAG 2.0/2.1 A and AA rules on the portal pages a visitor or an
agent meets, in French and in English, at desktop size and on a phone
viewport. No violation of impact *serious* or *critical* is allowed. The script
checks beside it are the RGAA points axe does not cover or only as "best practice":
one ``h1`` and no skipped heading level (RGAA 9.1), one ``main`` landmark reached
by the first focusable element, a skip link (RGAA 12.7), ``lang`` on ``html``
(RGAA 8.3), an accessible name on every form control (RGAA 11.1), an error message
tied to its fields (RGAA 11.10), the purpose of personal fields (``autocomplete``,
RGAA 11.13), a visible focus (RGAA 10.7, from the CSS
``:focus-visible`` rules, then measured on the focused element) and no horizontal
scrolling on a phone (RGAA 10.11, WCAG 1.4.10).
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pyotp
import pytest
from playwright.async_api import BrowserContext, Page, expect

from academail.runtime import Platform
from academail.store import captcha as captcha_repo
from tests.fixtures.agents import PASSWORD, active_agent
from tests.fixtures.hr import export, numen, row
from tests.fixtures.letters import temporary_password

AXE = Path(__file__).resolve().parents[2] / ".cache/npm/node_modules/axe-core/axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.flat().join(' ')),
  }));
}"""

# Returns the problems found, as sentences; axe is on the page (for the accessible
# name computation of the ARIA "accname" specification).
STRUCTURE = """(lang) => {
  const out = [];
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) out.push(`${h1} h1 elements instead of exactly one`);
  let level = 0;
  for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const next = Number(h.tagName[1]);
    if (next > level + 1) out.push(`heading level skipped: h${next} "${h.textContent.trim()}"`);
    level = next;
  }
  const mains = document.querySelectorAll('main, [role="main"]');
  if (mains.length !== 1) out.push(`${mains.length} main landmarks instead of one`);
  if (document.documentElement.lang !== lang)
    out.push(`<html lang="${document.documentElement.lang}">, expected "${lang}"`);
  const focusable = [...document.querySelectorAll(
    'a[href], button, input:not([type="hidden"]), select, textarea, [tabindex]'
  )].filter(e => !e.disabled && e.getAttribute('tabindex') !== '-1');
  const first = focusable[0];
  if (!first || first.getAttribute('href') !== '#contenu')
    out.push('the first focusable element is not the skip link to #contenu');
  const target = document.getElementById('contenu');
  if (!target || target !== mains[0]) out.push('#contenu is not the main landmark');
  axe.setup(document);
  try {
    for (const control of document.querySelectorAll(
      'input:not([type="hidden"]), select, textarea, button'
    )) {
      const name = axe.commons.text.accessibleTextVirtual(axe.utils.getNodeFromTree(control));
      if (!name.trim()) out.push(`form control without an accessible name: ${control.outerHTML}`);
    }
  } finally {
    axe.teardown();
  }
  for (const alert of document.querySelectorAll('main [role="alert"][id]')) {
    const tied = [...document.querySelectorAll('[aria-invalid="true"][aria-describedby]')]
      .filter(c => c.getAttribute('aria-describedby').split(/\\s+/).includes(alert.id));
    if (document.querySelector('main form input:not([type="hidden"])') && !tied.length)
      out.push(`error #${alert.id} is tied to no field (aria-invalid + aria-describedby)`);
  }
  for (const field of document.querySelectorAll(
    'input[type="email"], input[type="tel"], input[type="password"], input[type="date"]'
  )) {
    const purpose = (field.getAttribute('autocomplete') || '').trim();
    if (!purpose || purpose === 'off') out.push(`personal field #${field.id} without autocomplete`);
  }
  const focusRules = [...document.styleSheets].flatMap(s => [...s.cssRules])
    .filter(r => r.selectorText && r.selectorText.includes(':focus-visible')
                 && r.style.outlineStyle && r.style.outlineStyle !== 'none');
  if (!focusRules.length) out.push('no :focus-visible rule with an outline in the CSS');
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1)
    out.push(`horizontal scrolling: ${root.scrollWidth}px of content for ${root.clientWidth}px`);
  return out;
}"""

# The focused element: its outline (WCAG 2.4.7) and whether it is on screen.
FOCUSED = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  const box = e.getBoundingClientRect();
  return {
    href: e.getAttribute('href'), id: e.id, tag: e.tagName.toLowerCase(),
    text: (e.textContent || '').trim(),
    outline: style.outlineStyle === 'none' ? 0 : parseFloat(style.outlineWidth),
    onScreen: box.width > 0 && box.left >= 0 && box.top >= 0 && box.right <= innerWidth,
  };
}"""


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and axe-core is missing ({AXE}): scripts/bootstrap test")
        pytest.skip("platform condition: axe-core not installed (needs node/npm: bootstrap test)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return dict(request.param)


@pytest.fixture
async def a11y_page(new_context: Callable[..., Awaitable[BrowserContext]], viewport) -> Page:
    """A page whose context ignores the CSP, for these tests only.

    Our CSP (``script-src 'self'``) rightly refuses the inline ``<script>`` that
    ``add_script_tag(content=…)`` creates, and axe-core must not be served by the
    application. Every other browser test runs under the real CSP, so a page that
    depended on an inline script would still fail there.
    """
    phone = viewport == PHONE
    context = await new_context(
        bypass_csp=True, viewport=viewport, is_mobile=phone, has_touch=phone
    )
    return await context.new_page()


class Auditor:
    """Audits pages one after the other and keeps every problem found.

    The test asserts once at the end (:meth:`verdict`), so one failure lists the
    problems of every page and viewport instead of the first one only.
    """

    def __init__(self, axe_source: str, viewport: dict[str, int]) -> None:
        self.axe_source = axe_source
        self.size = f"{viewport['width']}x{viewport['height']}"
        self.problems: list[str] = []

    async def __call__(self, page: Page, label: str, lang: str = "fr") -> None:
        where = f"[{self.size}] {label} ({page.url})"
        await page.add_script_tag(content=self.axe_source)
        for v in await page.evaluate(RUN_AXE, WCAG_21_AA):
            found = f"{where}: axe {v['id']} ({v['impact']}): {v['help']} -> "
            found += "; ".join(v["targets"])
            if v["impact"] in BLOCKING:
                self.problems.append(found)
            else:
                print(found)  # moderate and minor: shown with a failure, or with -s
        self.problems.extend(f"{where}: {p}" for p in await page.evaluate(STRUCTURE, lang))
        self.problems.extend(f"{where}: {p}" for p in await _skip_link_focus(page))

    def verdict(self) -> None:
        count = len(self.problems)
        assert not count, f"{count} accessibility problem(s):\n" + "\n".join(self.problems)


@pytest.fixture
def audit(axe_source: str, viewport: dict[str, int]) -> Auditor:
    return Auditor(axe_source, viewport)


async def _skip_link_focus(page: Page) -> list[str]:
    """Tab from the top of the page: the skip link comes first, visibly focused."""
    await page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
    await page.focus("body")
    await page.keyboard.press("Tab")
    focused = await page.evaluate(FOCUSED)
    out = []
    if focused["href"] != "#contenu":
        out.append(f"first Tab focuses {focused['tag']} {focused['text']!r}, not the skip link")
    elif not focused["onScreen"]:
        out.append("the focused skip link stays off screen")
    if focused["outline"] < 2:
        out.append(f"focus not visible on {focused['tag']}: outline {focused['outline']}px")
    return out


async def _sign_in(page: Page, live: str, login: str, password: str) -> None:
    await page.goto(f"{live}/connexion")
    await page.get_by_label("Identifiant ou adresse électronique").fill(login)
    await page.get_by_label("Mot de passe", exact=True).fill(password)
    await page.get_by_role("button", name="Se connecter").click()


async def test_pages_before_sign_in(live: str, a11y_page: Page, audit: Auditor):
    page = a11y_page
    await page.goto(f"{live}/connexion")
    await audit(page, "login")
    await _sign_in(page, live, "personne.inconnue", "Erreur-de-saisie-2026!")
    await expect(page.get_by_role("alert")).to_be_visible()
    await audit(page, "login with an error")
    for path in ("identifiants", "mot-de-passe-oublie", "parametres"):
        await page.goto(f"{live}/assistance/{path}")
        await audit(page, f"self-service {path}")
    await page.goto(f"{live}/assistance/mot-de-passe-oublie")
    await page.get_by_label("Identifiant ou adresse électronique académique").fill("personne")
    await page.get_by_role("button", name="Recevoir un lien").click()
    await expect(page.get_by_role("status")).to_be_visible()
    await audit(page, "reset link requested")
    await page.goto(f"{live}/assistance/reinitialiser?jeton=perime")
    await audit(page, "reset link invalid")
    await page.goto(f"{live}/langue/en?next=/connexion")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    await audit(page, "login in English", "en")
    audit.verdict()


async def test_activation_password_step(
    platform: Platform, live: str, a11y_page: Page, audit: Auditor
):
    report = await platform.staff.run(export(row(numen=numen(7))), "rh.csv")
    login = report.created[0].login
    page = a11y_page
    await _sign_in(page, live, login, await temporary_password(platform, login))
    await expect(page.get_by_role("heading", name="Activation de votre compte")).to_be_visible()
    await audit(page, "activation password")
    await page.get_by_label("Nouveau mot de passe").fill("Somme-Baie-2026-phoque!")
    await page.get_by_label("Confirmez le mot de passe").fill("Somme-Baie-2026-otarie!")
    await page.get_by_role("button", name="Continuer").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await audit(page, "activation password with an error")
    await page.get_by_label("Nouveau mot de passe").fill("Somme-Baie-2026-phoque!")
    await page.get_by_label("Confirmez le mot de passe").fill("Somme-Baie-2026-phoque!")
    await page.get_by_role("button", name="Continuer").click()
    await expect(page.get_by_label("Adresse électronique personnelle")).to_be_visible()
    await audit(page, "activation recovery")
    await page.get_by_label("Adresse électronique personnelle").fill("zoe.perso@example.org")
    await page.get_by_label("Téléphone mobile (facultatif)").fill("07 11 22 33 44")
    await page.get_by_role("button", name="Recevoir le code").click()
    await page.get_by_label("Code reçu par courriel").fill("000000")
    await page.get_by_label("Code reçu par SMS").fill("000000")
    await page.get_by_role("button", name="Activer mon compte").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await audit(page, "activation confirmation with an error")
    audit.verdict()


async def test_pages_of_a_signed_in_agent(
    platform: Platform, live: str, a11y_page: Page, audit: Auditor
):
    login, _ = await active_agent(platform)
    page = a11y_page
    await _sign_in(page, live, login, PASSWORD)
    await expect(page.get_by_role("heading", name="Mes applications")).to_be_visible()
    await audit(page, "applications")
    for path in ("", "/otp", "/applications", "/sessions", "/secours", "/mot-de-passe"):
        await page.goto(f"{live}/compte{path}")
        await audit(page, f"my account{path}")
    audit.verdict()


async def test_self_service_results(platform: Platform, live: str, a11y_page: Page, audit: Auditor):
    """What NUMEN + birth date + captcha lead to: mail settings, a new password."""
    await active_agent(platform)
    page = a11y_page
    await _identify(platform, page, f"{live}/assistance/parametres")
    await expect(page.get_by_role("table")).to_be_visible()
    await audit(page, "self-service mail settings")
    await _identify(platform, page, f"{live}/assistance/identifiants")
    await expect(page.get_by_label("Nouveau mot de passe")).to_be_visible()
    await audit(page, "self-service new password")
    await page.get_by_label("Nouveau mot de passe").fill("Oise-Compiegne-2027-foret!")
    await page.get_by_label("Confirmez le mot de passe").fill("Oise-Compiegne-2027-foret!")
    await page.get_by_role("button", name="Enregistrer le mot de passe").click()
    await expect(page.get_by_role("status")).to_be_visible()
    await audit(page, "self-service password saved")
    audit.verdict()


async def test_second_factor_pages(
    platform: Platform, live: str, a11y_page: Page, audit: Auditor, clock
):
    """A school director: forced enrolment, recovery codes, then the code at sign-in."""
    login, _ = await active_agent(platform, 3, fonction="DIR_ECOLE")
    page = a11y_page
    await _sign_in(page, live, login, PASSWORD)
    await expect(page.get_by_role("heading", name="Double authentification")).to_be_visible()
    await audit(page, "forced OTP enrolment")
    secret = (await page.locator(".secret").first.inner_text()).replace(" ", "")
    await page.get_by_label("Code à 6 chiffres", exact=True).fill(
        pyotp.TOTP(secret).at(clock.now())
    )
    await page.get_by_role("button", name="Activer la double authentification").click()
    await expect(page.get_by_role("heading", name="Vos codes de secours")).to_be_visible()
    await audit(page, "recovery codes")
    await page.context.clear_cookies()
    await _sign_in(page, live, login, PASSWORD)
    await page.get_by_label(re.compile("Code à 6 chiffres")).fill("000000")
    await page.get_by_role("button", name="Valider").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await audit(page, "sign-in code with an error")
    audit.verdict()


async def _identify(platform: Platform, page: Page, url: str) -> None:
    await page.goto(url)
    await page.get_by_label("NUMEN").fill(numen(1))
    await page.get_by_label("Date de naissance").fill("1980-05-12")
    challenge = await page.locator("input[name=captcha_id]").get_attribute("value")
    assert challenge
    answer = await platform.store.run(
        lambda c: captcha_repo.answer_of(c, challenge, platform.clock.now())
    )
    assert answer
    await page.get_by_label("Les 6 chiffres").fill(answer)
    await page.get_by_role("button", name="Continuer").click()


async def test_keyboard_only_sign_in(platform: Platform, live: str, page: Page):
    """Skip link first, then the form in order, signed in without a pointer (real CSP)."""
    login, _ = await active_agent(platform)
    await page.goto(f"{live}/connexion")
    await page.keyboard.press("Tab")
    assert (await page.evaluate(FOCUSED))["href"] == "#contenu"
    order = []
    for _ in range(12):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(FOCUSED)
        assert focused["outline"] >= 2, f"focus not visible on {focused}"
        order.append(focused["id"])
        if focused["id"] == "se-connecter":
            break
    assert order[-3:] == ["identifiant", "mot_de_passe", "se-connecter"], order

    await page.goto(f"{live}/connexion")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")  # follows the skip link: focus moves to <main>
    assert (await page.evaluate(FOCUSED))["id"] == "contenu"
    await page.keyboard.press("Tab")
    assert (await page.evaluate(FOCUSED))["id"] == "identifiant"
    await page.keyboard.type(login)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Mes applications")).to_be_visible()
