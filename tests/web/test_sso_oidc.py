"""OpenID Connect: a real relying party (Authlib's OAuth2Session) against the portal.

Everything goes over TLS sockets to uvicorn (tests/fixtures/sso.py); the ID token is
verified with joserfc against the JWKS fetched over HTTP, as a relying party does.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from academail.identity.sso import BACKCHANNEL_EVENT
from tests.fixtures import sso as live
from tests.fixtures.sso import Portal, Receiver, agent, continue_url

portal, receiver = live.portal, live.receiver

CALLBACK = "https://rp.example.test/callback"
SCOPE = "openid profile email academie"


async def _client(portal: Portal, **options) -> tuple[str, str | None]:
    row, secret = await portal.platform.sso.registry.add_client(
        "Application de test", [CALLBACK], **options
    )
    return row.client_id, secret


def _rp(portal: Portal, client_id: str, secret: str | None, **kwargs) -> OAuth2Session:
    kwargs.setdefault("redirect_uri", CALLBACK)
    session = OAuth2Session(client_id, secret, scope=SCOPE, code_challenge_method="S256", **kwargs)
    portal.configure(session)
    return session


def _start(portal: Portal, rp: OAuth2Session) -> tuple[str, str, str]:
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, _state = rp.create_authorization_url(
        f"{portal.base}/oidc/authorize", code_verifier=verifier, nonce=nonce
    )
    return url, verifier, nonce


def _verify_id_token(portal: Portal, id_token: str, client_id: str, nonce: str, access: str):
    http = portal.browser()  # any HTTP client will do: these documents are public
    config = http.get(f"{portal.base}/.well-known/openid-configuration").json()
    jwks = http.get(config["jwks_uri"]).json()
    token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["RS256"])
    JWTClaimsRegistry(
        iss={"essential": True, "value": config["issuer"]},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        exp={"essential": True},
    ).validate(token.claims)
    digest = hashlib.sha256(access.encode("ascii")).digest()[:16]
    assert token.claims["at_hash"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert token.header["kid"] in {k["kid"] for k in jwks["keys"]}
    return config, token.claims


async def test_code_flow_with_pkce_nonce_and_userinfo(portal: Portal, receiver: Receiver):
    login, account_id = await agent(portal)
    client_id, secret = await _client(portal, backchannel_logout_uri=f"{receiver.base}/bcl")

    def flow() -> tuple[dict, dict, dict, str, str]:
        browser, rp = portal.browser(), _rp(portal, client_id, secret)
        url, verifier, nonce = _start(portal, rp)
        first = portal.get(browser, url)  # no portal session yet: sign in first
        assert first.status_code == 303 and first.headers["location"].startswith("/connexion?next=")
        signed = portal.sign_in(
            browser, login, parse_qs(urlsplit(first.headers["location"]).query)["next"][0]
        )
        assert signed.status_code == 303 and signed.headers["location"].startswith(
            "/oidc/authorize?"
        )
        landing = portal.get(browser, signed.headers["location"])
        assert landing.status_code == 200 and "Application de test" in landing.text
        back = continue_url(landing)
        assert back.startswith(CALLBACK + "?")
        token = rp.fetch_token(
            f"{portal.base}/oidc/token", authorization_response=back, code_verifier=verifier
        )
        config, claims = _verify_id_token(
            portal, token["id_token"], client_id, nonce, token["access_token"]
        )
        info = rp.get(config["userinfo_endpoint"]).json()
        return token, claims, info, config["issuer"], back

    token, claims, info, issuer, back = await asyncio.to_thread(flow)
    assert issuer == portal.base
    assert (
        claims["sub"] == account_id
        and claims["amr"] == ["pwd"]
        and claims["auth_time"] <= claims["iat"]
    )
    assert info["sub"] == account_id and info["preferred_username"] == login
    assert info["email"] == f"{login}@ac-amiens.fr" or info["email"].endswith("@ac-amiens.fr")
    assert info["given_name"] == "Jeanne" and info["family_name"] == "Dupont"
    assert info["name"] == "Jeanne Dupont" and info["role"] == "ENS2D"
    assert (
        info["establishment"]["name"] == "Lycée Louis Thuillier"
        and len(info["establishment"]["uai"]) == 8
    )
    assert (
        "code=" in back and token["token_type"].lower() == "bearer" and "refresh_token" not in token
    )


async def test_existing_session_redirects_straight_back_and_logout_tells_the_rp(
    portal: Portal, receiver: Receiver
):
    login, account_id = await agent(portal)
    client_id, secret = await _client(portal, backchannel_logout_uri=f"{receiver.base}/bcl")

    def flow() -> tuple[str, requests.Response, requests.Response]:
        browser, rp = portal.browser(), _rp(portal, client_id, secret)
        assert portal.sign_in(browser, login).headers["location"] == "/applications"
        url, verifier, nonce = _start(portal, rp)
        direct = portal.get(browser, url)
        assert direct.status_code == 302 and direct.headers["location"].startswith(
            CALLBACK + "?code="
        )
        token = rp.fetch_token(
            f"{portal.base}/oidc/token",
            authorization_response=direct.headers["location"],
            code_verifier=verifier,
        )
        _verify_id_token(portal, token["id_token"], client_id, nonce, token["access_token"])
        out = portal.post_form(browser, "/applications", "/deconnexion")
        after = rp.get(f"{portal.base}/oidc/userinfo")
        return token["id_token"], out, after

    id_token, out, after = await asyncio.to_thread(flow)
    assert out.status_code == 303 and out.headers["location"] == "/connexion"
    assert after.status_code == 401  # the session's tokens were revoked at logout
    [logout_token] = receiver.bodies("/bcl", "logout_token")
    jwks = KeySet.import_key_set(portal.platform.sso.oidc.jwks())
    decoded = jwt.decode(logout_token, jwks, algorithms=["RS256"])
    id_claims = jwt.decode(id_token, jwks, algorithms=["RS256"]).claims
    assert decoded.header["typ"] == "logout+jwt"
    claims = decoded.claims
    assert (
        claims["iss"] == portal.base and claims["aud"] == client_id and claims["sub"] == account_id
    )
    assert claims["events"] == {BACKCHANNEL_EVENT: {}} and claims["jti"] and "nonce" not in claims
    assert claims["sid"] == id_claims["sid"] and claims["exp"] > claims["iat"]


async def test_redirect_uri_must_match_exactly_and_errors_never_redirect(portal: Portal):
    login, _ = await agent(portal)
    client_id, secret = await _client(portal)

    def flow() -> list[requests.Response]:
        browser = portal.browser()
        portal.sign_in(browser, login)
        out = []
        for wrong in (
            CALLBACK + "/",
            "https://rp.example.test:8443/callback",
            CALLBACK + "?next=/admin",
            "https://evil.example/callback",
        ):
            rp = _rp(portal, client_id, secret, redirect_uri=wrong)
            url, _, _ = _start(portal, rp)
            out.append(portal.get(browser, url))
        rp = _rp(portal, "inconnu", None)
        out.append(portal.get(browser, _start(portal, rp)[0]))
        return out

    for response in await asyncio.to_thread(flow):
        assert response.status_code == 400 and "location" not in response.headers
        assert "Connexion à l'application refusée" in response.text


async def test_pkce_is_required_and_s256_only(portal: Portal):
    login, _ = await agent(portal)
    client_id, secret = await _client(portal)

    def flow() -> list[str]:
        browser = portal.browser()
        portal.sign_in(browser, login)
        base = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": CALLBACK,
            "scope": SCOPE,
            "state": "s1",
        }
        places = []
        for extra in (
            {},
            {"code_challenge": "a" * 43, "code_challenge_method": "plain"},
            {"code_challenge": "a" * 43},
        ):
            response = browser.get(
                f"{portal.base}/oidc/authorize", params={**base, **extra}, allow_redirects=False
            )
            assert response.status_code == 302
            places.append(response.headers["location"])
        return places

    for place in await asyncio.to_thread(flow):
        query = parse_qs(urlsplit(place).query)
        assert place.startswith(CALLBACK + "?") and "code" not in query
        assert query["error"] == ["invalid_request"] and query["state"] == ["s1"]


async def test_code_is_single_use_and_reuse_revokes_tokens(portal: Portal):
    login, _ = await agent(portal)
    client_id, secret = await _client(portal)

    def flow() -> tuple[int, str, int]:
        browser, rp = portal.browser(), _rp(portal, client_id, secret)
        portal.sign_in(browser, login)
        url, verifier, _ = _start(portal, rp)
        back = portal.get(browser, url).headers["location"]
        rp.fetch_token(
            f"{portal.base}/oidc/token", authorization_response=back, code_verifier=verifier
        )
        assert rp.get(f"{portal.base}/oidc/userinfo").status_code == 200
        again = _rp(portal, client_id, secret)
        with pytest.raises(OAuthError) as refused:
            again.fetch_token(
                f"{portal.base}/oidc/token", authorization_response=back, code_verifier=verifier
            )
        return 0, refused.value.error, rp.get(f"{portal.base}/oidc/userinfo").status_code

    _, error, status = await asyncio.to_thread(flow)
    assert error == "invalid_grant" and status == 401


async def test_wrong_secret_wrong_verifier_and_expired_code_are_refused(portal: Portal):
    login, _ = await agent(portal)
    client_id, secret = await _client(portal)

    def code(browser: requests.Session, rp: OAuth2Session) -> tuple[str, str]:
        url, verifier, _ = _start(portal, rp)
        return portal.get(browser, url).headers["location"], verifier

    def flow() -> list[str]:
        browser = portal.browser()
        portal.sign_in(browser, login)
        errors = []
        for rp_secret, tamper in ((secret + "x", False), (secret, True)):
            rp = _rp(portal, client_id, rp_secret)
            back, verifier = code(browser, rp)
            with pytest.raises(OAuthError) as refused:
                rp.fetch_token(
                    f"{portal.base}/oidc/token",
                    authorization_response=back,
                    code_verifier=("b" * 43) if tamper else verifier,
                )
            errors.append(refused.value.error)
        post = _rp(portal, client_id, secret + "x", token_endpoint_auth_method="client_secret_post")
        back, verifier = code(browser, post)
        with pytest.raises(OAuthError) as refused:
            post.fetch_token(
                f"{portal.base}/oidc/token", authorization_response=back, code_verifier=verifier
            )
        errors.append(refused.value.error)
        return errors

    assert await asyncio.to_thread(flow) == ["invalid_client", "invalid_grant", "invalid_client"]

    def expired() -> str:
        browser, rp = portal.browser(), _rp(portal, client_id, secret)
        portal.sign_in(browser, login)
        back, verifier = code(browser, rp)
        portal.clock.advance(dt.timedelta(seconds=61))
        with pytest.raises(OAuthError) as refused:
            rp.fetch_token(
                f"{portal.base}/oidc/token", authorization_response=back, code_verifier=verifier
            )
        return refused.value.error

    assert await asyncio.to_thread(expired) == "invalid_grant"


async def test_public_client_uses_pkce_without_secret(portal: Portal):
    login, account_id = await agent(portal)
    client_id, secret = await _client(portal, public=True)
    assert secret is None

    def flow() -> dict:
        browser, rp = (
            portal.browser(),
            _rp(portal, client_id, None, token_endpoint_auth_method="none"),
        )
        portal.sign_in(browser, login)
        url, verifier, nonce = _start(portal, rp)
        back = portal.get(browser, url).headers["location"]
        token = rp.fetch_token(
            f"{portal.base}/oidc/token", authorization_response=back, code_verifier=verifier
        )
        _verify_id_token(portal, token["id_token"], client_id, nonce, token["access_token"])
        return rp.get(f"{portal.base}/oidc/userinfo").json()

    assert (await asyncio.to_thread(flow))["sub"] == account_id


async def test_prompt_none_without_session_and_userinfo_without_token(portal: Portal):
    client_id, secret = await _client(portal)

    def flow() -> tuple[str, requests.Response, requests.Response]:
        rp = _rp(portal, client_id, secret)
        url, _, _ = _start(portal, rp)
        silent = portal.get(portal.browser(), url + "&prompt=none").headers["location"]
        bare = portal.browser().get(f"{portal.base}/oidc/userinfo")
        forged = portal.browser().get(
            f"{portal.base}/oidc/userinfo",
            headers={"Authorization": "Bearer forged"},
        )
        return silent, bare, forged

    silent, bare, forged = await asyncio.to_thread(flow)
    assert parse_qs(urlsplit(silent).query)["error"] == ["login_required"]
    assert bare.status_code == 401 and bare.headers["www-authenticate"] == "Bearer"
    assert (
        forged.status_code == 401 and 'error="invalid_token"' in forged.headers["www-authenticate"]
    )


async def test_otp_sign_in_gives_amr_otp(portal: Portal):
    login, account_id = await agent(portal)
    factor = portal.platform.second_factor
    enrolment = await factor.enrolment(account_id)
    codes = await factor.confirm_enrolment(
        account_id, enrolment.sealed, pyotp.TOTP(enrolment.secret).at(portal.clock.now())
    )
    client_id, secret = await _client(portal)

    def flow() -> dict:
        browser, rp = portal.browser(), _rp(portal, client_id, secret)
        url, verifier, nonce = _start(portal, rp)
        first = portal.get(browser, url)
        next_url = parse_qs(urlsplit(first.headers["location"]).query)["next"][0]
        assert portal.sign_in(browser, login, next_url).headers["location"] == "/connexion/otp"
        done = portal.post_form(browser, "/connexion/otp", "/connexion/otp", code=codes[0])
        landing = portal.get(browser, done.headers["location"])
        token = rp.fetch_token(
            f"{portal.base}/oidc/token",
            authorization_response=continue_url(landing),
            code_verifier=verifier,
        )
        return _verify_id_token(portal, token["id_token"], client_id, nonce, token["access_token"])[
            1
        ]

    assert (await asyncio.to_thread(flow))["amr"] == ["pwd", "otp"]


async def test_rp_initiated_logout(portal: Portal, receiver: Receiver):
    login, _ = await agent(portal)
    client_id, secret = await _client(
        portal,
        post_logout_redirect_uris=["https://rp.example.test/bye"],
        backchannel_logout_uri=f"{receiver.base}/bcl",
    )

    def flow() -> tuple[requests.Response, requests.Response, requests.Response, requests.Response]:
        browser, rp = portal.browser(), _rp(portal, client_id, secret)
        portal.sign_in(browser, login)
        url, verifier, _ = _start(portal, rp)
        back = portal.get(browser, url).headers["location"]
        id_token = rp.fetch_token(
            f"{portal.base}/oidc/token", authorization_response=back, code_verifier=verifier
        )["id_token"]
        unregistered = browser.get(
            f"{portal.base}/oidc/logout",
            params={"id_token_hint": id_token, "post_logout_redirect_uri": "https://evil.example/"},
            allow_redirects=False,
        )
        unhinted = browser.get(
            f"{portal.base}/oidc/logout", params={"client_id": client_id}, allow_redirects=False
        )
        out = browser.get(
            f"{portal.base}/oidc/logout",
            params={
                "id_token_hint": id_token,
                "post_logout_redirect_uri": "https://rp.example.test/bye",
                "state": "xyz",
            },
            allow_redirects=False,
        )
        home = portal.get(browser, "/applications")
        return unregistered, unhinted, out, home

    unregistered, unhinted, out, home = await asyncio.to_thread(flow)
    assert unregistered.status_code == 400 and "location" not in unregistered.headers
    assert unhinted.status_code == 200 and "fin-de-session" in unhinted.text  # asks the agent
    assert (
        out.status_code == 303
        and out.headers["location"] == "https://rp.example.test/bye?state=xyz"
    )
    assert home.status_code == 303 and home.headers["location"].startswith("/connexion")
    assert len(receiver.bodies("/bcl", "logout_token")) == 1


async def test_prompt_login_and_max_age_ask_for_the_password_again(portal: Portal):
    login, _ = await agent(portal)
    client_id, secret = await _client(portal)

    def flow() -> tuple[requests.Response, requests.Response, str, str]:
        browser, rp = portal.browser(), _rp(portal, client_id, secret)
        portal.sign_in(browser, login)
        url, _, _ = _start(portal, rp)
        forced = portal.get(browser, url + "&prompt=login")
        aged = portal.get(browser, url + "&max_age=0")
        target = urlsplit(url + "&prompt=login")
        signed = portal.sign_in(browser, login, f"{target.path}?{target.query}")
        again = continue_url(portal.get(browser, signed.headers["location"]))
        long_nonce = portal.get(browser, url.replace("nonce=", "nonce=" + "n" * 300))
        return forced, aged, again, long_nonce.headers["location"]

    forced, aged, again, long_nonce = await asyncio.to_thread(flow)
    for page in (forced, aged):
        assert page.status_code == 200 and 'name="mot_de_passe"' in page.text
    assert again.startswith(CALLBACK + "?code=")  # the fresh sign-in satisfies prompt=login
    assert parse_qs(urlsplit(long_nonce).query)["error"] == ["invalid_request"]


async def test_logout_without_hint_needs_the_agents_confirmation(portal: Portal):
    login, _ = await agent(portal)
    client_id, _ = await _client(portal, post_logout_redirect_uris=["https://rp.example.test/bye"])
    params = f"client_id={client_id}&post_logout_redirect_uri=https%3A%2F%2Frp.example.test%2Fbye"

    def flow() -> tuple[requests.Response, requests.Response, requests.Response]:
        browser = portal.browser()
        portal.sign_in(browser, login)
        page = portal.get(browser, f"/oidc/logout?{params}&state=abc")
        still = portal.get(browser, "/applications")  # asking did not sign the agent out
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
        fields.pop("csrf")
        done = portal.post_form(browser, "/applications", "/oidc/fin-de-session", **fields)
        return still, done, portal.get(browser, "/applications")

    still, done, after = await asyncio.to_thread(flow)
    assert still.status_code == 200
    assert (
        done.status_code == 303
        and done.headers["location"] == "https://rp.example.test/bye?state=abc"
    )
    assert after.status_code == 303 and after.headers["location"].startswith("/connexion")
