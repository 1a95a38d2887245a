"""CAS 3.0: a real CAS client (python-cas, protocol version 3) against the portal.

Over TLS sockets to uvicorn (tests/fixtures/sso.py). Validation responses are also
read raw where python-cas hides the failure code.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import requests
from cas import CASClient

from tests.fixtures import sso as live
from tests.fixtures.sso import Portal, Receiver, agent, continue_url

portal, receiver = live.portal, live.receiver

SERVICE = "https://intranet.example.test/cas/retour"
OTHER = "https://colibris.example.test/login"


def _cas(portal: Portal, service: str = SERVICE) -> CASClient:
    return CASClient(
        version=3,
        service_url=service,
        server_url=f"{portal.base}/cas/",
        session=portal.configure(requests.Session()),
        verify_ssl_certificate=portal.ca,
    )


def _ticket(url: str) -> str:
    return parse_qs(urlsplit(url).query)["ticket"][0]


def _failure(body: str) -> str:
    match = re.search(r'<cas:authenticationFailure code="([A-Z_]+)"', body)
    assert match, body
    return match.group(1)


async def _services(portal: Portal, receiver: Receiver | None = None) -> None:
    logout = f"{receiver.base}/slo" if receiver else None
    await portal.platform.sso.registry.add_service("Intranet", SERVICE, logout)
    await portal.platform.sso.registry.add_service("Colibris", OTHER)


async def test_login_through_the_portal_then_p3_validation(portal: Portal):
    login, _ = await agent(portal)
    await _services(portal)

    def flow() -> tuple[str, dict, str | None, str | None]:
        browser, client = portal.browser(), _cas(portal)
        first = portal.get(browser, client.get_login_url())
        assert first.status_code == 303 and first.headers["location"].startswith("/connexion?next=")
        next_url = parse_qs(urlsplit(first.headers["location"]).query)["next"][0]
        signed = portal.sign_in(browser, login, next_url)
        landing = portal.get(browser, signed.headers["location"])
        assert landing.status_code == 200 and "Intranet" in landing.text
        back = continue_url(landing)
        assert back.startswith(SERVICE + "?ticket=ST-")
        user, attributes, _ = client.verify_ticket(_ticket(back))
        again, _, _ = client.verify_ticket(_ticket(back))  # single use
        return user, attributes, again, attributes.get("isFromNewLogin")

    user, attributes, again, new_login = await asyncio.to_thread(flow)
    assert user == login and again is None and new_login == "true"
    assert (
        attributes["mail"].endswith("@ac-amiens.fr")
        and attributes["displayName"] == "Jeanne Dupont"
    )
    assert attributes["role"] == "ENS2D" and len(attributes["establishment"]) == 8
    assert attributes["establishmentName"] == "Lycée Louis Thuillier"


async def test_session_gives_tickets_and_service_must_match(portal: Portal):
    login, _ = await agent(portal)
    await _services(portal)

    def flow() -> list[str]:
        browser = portal.browser()
        portal.sign_in(browser, login)
        direct = portal.get(browser, _cas(portal).get_login_url())
        assert direct.status_code == 303 and direct.headers["location"].startswith(
            SERVICE + "?ticket="
        )
        ticket = _ticket(direct.headers["location"])
        wrong = browser.get(
            f"{portal.base}/cas/p3/serviceValidate", params={"service": OTHER, "ticket": ticket}
        )
        after = browser.get(
            f"{portal.base}/cas/p3/serviceValidate", params={"service": SERVICE, "ticket": ticket}
        )
        forged = browser.get(
            f"{portal.base}/cas/serviceValidate",
            params={
                "service": SERVICE,
                "ticket": ticket[:-1] + ("A" if ticket[-1] != "A" else "B"),
            },
        )
        missing = browser.get(f"{portal.base}/cas/serviceValidate", params={"ticket": ticket})
        return [_failure(r.text) for r in (wrong, after, forged, missing)]

    assert await asyncio.to_thread(flow) == [
        "INVALID_SERVICE",
        "INVALID_TICKET",  # a ticket is gone after one attempt, whatever its outcome
        "INVALID_TICKET",
        "INVALID_REQUEST",
    ]


async def test_service_with_query_v2_validation_and_expiry(portal: Portal):
    login, _ = await agent(portal)
    await _services(portal)
    with_query = SERVICE + "?page=accueil"

    def flow() -> tuple[str, str]:
        browser = portal.browser()
        portal.sign_in(browser, login)
        direct = portal.get(browser, _cas(portal, with_query).get_login_url())
        assert direct.headers["location"].startswith(with_query + "&ticket=ST-")
        v2 = browser.get(
            f"{portal.base}/cas/serviceValidate",
            params={"service": with_query, "ticket": _ticket(direct.headers["location"])},
        )
        stale = _ticket(portal.get(browser, _cas(portal).get_login_url()).headers["location"])
        portal.clock.advance(dt.timedelta(seconds=31))
        late = browser.get(
            f"{portal.base}/cas/p3/serviceValidate", params={"service": SERVICE, "ticket": stale}
        )
        return v2.text, late.text

    v2, late = await asyncio.to_thread(flow)
    assert f"<cas:user>{login}</cas:user>" in v2 and "cas:attributes" not in v2
    assert _failure(late) == "INVALID_TICKET"


async def test_unregistered_service_is_refused_without_redirect(portal: Portal):
    login, _ = await agent(portal)
    await _services(portal)

    def flow() -> list[requests.Response]:
        browser = portal.browser()
        portal.sign_in(browser, login)
        out = []
        for service in (
            "https://evil.example/cas/retour",
            SERVICE + "/",
            "https://intranet.example.test:8443/cas/retour",
            "http://intranet.example.test/cas/retour",
            SERVICE + "?q=" + "x" * 600,  # registered, but longer than any URL we keep
        ):
            out.append(
                browser.get(
                    f"{portal.base}/cas/login", params={"service": service}, allow_redirects=False
                )
            )
        return out

    for response in await asyncio.to_thread(flow):
        assert response.status_code == 400 and "location" not in response.headers
        assert "pas enregistrée" in response.text


async def test_renew_and_gateway(portal: Portal):
    login, _ = await agent(portal)
    await _services(portal)

    def flow() -> tuple[requests.Response, str, str, requests.Response]:
        browser = portal.browser()
        gateway = browser.get(
            f"{portal.base}/cas/login",
            params={"service": SERVICE, "gateway": "true"},
            allow_redirects=False,
        )
        portal.sign_in(browser, login)
        sso_ticket = _ticket(portal.get(browser, _cas(portal).get_login_url()).headers["location"])
        refused = browser.get(
            f"{portal.base}/cas/p3/serviceValidate",
            params={"service": SERVICE, "ticket": sso_ticket, "renew": "true"},
        )
        renew_url = f"/cas/login?service={requests.utils.quote(SERVICE, safe='')}&renew=true"
        form = portal.get(browser, renew_url)
        assert form.status_code == 200 and 'name="mot_de_passe"' in form.text  # asks again
        signed = portal.sign_in(browser, login, renew_url)
        fresh_ticket = _ticket(continue_url(portal.get(browser, signed.headers["location"])))
        accepted = browser.get(
            f"{portal.base}/cas/p3/serviceValidate",
            params={"service": SERVICE, "ticket": fresh_ticket, "renew": "true"},
        )
        return gateway, refused.text, accepted.text, form

    gateway, refused, accepted, _ = await asyncio.to_thread(flow)
    assert gateway.status_code == 303 and gateway.headers["location"] == SERVICE  # no ticket
    assert _failure(refused) == "INVALID_TICKET"
    assert f"<cas:user>{login}</cas:user>" in accepted


async def test_logout_ends_the_session_and_sends_slo(portal: Portal, receiver: Receiver):
    login, _ = await agent(portal)
    await _services(portal, receiver)

    def flow() -> tuple[str, requests.Response, requests.Response, requests.Response]:
        browser, client = portal.browser(), _cas(portal)
        portal.sign_in(browser, login)
        ticket = _ticket(portal.get(browser, client.get_login_url()).headers["location"])
        assert client.verify_ticket(ticket)[0] == login
        unlisted = browser.get(
            f"{portal.base}/cas/logout",
            params={"service": "https://evil.example/"},
            allow_redirects=False,
        )
        portal.sign_in(browser, login)
        ticket = _ticket(portal.get(browser, client.get_login_url()).headers["location"])
        assert client.verify_ticket(ticket)[0] == login
        out = portal.get(browser, client.get_logout_url(SERVICE))
        home = portal.get(browser, "/applications")
        return ticket, unlisted, out, home

    ticket, unlisted, out, home = await asyncio.to_thread(flow)
    assert unlisted.status_code == 200 and "location" not in unlisted.headers
    assert "Vous êtes déconnecté" in unlisted.text
    assert out.status_code == 303 and out.headers["location"] == SERVICE
    assert home.status_code == 303 and home.headers["location"].startswith("/connexion")
    requests_received = receiver.bodies("/slo", "logoutRequest")
    assert len(requests_received) == 2  # one per session, each naming its own ticket
    assert CASClient(version=3).verify_logout_request(requests_received[-1], ticket)
    assert "<saml:NameID>@NOT_USED@</saml:NameID>" in requests_received[-1]


async def test_portal_logout_tells_cas_and_oidc_applications(portal: Portal, receiver: Receiver):
    """POST /deconnexion: one logout reaches both protocols' applications."""
    from authlib.integrations.requests_client import OAuth2Session

    login, _ = await agent(portal)
    await _services(portal, receiver)
    row, secret = await portal.platform.sso.registry.add_client(
        "Arena", ["https://arena.example.test/cb"], backchannel_logout_uri=f"{receiver.base}/bcl"
    )

    def flow() -> str:
        browser = portal.browser()
        portal.sign_in(browser, login)
        ticket = _ticket(portal.get(browser, _cas(portal).get_login_url()).headers["location"])
        assert _cas(portal).verify_ticket(ticket)[0] == login
        rp = OAuth2Session(
            row.client_id,
            secret,
            scope="openid",
            redirect_uri="https://arena.example.test/cb",
            code_challenge_method="S256",
        )
        portal.configure(rp)
        url, _ = rp.create_authorization_url(
            f"{portal.base}/oidc/authorize", code_verifier="v" * 43
        )
        assert portal.get(browser, url).status_code == 302
        out = portal.post_form(browser, "/applications", "/deconnexion")
        assert out.status_code == 303
        return ticket

    ticket = await asyncio.to_thread(flow)
    [slo] = receiver.bodies("/slo", "logoutRequest")
    [logout_token] = receiver.bodies("/bcl", "logout_token")
    assert ticket in slo and logout_token.count(".") == 2
