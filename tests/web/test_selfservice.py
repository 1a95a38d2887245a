"""Self-service journeys over HTTP, on both stores: NUMEN identification, reset link,
mail settings and discovery URLs, "it wasn't me"; and the absence of enumeration."""

from __future__ import annotations

import datetime as dt
import plistlib
import re
import xml.etree.ElementTree as ET  # noqa: S405 - our own server's answers

import pyotp
import pytest

from academail.core.secretbox import seal
from academail.identity import AccountState, Event, messages
from academail.identity.authenticate import AuthContext, Door, Outcome
from academail.runtime import Platform
from academail.store import audit as audit_repo
from academail.store import captcha as captcha_repo
from academail.store import credentials as cred_repo
from academail.web.selfservice import clientconfig
from tests.fixtures.agents import PASSWORD, active_agent
from tests.fixtures.hr import numen
from tests.fixtures.letters import temporary_password
from tests.web.conftest import BASE, Browser, last_mail

NEW_PASSWORD = "Baie-de-Somme-2027!"
BIRTH = "1980-05-12"  # the default row of tests.fixtures.hr: 12/05/1980
TB = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"


# -- helpers -------------------------------------------------------------------------------
async def captcha_answer(platform: Platform, challenge_id: str) -> str:
    """What the picture shows, read from the server's store (no bypass in the code)."""
    answer = await platform.store.run(
        lambda c: captcha_repo.answer_of(c, challenge_id, platform.clock.now())
    )
    assert answer is not None
    return answer


def parse_xml(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314 - our own server's answer, in a test


def challenge_of(html: str) -> str:
    match = re.search(r'name="captcha_id" value="([0-9a-f]{32})"', html)
    assert match, "no captcha on the page"
    return match.group(1)


def normalised(web: Browser, html: str) -> str:
    """The page without what changes at each rendering: CSRF token and captcha id."""
    html = html.replace(web.token(html), "CSRF")
    return re.sub(r"[0-9a-f]{32}", "CAPTCHA", html)


async def identify(
    platform: Platform,
    web: Browser,
    page: str,
    numen_value: str,
    birth: str = BIRTH,
    *,
    wrong_captcha: bool = False,
):
    form = await web.get(page)
    challenge = challenge_of(form.text)
    answer = await captcha_answer(platform, challenge)
    if wrong_captcha:
        answer = "".join(str((int(d) + 1) % 10) for d in answer)
    data = {
        "csrf": web.token(form.text),
        "numen": numen_value,
        "naissance": birth,
        "captcha": answer,
        "captcha_id": challenge,
    }
    return await web.client.post(page, data=data, headers={"origin": BASE})


async def sign_in(platform: Platform, login: str, password: str) -> Outcome:
    result = await platform.authenticator.authenticate(
        login, password, AuthContext(Door.PORTAL, "192.0.2.9")
    )
    return result.outcome


async def actions_for(platform: Platform, login: str) -> list[audit_repo.AuditEntry]:
    return await platform.store.run(lambda c: audit_repo.entries_for(c, login, limit=100))


async def enable_otp(platform: Platform, account_id: str) -> str:
    secret = pyotp.random_base32()
    sealed = seal(secret.encode(), account_id, platform.authenticator.otp_key)
    now = platform.clock.now()
    await platform.store.run(
        lambda c: cred_repo.update(c, account_id, otp_secret_sealed=sealed, otp_enabled_at=now)
    )
    return secret


async def lock(platform: Platform, web: Browser, login: str) -> None:
    for n in range(platform.settings.auth.lockout_threshold):
        await web.submit(
            "/connexion", "/connexion", {"identifiant": login, "mot_de_passe": f"Faux-{n}-2026!"}
        )
    assert (await platform.accounts.show(login)).state is AccountState.LOCKED
    await platform.authenticator.drain()  # the lockout notice is sent in the background


def link_in(body: str, path: str) -> str:
    match = re.search(re.escape(path) + r"\?jeton=([A-Za-z0-9_\-]+)", body)
    assert match, body
    return f"{path}?jeton={match.group(1)}"


# -- "Je ne connais pas mon identifiant ou mon mot de passe" -------------------------------
async def test_numen_recovery_shows_the_login_and_sets_a_password(platform: Platform, web: Browser):
    login, _ = await active_agent(platform)
    page = await web.get("/assistance/identifiants")
    assert page.status_code == 200 and 'type="date"' in page.text
    assert "/assistance/captcha/" in page.text and ".wav" in page.text

    found = await identify(platform, web, "/assistance/identifiants", numen(1))
    assert found.status_code == 303
    assert found.headers["location"] == "/assistance/identifiants/mot-de-passe"
    form = await web.get("/assistance/identifiants/mot-de-passe")
    assert login in form.text and 'name="code"' not in form.text
    hints = await web.client.post(
        "/mot-de-passe/verifier",
        data={"csrf": web.token(form.text), "mot_de_passe": "court"},
        headers={"origin": BASE},
    )
    assert hints.status_code == 200 and hints.json()["reasons"]

    weak = await web.submit(
        "/assistance/identifiants/mot-de-passe",
        "/assistance/identifiants/mot-de-passe",
        {"mot_de_passe": "motdepasse", "confirmation": "motdepasse"},
    )
    assert weak.status_code == 422 and "12 caractères" in weak.text
    done = await web.submit(
        "/assistance/identifiants/mot-de-passe",
        "/assistance/identifiants/mot-de-passe",
        {"mot_de_passe": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/assistance/mot-de-passe-enregistre"
    assert (await web.get(done.headers["location"])).status_code == 200
    assert await sign_in(platform, login, NEW_PASSWORD) is Outcome.OK
    assert await sign_in(platform, login, PASSWORD) is Outcome.FAILED

    # The grant is over: the page sends back to the identification.
    again = await web.get("/assistance/identifiants/mot-de-passe")
    assert again.status_code == 303 and again.headers["location"] == "/assistance/identifiants"

    for recipient in ((await platform.accounts.show(login)).record.address, "perso1@example.org"):
        mail = await last_mail(platform, recipient)
        assert "NUMEN" in mail and login in mail and "127.0.0.1" in mail
    history = await actions_for(platform, login)
    changed = next(e for e in history if e.action == "password.changed")
    assert changed.details == {"how": "numen"}
    assert any(e.action == "selfservice.password" for e in history)
    assert all(numen(1) not in str(e.details) for e in history)


async def test_birth_date_as_text_and_a_letter_not_yet_activated(platform: Platform, web: Browser):
    from tests.fixtures.hr import export, row

    report = await platform.staff.run(export(row(numen=numen(2))), "rh.csv")
    login = report.created[0].login
    await temporary_password(platform, login)
    found = await identify(platform, web, "/assistance/identifiants", numen(2), "12/05/1980")
    assert found.status_code == 303
    assert login in (await web.get("/assistance/identifiants/mot-de-passe")).text


async def test_numen_recovery_lifts_a_lock(platform: Platform, web: Browser):
    login, _ = await active_agent(platform)
    await lock(platform, web, login)
    assert (await identify(platform, web, "/assistance/identifiants", numen(1))).status_code == 303
    done = await web.submit(
        "/assistance/identifiants/mot-de-passe",
        "/assistance/identifiants/mot-de-passe",
        {"mot_de_passe": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
    )
    assert done.status_code == 303
    assert (await platform.accounts.show(login)).state is AccountState.ACTIVE
    assert any(e.action == "account.unlock" for e in await actions_for(platform, login))
    assert await sign_in(platform, login, NEW_PASSWORD) is Outcome.OK


async def test_identification_failures_look_the_same(platform: Platform, web: Browser):
    await active_agent(platform)
    suspended, _ = await active_agent(platform, 2)
    await platform.accounts.apply(suspended, Event.SUSPEND, "support")
    wrong_date = await identify(platform, web, "/assistance/identifiants", numen(1), "1980-05-13")
    unknown = await identify(platform, web, "/assistance/identifiants", numen(99))
    bad_captcha = await identify(
        platform, web, "/assistance/identifiants", numen(1), wrong_captcha=True
    )
    not_eligible = await identify(platform, web, "/assistance/identifiants", numen(2))
    malformed = await identify(platform, web, "/assistance/identifiants", "pas un numen", "hier")
    answers = [wrong_date, unknown, bad_captcha, not_eligible, malformed]
    assert {a.status_code for a in answers} == {200}
    assert len({normalised(web, a.text) for a in answers}) == 1
    assert messages.SELF_SERVICE_FAILED in unknown.text
    assert "set-cookie" not in unknown.headers or "academail=" not in unknown.headers["set-cookie"]


async def test_captcha_is_single_use_and_checked(platform: Platform, web: Browser, clock):
    await active_agent(platform)
    form = await web.get("/assistance/identifiants")
    challenge = challenge_of(form.text)
    answer = await captcha_answer(platform, challenge)
    picture = await web.get(f"/assistance/captcha/{challenge}.png")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert picture.content.startswith(b"\x89PNG")
    sound = await web.get(f"/assistance/captcha/{challenge}.wav")
    assert sound.status_code == 200 and sound.content.startswith(b"RIFF")
    assert answer not in form.text

    fields = {"numen": numen(1), "naissance": BIRTH, "captcha_id": challenge}
    wrong = await web.submit(
        "/assistance/identifiants", "/assistance/identifiants", {**fields, "captcha": "000000"}
    )
    assert wrong.status_code == 200 and "ne permettent pas de vous identifier" in wrong.text
    replay = await web.submit(
        "/assistance/identifiants", "/assistance/identifiants", {**fields, "captcha": answer}
    )
    assert replay.status_code == 200, "a challenge gets one answer only"
    assert (await web.get(f"/assistance/captcha/{challenge}.png")).status_code == 404

    old = challenge_of((await web.get("/assistance/identifiants")).text)
    clock.advance(dt.timedelta(minutes=11))
    assert (await web.get(f"/assistance/captcha/{old}.png")).status_code == 404
    assert (await web.get("/assistance/captcha/not-an-id.png")).status_code == 404


async def test_otp_is_required_when_enabled(platform: Platform, web: Browser, clock):
    login, account_id = await active_agent(platform)
    secret = await enable_otp(platform, account_id)
    assert (await identify(platform, web, "/assistance/identifiants", numen(1))).status_code == 303
    form = await web.get("/assistance/identifiants/mot-de-passe")
    assert 'name="code"' in form.text
    path = "/assistance/identifiants/mot-de-passe"
    fields = {"mot_de_passe": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
    missing = await web.submit(path, path, fields)
    wrong = await web.submit(path, path, {**fields, "code": "000000"})
    assert missing.status_code == wrong.status_code == 422
    assert await sign_in(platform, login, PASSWORD) is Outcome.NEED_OTP
    right = await web.submit(path, path, {**fields, "code": pyotp.TOTP(secret).at(clock.now())})
    assert right.status_code == 303
    assert await sign_in(platform, login, NEW_PASSWORD) is Outcome.NEED_OTP


async def test_rate_limit_per_numen(platform: Platform, web: Browser, clock):
    login, _ = await active_agent(platform)
    limit = platform.settings.auth.self_service_numen_limit
    for day in range(limit):
        wrong = await identify(
            platform, web, "/assistance/identifiants", numen(1), f"1980-05-{day + 1:02d}"
        )
        assert wrong.status_code == 200
    blocked = await identify(platform, web, "/assistance/identifiants", numen(1))
    assert blocked.status_code == 200, "over its limit, a NUMEN fails like a wrong one"
    assert normalised(web, blocked.text) == normalised(web, wrong.text)
    clock.advance(dt.timedelta(minutes=61))
    assert (await identify(platform, web, "/assistance/identifiants", numen(1))).status_code == 303


async def test_rate_limit_per_ip(platform: Platform, web: Browser):
    limit = platform.settings.auth.self_service_ip_limit
    for n in range(limit):
        assert (
            await identify(platform, web, "/assistance/parametres", numen(50 + n))
        ).status_code == 200
    over = await identify(platform, web, "/assistance/parametres", numen(90))
    assert over.status_code == 429 and "Trop de tentatives" in over.text


# -- "Mot de passe oublié" --------------------------------------------------------------------
async def test_reset_link_journey_and_single_use(platform: Platform, web: Browser):
    login, _ = await active_agent(platform)
    sent = await web.submit(
        "/assistance/mot-de-passe-oublie", "/assistance/mot-de-passe-oublie", {"identifiant": login}
    )
    assert sent.status_code == 200
    link = link_in(await last_mail(platform, "perso1@example.org"), "/assistance/reinitialiser")
    opened = await web.get(link)
    assert opened.status_code == 303 and opened.headers["location"] == "/assistance/reinitialiser"
    form = await web.get("/assistance/reinitialiser")
    assert form.status_code == 200 and login in form.text
    done = await web.submit(
        "/assistance/reinitialiser",
        "/assistance/reinitialiser",
        {"mot_de_passe": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
    )
    assert done.status_code == 303
    assert await sign_in(platform, login, NEW_PASSWORD) is Outcome.OK
    assert "changé" in await last_mail(platform, "perso1@example.org")
    assert (await web.get(link)).status_code == 410
    fresh = Browser(web.client)
    assert (await fresh.get(link)).status_code == 410


async def test_reset_link_refused_password_keeps_the_link(platform: Platform, web: Browser):
    login, _ = await active_agent(platform)
    await platform.recovery.request_reset(login, "192.0.2.1")
    link = link_in(await last_mail(platform, "perso1@example.org"), "/assistance/reinitialiser")
    await web.get(link)
    weak = await web.submit(
        "/assistance/reinitialiser",
        "/assistance/reinitialiser",
        {"mot_de_passe": "motdepasse", "confirmation": "motdepasse"},
    )
    assert weak.status_code == 422
    good = await web.submit(
        "/assistance/reinitialiser",
        "/assistance/reinitialiser",
        {"mot_de_passe": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
    )
    assert good.status_code == 303


async def test_reset_link_expires(platform: Platform, web: Browser, clock):
    login, _ = await active_agent(platform)
    await platform.recovery.request_reset(login, "192.0.2.1")
    link = link_in(await last_mail(platform, "perso1@example.org"), "/assistance/reinitialiser")
    clock.advance(dt.timedelta(minutes=31))
    assert (await web.get(link)).status_code == 410
    assert await sign_in(platform, login, PASSWORD) is Outcome.OK


async def test_reset_link_with_otp(platform: Platform, web: Browser, clock):
    login, account_id = await active_agent(platform)
    secret = await enable_otp(platform, account_id)
    await platform.recovery.request_reset(login, "192.0.2.1")
    await web.get(
        link_in(await last_mail(platform, "perso1@example.org"), "/assistance/reinitialiser")
    )
    path = "/assistance/reinitialiser"
    fields = {"mot_de_passe": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
    assert (await web.submit(path, path, {**fields, "code": "123456"})).status_code == 422
    right = await web.submit(path, path, {**fields, "code": pyotp.TOTP(secret).at(clock.now())})
    assert right.status_code == 303


async def test_reset_request_does_not_enumerate(platform: Platform, web: Browser):
    login, _ = await active_agent(platform)
    from tests.fixtures.hr import export, row

    report = await platform.staff.run(export(row(numen=numen(2))), "rh-2.csv")
    unverified = report.created[0].login
    answers = []
    for identifier in (login, "personne.inconnue", unverified):
        answers.append(
            await web.submit(
                "/assistance/mot-de-passe-oublie",
                "/assistance/mot-de-passe-oublie",
                {"identifiant": identifier},
            )
        )
    assert {a.status_code for a in answers} == {200}
    bodies = {a.text.replace(web.token(a.text), "CSRF") for a in answers}
    assert len(bodies) == 1
    assert messages.RESET_SENT in answers[0].text
    assert "reinitialiser?jeton=" in await last_mail(platform, "perso1@example.org")


async def test_reset_requests_per_account_are_limited(platform: Platform):
    login, _ = await active_agent(platform)
    limit = platform.settings.auth.reset_requests_per_account
    for n in range(limit + 2):
        await platform.recovery.request_reset(login, f"192.0.2.{n}")
    history = await actions_for(platform, login)
    sent = [e for e in history if e.action == "selfservice.reset_request" and e.details["sent"]]
    assert len(sent) == limit


# -- "Mes paramètres de messagerie" and discovery ----------------------------------------------
async def test_mail_settings_page_and_downloads(platform: Platform, web: Browser):
    login, _ = await active_agent(platform)
    address = (await platform.accounts.show(login)).record.address
    assert (await web.get("/assistance/parametres/compte")).status_code == 303
    found = await identify(platform, web, "/assistance/parametres", numen(1), "12/05/1980")
    assert found.status_code == 303
    page = await web.get(found.headers["location"])
    web_settings = platform.settings.web
    for text in (login, address, web_settings.imap_host, web_settings.smtp_host, "993", "587"):
        assert text in page.text

    thunderbird = await web.get("/assistance/parametres/thunderbird.xml")
    assert "attachment" in thunderbird.headers["content-disposition"]
    root = parse_xml(thunderbird.content)
    assert {u.text for u in root.iter("username")} == {address}
    outlook = parse_xml((await web.get("/assistance/parametres/outlook.xml")).content)
    assert {e.text for e in outlook.iter(f"{TB}LoginName")} == {address}
    apple = await web.get("/assistance/parametres/apple.mobileconfig")
    assert apple.headers["content-type"] == "application/x-apple-aspen-config"
    profile = plistlib.loads(apple.content)
    payload = profile["PayloadContent"][0]
    assert payload["PayloadType"] == "com.apple.mail.managed"
    assert payload["EmailAddress"] == address and payload["IncomingMailServerPortNumber"] == 993
    assert not {"IncomingPassword", "OutgoingPassword"} & set(payload)
    assert (await web.get("/assistance/parametres/autre.txt")).status_code == 303


@pytest.mark.parametrize(
    "path", ["/.well-known/autoconfig/mail/config-v1.1.xml", "/mail/config-v1.1.xml"]
)
async def test_thunderbird_autoconfig_never_says_whether_an_address_exists(
    platform: Platform, web: Browser, path: str
):
    login, _ = await active_agent(platform)
    address = (await platform.accounts.show(login)).record.address
    known = await web.get(path, params={"emailaddress": address})
    unknown = await web.get(path, params={"emailaddress": "personne@ac-amiens.fr"})
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    root = parse_xml(known.content)
    assert root.tag == "clientConfig" and root.get("version") == "1.1"
    servers = {
        (s.get("type"), s.findtext("hostname"), s.findtext("port"), s.findtext("socketType"))
        for s in root.iter()
        if s.tag in ("incomingServer", "outgoingServer")
    }
    web_settings = platform.settings.web
    assert servers == {
        ("imap", web_settings.imap_host, "993", "SSL"),
        ("imap", web_settings.imap_host, "143", "STARTTLS"),
        ("pop3", web_settings.pop_host, "995", "SSL"),
        ("smtp", web_settings.smtp_host, "465", "SSL"),
        ("smtp", web_settings.smtp_host, "587", "STARTTLS"),
    }
    assert {u.text for u in root.iter("username")} == {"%EMAILADDRESS%"}
    assert "ac-amiens.fr" in {d.text for d in root.iter("domain")}


def _autodiscover(email: str, schema: str = clientconfig.AUTODISCOVER_SCHEMA) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">'
        f"<Request><EMailAddress>{email}</EMailAddress>"
        f"<AcceptableResponseSchema>{schema}</AcceptableResponseSchema></Request></Autodiscover>"
    ).encode()


async def test_outlook_autodiscover(platform: Platform, web: Browser):
    answer = await web.client.post(
        "/autodiscover/autodiscover.xml",
        content=_autodiscover("Quelqu.Un@ac-amiens.fr"),
        headers={"content-type": "text/xml"},
    )
    assert answer.status_code == 200, "no CSRF token nor Origin needed"
    root = parse_xml(answer.content)
    protocols = {
        (p.findtext(f"{TB}Type"), p.findtext(f"{TB}Server"), p.findtext(f"{TB}Port"))
        for p in root.iter(f"{TB}Protocol")
    }
    web_settings = platform.settings.web
    assert protocols == {
        ("IMAP", web_settings.imap_host, "993"),
        ("SMTP", web_settings.smtp_host, "587"),
        ("POP3", web_settings.pop_host, "995"),
    }
    assert {e.text for e in root.iter(f"{TB}LoginName")} == {"quelqu.un@ac-amiens.fr"}
    capital = await web.client.post(
        "/Autodiscover/Autodiscover.xml", content=_autodiscover("a@ac-amiens.fr")
    )
    assert capital.status_code == 200

    foreign = await web.client.post(
        "/autodiscover/autodiscover.xml", content=_autodiscover("a@example.org")
    )
    assert foreign.status_code == 200 and b"<ErrorCode>600</ErrorCode>" in foreign.content
    mobile = await web.client.post(
        "/autodiscover/autodiscover.xml",
        content=_autodiscover(
            "a@ac-amiens.fr",
            "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006",
        ),
    )
    assert b"<ErrorCode>601</ErrorCode>" in mobile.content


async def test_autodiscover_refuses_dtds_entities_and_big_bodies(web: Browser):
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b"<Autodiscover><Request><EMailAddress>&lol2;@ac-amiens.fr</EMailAddress></Request></Autodiscover>"
    )
    external = (
        b'<?xml version="1.0"?><!DOCTYPE a SYSTEM "file:///etc/passwd">'
        b"<Autodiscover><Request><EMailAddress>a@ac-amiens.fr</EMailAddress></Request></Autodiscover>"
    )
    utf16 = (
        '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'.encode(
            "utf-16"
        )
    )
    for body in (laughs, external, utf16, b"<pas du xml", b""):
        refused = await web.client.post("/autodiscover/autodiscover.xml", content=body)
        assert refused.status_code == 400, body
    big = _autodiscover("a@ac-amiens.fr" + " " * 20_000)
    assert (await web.client.post("/autodiscover/autodiscover.xml", content=big)).status_code == 413


def test_autodiscover_parser_reads_prefixed_names():
    body = (
        b'<a:Autodiscover xmlns:a="urn:x"><a:Request>'
        b"<a:EMailAddress> x@ac-amiens.fr </a:EMailAddress>"
        b"<a:AcceptableResponseSchema>s</a:AcceptableResponseSchema></a:Request></a:Autodiscover>"
    )
    assert clientconfig.parse_autodiscover_request(body) == clientconfig.AutodiscoverRequest(
        "x@ac-amiens.fr", "s"
    )


# -- "Ce n'était pas moi" -----------------------------------------------------------------
async def test_not_me_suspends_and_alerts_support(platform: Platform, web: Browser):
    login, _ = await active_agent(platform)
    address = (await platform.accounts.show(login)).record.address
    await lock(platform, web, login)
    link = link_in(await last_mail(platform, address), "/pas-moi")
    jeton = link.split("=", 1)[1]

    page = await web.get(link)
    assert page.status_code == 200 and 'action="/pas-moi"' in page.text
    assert (await platform.accounts.show(login)).state is AccountState.LOCKED, "GET changes nothing"

    done = await web.submit(link, "/pas-moi", {"jeton": jeton})
    assert done.status_code == 200
    assert platform.settings.academie.hacked_account_phone in done.text
    assert (await platform.accounts.show(login)).state is AccountState.SUSPENDED
    alert = await last_mail(platform, platform.settings.notify.support_alert_address)
    assert login in alert and "127.0.0.1" in alert
    assert PASSWORD not in alert and "jeton" not in alert
    assert any(e.action == "auth.not_me" for e in await actions_for(platform, login))

    again = await web.client.post(
        "/pas-moi", data={"csrf": web.token(page.text), "jeton": jeton}, headers={"origin": BASE}
    )
    assert again.status_code == 410
    assert (await web.get(link)).status_code == 410
    assert (await web.get("/pas-moi?jeton=faux")).status_code == 410


async def test_login_page_links_to_the_self_service(web: Browser):
    page = await web.get("/connexion")
    for path in (
        "/assistance/identifiants",
        "/assistance/mot-de-passe-oublie",
        "/assistance/parametres",
    ):
        assert f'href="{path}"' in page.text
        assert (await web.get(path)).status_code == 200
