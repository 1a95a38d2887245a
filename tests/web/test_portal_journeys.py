"""Portal journeys at the HTTP level: activation, login, OTP step, CSRF, headers."""

from __future__ import annotations

import datetime as dt

from academail.identity import AccountState
from academail.runtime import Platform
from tests.fixtures.hr import export, numen, row
from tests.fixtures.letters import temporary_password
from tests.web.conftest import BASE, Browser, code_in, last_mail

NEW_PASSWORD = "Picardie-Somme-2026!"


async def _agent(platform: Platform, **fields: str) -> str:
    report = await platform.staff.run(export(row(numen=numen(1), **fields)), "rh.csv")
    return report.created[0].login


async def test_letter_to_activation_to_applications(platform: Platform, web: Browser):
    login = await _agent(platform)
    temp = await temporary_password(platform, login)
    response = await web.submit(
        "/connexion", "/connexion", {"identifiant": f" {login.upper()} ", "mot_de_passe": temp}
    )
    assert response.status_code == 303 and response.headers["location"] == "/activation"

    page = await web.get("/activation")
    assert "Activation de votre compte" in page.text and "12 caractères" in page.text
    weak = await web.submit(
        "/activation",
        "/activation/mot-de-passe",
        {"mot_de_passe": "motdepasse", "confirmation": "motdepasse"},
    )
    assert weak.status_code == 422 and "au moins 12 caractères" in weak.text
    good = await web.submit(
        "/activation",
        "/activation/mot-de-passe",
        {"mot_de_passe": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
    )
    assert good.status_code == 303

    page = await web.get("/activation")
    assert "Adresse électronique personnelle" in page.text
    sent = await web.submit(
        "/activation",
        "/activation/secours",
        {"courriel": "jeanne.perso@example.org", "mobile": "06 12 34 56 78"},
    )
    assert sent.status_code == 303
    email_code = code_in(await last_mail(platform, "jeanne.perso@example.org"))
    sms_code = code_in(await last_mail(platform, "+33612345678"))
    bad = await web.submit(
        "/activation", "/activation/confirmer", {"code_courriel": "000000", "code_sms": sms_code}
    )
    assert bad.status_code == 422
    done = await web.submit(
        "/activation", "/activation/confirmer", {"code_courriel": email_code, "code_sms": sms_code}
    )
    assert done.status_code == 303 and done.headers["location"] == "/applications"
    apps = await web.get("/applications")
    assert "Messagerie" in apps.text and "I-Prof" in apps.text
    assert (await platform.accounts.show(login)).state is AccountState.ACTIVE


async def test_csrf_and_origin_are_required(platform: Platform, web: Browser):
    page = await web.get("/connexion")
    token = web.token(page.text)
    no_token = await web.client.post(
        "/connexion", data={"identifiant": "x", "mot_de_passe": "y"}, headers={"origin": BASE}
    )
    assert no_token.status_code == 403
    cross = await web.client.post(
        "/connexion",
        data={"csrf": token, "identifiant": "x", "mot_de_passe": "y"},
        headers={"origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    ok = await web.client.post(
        "/connexion",
        data={"csrf": token, "identifiant": "x", "mot_de_passe": "y"},
        headers={"origin": BASE},
    )
    assert ok.status_code == 200


async def test_security_headers_on_every_page(web: Browser):
    for path in ("/connexion", "/static/academail.css", "/nulle-part"):
        response = await web.get(path)
        csp = response.headers["content-security-policy"]
        assert (
            "default-src 'self'" in csp
            and "frame-ancestors 'none'" in csp
            and "unsafe-inline" not in csp
        )
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["strict-transport-security"].startswith("max-age=")
    cookies = (await web.get("/connexion")).headers.get_list("set-cookie")
    assert (
        any(c.startswith("__Host-csrf=") and "Secure" in c and "HttpOnly" in c for c in cookies)
        or cookies == []
    )


async def test_login_failures_look_the_same(platform: Platform, web: Browser):
    login = await _agent(platform)
    unknown = await web.submit(
        "/connexion", "/connexion", {"identifiant": "personne", "mot_de_passe": "Faux-mot-2026!"}
    )
    wrong = await web.submit(
        "/connexion", "/connexion", {"identifiant": login, "mot_de_passe": "Faux-mot-2026!"}
    )
    assert unknown.status_code == wrong.status_code == 200
    strip = lambda html, ident: html.replace(ident, "IDENT")  # noqa: E731 - the echoed identifier differs
    assert strip(unknown.text, "personne").replace(web.token(unknown.text), "T") == strip(
        wrong.text, login
    ).replace(web.token(wrong.text), "T")


async def test_open_redirect_refused(platform: Platform, web: Browser):
    page = await web.get("/connexion?next=//evil.example/x")
    assert 'value="/applications"' in page.text


async def test_expired_temporary_password_page(platform: Platform, web: Browser, clock):
    login = await _agent(platform)
    temp = await temporary_password(platform, login)
    clock.advance(dt.timedelta(days=31))
    response = await web.submit(
        "/connexion", "/connexion", {"identifiant": login, "mot_de_passe": temp}
    )
    assert response.status_code == 200 and "Mot de passe provisoire expiré" in response.text
    assert "NUMEN" in response.text
