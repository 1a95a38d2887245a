"""The console page of captured external mail: administrators only, demo or capture
mode only, message text shown escaped and never as HTML; on both stores."""

from __future__ import annotations

import dataclasses
import re

import httpx2
import pyotp
import pytest

from academail.config import Settings
from academail.runtime import Platform, open_platform
from academail.web import create_app
from tests.fixtures.agents import PASSWORD, active_agent
from tests.web.conftest import BASE, Browser

PAGE = "/console/courriels-retenus"
HOSTILE = (
    b"From: Jeanne Dupont <jeanne.dupont@ac-amiens.fr>\r\n"
    b"To: <parent@example.org>\r\n"
    b"Subject: =?utf-8?q?R=C3=A9union_<script>alert(1)</script>?=\r\n"
    b"Date: Tue, 01 Sep 2026 10:00:00 +0200\r\n"
    b"Message-ID: <reunion@ac-amiens.fr>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="b"\r\n'
    b"\r\n"
    b"--b\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Rendez-vous \xc3\xa0 18 h <b>salle 12</b>.\r\n"
    b"--b\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b'<p>Rendez-vous</p><img src="x" onerror="alert(2)">\r\n'
    b"--b--\r\n"
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    auth = dataclasses.replace(settings.auth, admin_logins=["jdupont"])
    queue = dataclasses.replace(settings.queue, capture=True)
    return dataclasses.replace(settings, auth=auth, queue=queue)


async def _sign_in(web: Browser, login: str) -> httpx2.Response:
    return await web.submit(
        "/connexion", "/connexion", {"identifiant": login, "mot_de_passe": PASSWORD}
    )


async def _administrator(platform: Platform, web: Browser) -> None:
    """jdupont signs in and enrols OTP, as an administrator must before anything."""
    login, _account = await active_agent(platform)
    assert (await _sign_in(web, login)).headers["location"] == "/compte/otp"
    page = await web.get("/compte/otp")
    match = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page.text)
    assert match
    seed = match.group(1).replace(" ", "")
    code = pyotp.TOTP(seed).at(platform.clock.now())
    done = await web.submit("/compte/otp", "/compte/otp/activer", {"code": code})
    assert done.status_code == 200


async def test_administrators_read_captured_mail_as_text(platform: Platform, web: Browser):
    anonymous = await web.get(PAGE)
    assert anonymous.status_code == 303 and PAGE in anonymous.headers["location"]
    await _administrator(platform, web)
    await platform.queue.enqueue(
        "jeanne.dupont@ac-amiens.fr", ["parent@example.org"], HOSTILE, None
    )
    response = await web.get(PAGE)
    assert response.status_code == 200
    assert "script-src" in response.headers["content-security-policy"]
    page = response.text
    assert "Réunion &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert "Rendez-vous à 18 h &lt;b&gt;salle 12&lt;/b&gt;." in page
    assert "<img" not in page and "<b>salle" not in page
    assert "parent@example.org" in page and "Jeanne Dupont" in page
    # The platform's own notification to the recovery address was captured too.
    assert "perso1@example.org" in page
    assert (await platform.queue.entries())[0].state == "captured"

    english = await web.get(PAGE, headers={"accept-language": "en"})
    assert "External mail held back" in english.text


async def test_other_agents_get_not_found(platform: Platform, web: Browser):
    await active_agent(platform)  # jdupont, the administrator
    login, _account = await active_agent(platform, 2, nom_usage="Martin", prenom="Paul")
    assert (await _sign_in(web, login)).status_code == 303
    assert (await web.get("/applications")).status_code == 200  # fully signed in
    assert (await web.get(PAGE)).status_code == 404


async def test_no_page_without_demo_or_capture(platform: Platform, settings: Settings):
    plain = dataclasses.replace(settings, queue=dataclasses.replace(settings.queue, capture=False))
    async with open_platform(plain, platform.clock) as production:
        transport = httpx2.ASGITransport(app=create_app(production))
        async with httpx2.AsyncClient(transport=transport, base_url=BASE) as client:
            assert (await client.get(PAGE)).status_code == 404
