"""The demo outbox page, and non-enumeration shown structurally: the same work
(argon2 verifications, database units of work) for unknown and existing accounts."""

from __future__ import annotations

import dataclasses

import pytest

from academail.identity import passwords
from academail.identity.authenticate import AuthContext, Door
from academail.runtime import Platform, open_platform
from tests.fixtures.agents import PASSWORD, active_agent
from tests.web.conftest import Browser


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    auth = dataclasses.replace(settings.auth, admin_logins=["jdupont"])
    return dataclasses.replace(settings, auth=auth)


async def test_outbox_page_only_in_demo_and_only_for_administrators(
    platform: Platform, web: Browser
):
    await active_agent(platform)
    response = await web.get("/console/courriers")
    assert response.status_code == 404  # not a demo
    demo = dataclasses.replace(
        platform.settings, web=dataclasses.replace(platform.settings.web, demo=True)
    )
    async with open_platform(demo, platform.clock) as demo_platform:
        import httpx2

        from academail.web import create_app
        from tests.web.conftest import BASE

        transport = httpx2.ASGITransport(app=create_app(demo_platform))
        async with httpx2.AsyncClient(transport=transport, base_url=BASE) as client:
            browser = Browser(client)
            anonymous = await browser.get("/console/courriers")
            assert anonymous.status_code == 303
            login = await browser.submit(
                "/connexion", "/connexion", {"identifiant": "jdupont", "mot_de_passe": PASSWORD}
            )
            # An administrator must enrol OTP before anything else.
            assert login.headers["location"] == "/compte/otp"


class _Counter:
    def __init__(self) -> None:
        self.verifications = 0
        self.units = 0


async def _work_for(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, identifier: str
) -> tuple[int, int]:
    counter = _Counter()
    real_verify = passwords.verify_off_loop
    real_run = platform.store.run

    async def verify(encoded: str, password: str) -> bool:
        counter.verifications += 1
        return await real_verify(encoded, password)

    async def run(work):  # type: ignore[no-untyped-def]
        counter.units += 1
        return await real_run(work)

    import academail.identity.authenticate as authenticate_module

    monkeypatch.setattr(authenticate_module, "verify_off_loop", verify)
    monkeypatch.setattr(platform.store, "run", run)
    await platform.authenticator.authenticate(
        identifier, "Pas-le-bon-2026!", AuthContext(Door.PORTAL, "192.0.2.1", "x")
    )
    monkeypatch.undo()
    return counter.verifications, counter.units


async def test_unknown_and_existing_accounts_cost_the_same_argon2_work(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
):
    login, _ = await active_agent(platform)
    await platform.authenticator.authenticate(
        "warm-up", "x", AuthContext(Door.PORTAL, "192.0.2.9", "x")
    )
    existing = await _work_for(platform, monkeypatch, login)
    unknown = await _work_for(platform, monkeypatch, "inconnu.total")
    assert existing[0] == unknown[0] >= 1  # one argon2 verification either way
