"""Submission on 587 (STARTTLS) and 465 (implicit TLS) over real sockets, both stores.

Clients: the stdlib ``smtplib`` (run in a thread: it blocks) and ``aiosmtplib``
(which, unlike smtplib, sends non-ASCII passwords). Certificates come from a
trustme CA that the clients trust.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import smtplib
from collections.abc import AsyncIterator
from email.utils import format_datetime
from pathlib import Path

import aiosmtplib
import pytest
import sqlalchemy as sa

from academail.core.clock import FakeClock
from academail.identity import AccountState
from academail.identity.authenticate import AuthContext, Door, Outcome
from academail.identity.mail_policy import HOURLY_LIMIT_EVENT
from academail.identity.passwords import HashCost, hash_off_loop
from academail.mail import parse_message
from academail.runtime import Platform
from academail.store import outbox
from academail.store.tables import accounts, audit_log
from tests.fixtures.agents import PASSWORD
from tests.fixtures.smtp import (
    HOSTNAME,
    Ports,
    Tls,
    add_alias,
    agent,
    listeners,
    make_tls,
    services,
)

AUTH_FAILED = (535, "5.7.8 Authentication credentials invalid (identifiants refuses)")
AUTH_REQUIRED = (530, "5.7.0 Authentication required (authentification requise)")
NOT_YOURS = (553, "5.7.1 Sender address is not yours (expediteur non autorise)")
FROM_REFUSED = (550, "5.7.1 From: must be one of your addresses (From: non autorise)")
SENDER_NEEDED = (550, "5.7.1 Several From: addresses need a Sender: field (Sender: exige)")
MALFORMED = (550, "5.6.0 Malformed header (en-tete mal forme)")


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    return make_tls(tmp_path)


@pytest.fixture
async def ports(platform: Platform, tls: Tls) -> AsyncIterator[Ports]:
    async with listeners(services(platform), tls) as opened:
        yield opened


def _message(
    sender: str, to: str, subject: str = "Conseil de classe", *, dated: bool = True, extra: str = ""
) -> bytes:
    head = f"From: {sender}\r\nTo: <{to}>\r\nSubject: {subject}\r\n{extra}"
    if dated:
        head += "Date: Mon, 07 Sep 2026 08:00:00 +0200\r\nMessage-ID: <m.1@ac-amiens.fr>\r\n"
    head += "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
    return f"{head}Content-Transfer-Encoding: 8bit\r\n\r\nBonjour à tous.\r\n".encode()


async def _connect(port: int, tls: Tls, *, implicit: bool = False) -> aiosmtplib.SMTP:
    client = aiosmtplib.SMTP(
        hostname="127.0.0.1",
        port=port,
        tls_context=tls.client,
        use_tls=implicit,
        start_tls=not implicit,
        local_hostname="poste.example.org",
    )
    await client.connect()
    await client.ehlo()
    return client


async def _signed_in(
    port: int, tls: Tls, login: str, password: str = PASSWORD, *, implicit: bool = False
) -> aiosmtplib.SMTP:
    client = await _connect(port, tls, implicit=implicit)
    await client.login(login, password)
    return client


async def _inbox(platform: Platform, account_id: str) -> list[bytes]:
    return [await platform.mail.raw(m) for m in await platform.mail.messages(account_id, "INBOX")]


async def _audit(platform: Platform, action: str) -> list[dict[str, object]]:
    def work(conn: sa.Connection) -> list[dict[str, object]]:
        rows = conn.execute(sa.select(audit_log.c.details).where(audit_log.c.action == action))
        return [dict(r.details) for r in rows]

    return await platform.store.run(work)


# -- TLS and AUTH ------------------------------------------------------------------------
async def test_587_requires_starttls_then_auth(platform: Platform, ports: Ports, tls: Tls) -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=ports.submission, start_tls=False)
    await client.connect()
    await client.ehlo()
    assert client.supports_extension("starttls") and not client.supports_extension("auth")
    code, text = await client.execute_command(b"AUTH", b"PLAIN", b"AGEAYg==")
    assert (code, text) == (530, "5.7.0 Must issue a STARTTLS command first (STARTTLS d'abord)")
    assert (await client.execute_command(b"MAIL FROM:<a@ac-amiens.fr>"))[0] == 530
    await client.starttls(tls_context=tls.client)
    await client.ehlo()
    assert client.esmtp_extensions["auth"] == "LOGIN PLAIN"
    assert not client.supports_extension("starttls")
    assert await client.execute_command(b"MAIL FROM:<a@ac-amiens.fr>") == AUTH_REQUIRED
    await client.quit()


async def test_465_offers_auth_over_implicit_tls(
    platform: Platform, ports: Ports, tls: Tls
) -> None:
    client = await _connect(ports.submissions, tls, implicit=True)
    assert client.esmtp_extensions["auth"] == "LOGIN PLAIN"
    assert not client.supports_extension("starttls")
    assert await client.execute_command(b"MAIL FROM:<a@ac-amiens.fr>") == AUTH_REQUIRED
    assert (await client.execute_command(b"RCPT TO:<a@ac-amiens.fr>"))[0] == 503
    await client.quit()


def _smtplib_send(port: int, tls: Tls, login: str, address: str, *, implicit: bool) -> str:
    """One submission with the standard library: PLAIN on 587, LOGIN on 465."""
    if implicit:
        with smtplib.SMTP_SSL("127.0.0.1", port, context=tls.client, timeout=30) as client:
            client.ehlo()
            client.user, client.password = login, PASSWORD
            code, _text = client.auth("LOGIN", client.auth_login)
            assert code == 235
            client.sendmail(address, [address], _message(f"<{address}>", address, "LOGIN 465"))
            return "LOGIN"
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.starttls(context=tls.client)
        code, _text = client.login(login, PASSWORD)
        assert code == 235
        client.sendmail(address, [address], _message(f"<{address}>", address, "PLAIN 587"))
        return "PLAIN"


async def test_smtplib_plain_on_587_and_login_on_465(
    platform: Platform, ports: Ports, tls: Tls
) -> None:
    login, address, account_id = await agent(platform)
    await asyncio.to_thread(_smtplib_send, ports.submission, tls, login, address, implicit=False)
    await asyncio.to_thread(_smtplib_send, ports.submissions, tls, login, address, implicit=True)
    stored = await _inbox(platform, account_id)
    assert len(stored) == 2
    for raw in stored:
        head = raw.split(b"\r\n\r\n", 1)[0].decode()
        # RFC 5321 §4.4: final delivery adds Return-Path on top of the trace fields.
        assert head.startswith(f"Return-Path: <{address}>\r\nReceived: from ")
        assert "([127.0.0.1])" in head
        assert f"by {HOSTNAME} with ESMTPSA id " in head


async def _set_password_hash(platform: Platform, account_id: str, password: str) -> None:
    """A password the policy would not let an agent choose today (non-ASCII), as a
    migrated account may still have: AUTH must carry it as UTF-8 all the same."""
    profile = platform.settings.identity.password
    cost = HashCost(profile.time_cost, profile.memory_kib, profile.parallelism)
    encoded = await hash_off_loop(password, cost)
    await platform.store.run(
        lambda c: c.execute(
            accounts.update().where(accounts.c.id == account_id).values(password_hash=encoded)
        )
    )
    platform.authenticator.invalidate(account_id)


async def test_aiosmtplib_french_password_with_plain_and_login(
    platform: Platform, ports: Ports, tls: Tls
) -> None:
    password = "Élève-Château-Ça-2026 ç"
    login, address, account_id = await agent(platform)
    await _set_password_hash(platform, account_id, password)
    before = len(await _inbox(platform, account_id))
    client = await _connect(ports.submissions, tls, implicit=True)
    await client.auth_plain(login, password)
    await client.sendmail(address, [address], _message(address, address))
    await client.quit()
    client = await _connect(ports.submission, tls)
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await client.auth_login(login, password.replace("ç", "c"))
    await client.auth_login(login, password)
    await client.sendmail(address, [address], _message(address, address))
    await client.quit()
    assert len(await _inbox(platform, account_id)) == before + 2


async def test_wrong_and_unknown_get_one_reply_then_the_door_closes(
    platform: Platform, ports: Ports, tls: Tls
) -> None:
    login, _address, _account_id = await agent(platform)
    client = await _connect(ports.submissions, tls, implicit=True)
    replies = []
    for who, secret in ((login, "Faux-2026-mdp!"), ("personne.inconnue", "Faux-2026-mdp!")):
        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as refused:
            await client.auth_plain(who, secret)
        replies.append((refused.value.code, refused.value.message))
    assert replies == [AUTH_FAILED, AUTH_FAILED]
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await client.auth_login(login, "Encore-faux-2026!")
    with pytest.raises(aiosmtplib.SMTPServerDisconnected):  # 421 after three failures
        await client.noop()


async def test_malformed_auth_exchanges(platform: Platform, ports: Ports, tls: Tls) -> None:
    login, _address, _account_id = await agent(platform)
    client = await _connect(ports.submission, tls)
    acting = f"autre\x00{login}\x00{PASSWORD}".encode()
    code, text = await client.execute_command(b"AUTH", b"PLAIN", base64.b64encode(acting))
    assert (code, text[:5]) == (501, "5.5.2")  # no acting for another identity
    code, _text = await client.execute_command(b"AUTH", b"PLAIN", b"pas*du*base64")
    assert code == 501
    await client.quit()


async def test_lockout_through_smtp(
    platform: Platform, ports: Ports, tls: Tls, clock: FakeClock
) -> None:
    login, address, _account_id = await agent(platform)
    threshold = platform.settings.auth.lockout_threshold
    tried = 0
    for batch in (3, threshold - 3):  # a connection closes after three failures
        client = await _connect(ports.submissions, tls, implicit=True)
        for _ in range(batch):
            with pytest.raises(aiosmtplib.SMTPAuthenticationError):
                await client.auth_plain(login, f"Mauvais-{tried}-xyz!")
            tried += 1
        client.close()
    await platform.authenticator.drain()  # the lockout notice is mailed in the background
    assert (await platform.accounts.show(login)).state is AccountState.LOCKED
    client = await _connect(ports.submission, tls)
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as refused:
        await client.auth_plain(login, PASSWORD)  # the right password, locked: the same answer
    assert (refused.value.code, refused.value.message) == AUTH_FAILED
    await client.quit()
    portal = AuthContext(Door.PORTAL, "192.0.2.20", "Firefox")
    web = await platform.authenticator.authenticate(login, PASSWORD, portal)
    assert web.outcome is Outcome.FAILED  # locked for the web too
    (lockout,) = await _audit(platform, "auth.lockout")
    assert lockout["door"] == "smtp" and lockout["ip"] == "127.0.0.1"
    clock.advance(dt.timedelta(minutes=platform.settings.identity.lockout_minutes))
    client = await _signed_in(ports.submission, tls, login)
    await client.sendmail(address, [address], _message(address, address))
    await client.quit()


async def test_application_password_works(platform: Platform, ports: Ports, tls: Tls) -> None:
    login, address, account_id = await agent(platform)
    created = await platform.second_factor.create_app_password(account_id, "Téléphone")
    await platform.notifier.settle()  # the creation notice is mailed in the background
    before = len(await _inbox(platform, account_id))  # the creation notice is there
    client = await _signed_in(ports.submissions, tls, login, created.secret, implicit=True)
    await client.sendmail(address, [address], _message(address, address))
    await client.quit()
    await platform.second_factor.revoke_app_password(account_id, created.id)
    client = await _connect(ports.submissions, tls, implicit=True)
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await client.auth_plain(login, created.secret)
    await client.quit()
    assert len(await _inbox(platform, account_id)) == before + 1


# -- senders -----------------------------------------------------------------------------
async def test_envelope_sender_must_be_the_accounts(
    platform: Platform, ports: Ports, tls: Tls
) -> None:
    login, address, account_id = await agent(platform)
    _l2, colleague, _id2 = await agent(platform, 2)
    alias = f"vie.scolaire@{platform.settings.academie.domain}"
    await add_alias(platform, account_id, alias)
    client = await _signed_in(ports.submission, tls, login)  # aliases read at AUTH
    local, _, domain = address.partition("@")
    for refused in (colleague, "", f'"{address}"@example.org', f"{local}@{domain}.evil.org"):
        code, text = await client.execute_command(f"MAIL FROM:<{refused}>".encode())
        assert (code, text) == NOT_YOURS, refused
    for accepted in (address, address.upper(), alias, f'"{local}"@{domain}'):
        code, _text = await client.execute_command(f"MAIL FROM:<{accepted}>".encode())
        assert code == 250, accepted
        await client.rset()
    await client.quit()


def _from_cases(me: str, alias: str, colleague: str) -> list[tuple[str, str, tuple[int, str]]]:
    """(From: value, extra header lines, expected reply) for one account ``me``."""
    ok = (250, "2.0.0 Ok")
    local, _, domain = me.partition("@")
    return [
        (f"Jeanne Dupont <{me}>", "", ok),
        (me, "", ok),
        (f"<{me.upper()}>", "", ok),
        (f'"{colleague}" <{me}>', "", ok),  # a display name decides nothing
        (f"{me} (secrétariat)", "", ok),
        (f"=?utf-8?q?Jeanne_Dupont?= <{me}>", "", ok),
        (f'"{local}"@{domain}', "", ok),
        (f"(c) {local} (d) @ (e) {domain} (f)", "", ok),
        (f"Élève Référent <{alias}>", "", ok),
        (f'"{me}" <evil@example.org>', "", FROM_REFUSED),
        (f"{me} <evil@example.org>", "", FROM_REFUSED),
        (f"=?utf-8?q?{local}=40{domain}?= <evil@example.org>", "", FROM_REFUSED),
        (f"<{colleague}>", "", FROM_REFUSED),
        (f'"{me}"@example.org', "", FROM_REFUSED),
        (f"{local}@{domain}.example.org", "", FROM_REFUSED),
        (f"<@example.org:{me}>", "", FROM_REFUSED),
        (f"{me}, {colleague}", f"Sender: <{me}>\r\n", FROM_REFUSED),
        (f"{me} <{me}>", "", FROM_REFUSED),
        ("undisclosed:;", "", FROM_REFUSED),
        (f'"Jeanne\u202e" <{me}>', "", FROM_REFUSED),  # bidi override
        (f"jeanne\u200b.{me}", "", FROM_REFUSED),
        (f"{me}, {alias}", "", SENDER_NEEDED),
        (f"{me}, {alias}", f"Sender: Jeanne <{me}>\r\n", ok),
        (me, f"Sender: <{colleague}>\r\n", FROM_REFUSED),
        (me, f"From: <{colleague}>\r\n", FROM_REFUSED),
        (me, f"FROM : <{colleague}>\r\n", FROM_REFUSED),
        (me, "Ceci n'est pas un champ\r\n", MALFORMED),
    ]


async def test_from_header_must_be_the_accounts(platform: Platform, ports: Ports, tls: Tls) -> None:
    login, me, account_id = await agent(platform)
    _l2, colleague, _id2 = await agent(platform, 2)
    alias = f"vie.scolaire@{platform.settings.academie.domain}"
    await add_alias(platform, account_id, alias)
    client = await _signed_in(ports.submissions, tls, login, implicit=True)
    delivered = 0
    for value, extra, expected in _from_cases(me, alias, colleague):
        try:
            _errors, text = await client.sendmail(
                me, [me], _message(value, me, extra=extra), mail_options=["SMTPUTF8"]
            )
            got = (250, text)
        except aiosmtplib.SMTPDataError as refused:
            got = (refused.code, refused.message)
        assert got == expected, value
        delivered += got[0] == 250
    await client.quit()
    assert len(await _inbox(platform, account_id)) == delivered


async def test_message_id_and_date_are_added_when_missing(
    platform: Platform, ports: Ports, tls: Tls
) -> None:
    login, address, account_id = await agent(platform)
    client = await _signed_in(ports.submission, tls, login)
    await client.sendmail(address, [address], _message(address, address, "Sans", dated=False))
    await client.sendmail(address, [address], _message(address, address, "Avec", dated=True))
    await client.quit()
    bare, dated = await _inbox(platform, account_id)
    parsed = parse_message(bare)
    assert parsed.message_id.endswith(f"@{platform.settings.academie.domain}>")
    assert parsed.sent_at == platform.clock.now()
    assert format_datetime(platform.clock.now())[:16] in bare.decode()  # "Tue, 01 Sep 2026"
    assert dated.count(b"\r\nDate: ") == 1 and b"Message-ID: <m.1@ac-amiens.fr>" in dated
    assert dated.count(b"Message-ID:") == 1


async def test_utf8_submission_is_stored_as_sent(
    platform: Platform, ports: Ports, tls: Tls
) -> None:
    login, address, account_id = await agent(platform)
    sent = _message(f"Hélène Lefèvre <{address}>", address, "Élections au CA")
    client = await _signed_in(ports.submissions, tls, login, implicit=True)
    await client.sendmail(address, [address], sent, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    await client.quit()
    (stored,) = await _inbox(platform, account_id)
    received, _, rest = stored.partition(b"\r\nFrom: ")
    assert b"From: " + rest == sent
    assert b" with UTF8SMTPSA id " in received


# -- recipients and limits ---------------------------------------------------------------
async def test_remote_recipients_are_queued_local_ones_stored(
    platform: Platform, ports: Ports, tls: Tls
) -> None:
    login, address, _account_id = await agent(platform)
    _l2, colleague, colleague_id = await agent(platform, 2)
    domain = platform.settings.academie.domain
    client = await _signed_in(ports.submission, tls, login)
    await client.mail(address)
    with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
        await client.rcpt(f"personne.inconnue@{domain}")
    assert (refused.value.code, refused.value.message) == (
        550,
        "5.1.1 Unknown recipient (destinataire inconnu)",
    )
    await client.rcpt(colleague)
    await client.rcpt("parent.eleve@example.org")
    await client.data(_message(address, colleague))
    await client.quit()
    (entry,) = [e for e in await platform.queue.entries() if e.sender == address]
    assert entry.recipient == "parent.eleve@example.org"
    assert len(await _inbox(platform, colleague_id)) == 1


async def test_unknown_recipients_are_limited_per_account(platform: Platform, tls: Tls) -> None:
    login, address, _account_id = await agent(platform)
    _l2, colleague, colleague_id = await agent(platform, 2)
    domain = platform.settings.academie.domain
    async with listeners(services(platform, unknown_recipients_per_minute=1), tls) as ports:
        client = await _signed_in(ports.submission, tls, login)
        await client.mail(address)
        codes = []
        for rcpt in (f"typo.1@{domain}", f"typo.2@{domain}", colleague):
            with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
                await client.rcpt(rcpt)
            codes.append(refused.value.code)
        assert codes == [550, 450, 450]
        await client.quit()
        # The account is deferred, not the address it came from (a school's NAT).
        inbound = aiosmtplib.SMTP(hostname="127.0.0.1", port=ports.inbound, start_tls=False)
        await inbound.connect()
        await inbound.sendmail("parent@example.org", [colleague], _message(address, colleague))
        await inbound.quit()
    assert len(await _inbox(platform, colleague_id)) == 1


async def test_recipients_per_message_are_limited(platform: Platform, tls: Tls) -> None:
    login, address, _account_id = await agent(platform)
    async with listeners(services(platform, max_recipients=2), tls) as ports:
        client = await _signed_in(ports.submission, tls, login)
        await client.mail(address)
        await client.rcpt("a@example.org")
        await client.rcpt("b@example.org")
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
            await client.rcpt("c@example.org")
        assert (refused.value.code, refused.value.message) == (
            452,
            "4.5.3 Too many recipients (trop de destinataires)",
        )
        await client.data(_message(address, "a@example.org"))
        await client.quit()
    assert sorted(e.recipient for e in await platform.queue.entries() if e.sender == address) == [
        "a@example.org",
        "b@example.org",
    ]


async def test_messages_per_hour_alert_support_once(
    platform: Platform, tls: Tls, clock: FakeClock
) -> None:
    login, address, account_id = await agent(platform)
    limited = (
        450,
        "4.7.1 Too many messages this hour, try later (trop de messages cette heure-ci)",
    )
    async with listeners(services(platform, messages_per_hour=2), tls) as ports:
        client = await _signed_in(ports.submission, tls, login)
        for _ in range(2):
            await client.sendmail(address, [address], _message(address, address))
        for _ in range(2):
            with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
                await client.sendmail(address, [address], _message(address, address))
            assert (refused.value.code, refused.value.message) == limited
        clock.advance(dt.timedelta(hours=1))
        await client.sendmail(address, [address], _message(address, address))
        await client.quit()
    assert len(await _inbox(platform, account_id)) == 3
    (event,) = await _audit(platform, HOURLY_LIMIT_EVENT)
    assert event == {"limit": 2, "ip": "127.0.0.1"}
    support = platform.settings.notify.support_alert_address
    mails = await platform.store.run(lambda c: outbox.latest(c, support))
    assert len(mails) == 1 and login in mails[0].subject and login in mails[0].body


async def test_size_and_quota_refusals(platform: Platform, tls: Tls) -> None:
    login, address, account_id = await agent(platform)
    _l2, colleague, colleague_id = await agent(platform, 2)
    async with listeners(services(platform, max_message_bytes=1500), tls) as ports:
        client = await _signed_in(ports.submissions, tls, login, implicit=True)
        code, text = await client.execute_command(f"MAIL FROM:<{address}> SIZE=9999".encode())
        assert (code, text) == (552, "5.3.4 Message too big (message trop volumineux)")
        big = _message(address, colleague).replace(b"Bonjour", b"Bonjour\r\n" * 200)
        await client.mail(address)  # no SIZE=: the data itself is too big
        await client.rcpt(colleague)
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await client.data(big)
        assert refused.value.code == 552
        object.__setattr__(  # the colleague's mailbox is full
            platform.mail, "_settings", _tiny_quota(platform)
        )
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await client.sendmail(address, [colleague], _message(address, colleague))
        assert (refused.value.code, refused.value.message) == (
            552,
            "5.2.2 Mailbox full (boite pleine)",
        )
        await client.quit()
    assert await _inbox(platform, colleague_id) == []


def _tiny_quota(platform: Platform) -> object:
    mail = dataclasses.replace(platform.settings.mail, quota_bytes=10)
    return dataclasses.replace(platform.settings, mail=mail)
