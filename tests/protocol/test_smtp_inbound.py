"""Inbound SMTP (port 25) on real loopback sockets, on SQLite and PostgreSQL (RFC 5321).

Clients: aiosmtplib for ordinary sessions, and a raw socket for pipelining and the
smuggling payloads, because client libraries repair bare line endings and wait for
each reply. The listener delivers through the platform's router (the pipeline).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiosmtplib
import pytest
import sqlalchemy as sa

from academail.delivery import Action, Incoming, LocalRecipient, Pipeline, Verdict
from academail.runtime import Platform
from academail.store.tables import blob_refs
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

UNKNOWN = (550, "5.1.1 Unknown recipient (destinataire inconnu)")
DEFERRED = (450, "4.7.1 Too many unknown recipients, try later (trop de destinataires inconnus)")


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    return make_tls(tmp_path)


@pytest.fixture
async def ports(platform: Platform, tls: Tls) -> AsyncIterator[Ports]:
    async with listeners(services(platform), tls) as opened:
        yield opened


def _message(to: str, subject: str = "Conseil de classe", body: str = "Bonjour") -> bytes:
    return (
        f"From: <parent@example.org>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '.')}@example.org>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    ).encode()


async def _client(port: int, tls: ssl.SSLContext | None = None) -> aiosmtplib.SMTP:
    client = aiosmtplib.SMTP(
        hostname="127.0.0.1",
        port=port,
        start_tls=False,
        tls_context=tls,
        local_hostname="client.example.org",
    )
    await client.connect()
    await client.ehlo()
    return client


async def _inbox(platform: Platform, account_id: str) -> list[bytes]:
    return [await platform.mail.raw(m) for m in await platform.mail.messages(account_id, "INBOX")]


async def test_ehlo_advertises_the_extensions(platform: Platform, ports: Ports, tls: Tls) -> None:
    client = await _client(ports.inbound, tls.client)
    for extension in (
        "size",
        "8bitmime",
        "smtputf8",
        "pipelining",
        "enhancedstatuscodes",
        "starttls",
    ):
        assert client.supports_extension(extension), extension
    assert client.esmtp_extensions["size"] == str(35 * 1024 * 1024)
    assert not client.supports_extension("auth")
    await client.starttls()
    await client.ehlo()
    assert not client.supports_extension("auth") and not client.supports_extension("starttls")
    code, text = await client.execute_command(b"AUTH", b"PLAIN", b"AGEAYg==")
    assert (code, text) == (504, "5.5.4 Unrecognized authentication type")
    await client.quit()


async def test_delivery_lands_in_inbox_with_received(platform: Platform, ports: Ports) -> None:
    _login, address, account_id = await agent(platform)
    client = await _client(ports.inbound)
    errors, reply = await client.sendmail("parent@example.org", [address], _message(address))
    await client.quit()
    assert errors == {} and reply.startswith("2.0.0")
    (stored,) = await _inbox(platform, account_id)
    head = stored.split(b"\r\n\r\n", 1)[0].decode()
    # RFC 5321 §4.4: final delivery adds Return-Path on top of the trace fields.
    assert head.startswith(
        "Return-Path: <parent@example.org>\r\nReceived: from client.example.org ([127.0.0.1])\r\n"
    )
    assert f"by {HOSTNAME} with ESMTP id " in head and f"for <{address}>;" in head
    assert "Subject: Conseil de classe" in head


async def test_starttls_session_is_marked_esmtps(
    platform: Platform, ports: Ports, tls: Tls
) -> None:
    _login, address, account_id = await agent(platform)
    client = await _client(ports.inbound, tls.client)
    await client.starttls()
    await client.sendmail("parent@example.org", [address], _message(address))
    await client.quit()
    (stored,) = await _inbox(platform, account_id)
    assert f"by {HOSTNAME} with ESMTPS id ".encode() in stored


async def test_two_local_recipients_share_one_blob(platform: Platform, ports: Ports) -> None:
    _l1, first, first_id = await agent(platform, 1)
    _l2, second, second_id = await agent(platform, 2)
    client = await _client(ports.inbound)
    await client.sendmail("parent@example.org", [first, second], _message(first))
    await client.quit()
    (a,) = await platform.mail.messages(first_id, "INBOX")
    (b,) = await platform.mail.messages(second_id, "INBOX")
    assert a.blob_key == b.blob_key
    assert b"\tfor <" not in await platform.mail.raw(a)  # no "for" with two recipients


@pytest.mark.slow
async def test_fifty_local_recipients_are_stored_once(platform: Platform, ports: Ports) -> None:
    agents = [await agent(platform, n) for n in range(1, 51)]
    client = await _client(ports.inbound)
    errors, _reply = await client.sendmail(
        "parent@example.org", [a[1] for a in agents], _message(agents[0][1])
    )
    await client.quit()
    assert errors == {}
    keys = set()
    for _login, _address, account_id in agents:
        (info,) = await platform.mail.messages(account_id, "INBOX")
        keys.add(info.blob_key)
    assert len(keys) == 1
    (key,) = keys
    refs = await platform.store.run(
        lambda c: c.execute(
            sa.select(blob_refs.c.refcount).where(blob_refs.c.blob_key == key)
        ).scalar_one()
    )
    assert refs == 50
    files = [p for p in (platform.settings.data_dir / "blobs").rglob(key) if p.is_file()]
    assert len(files) == 1


async def test_unknown_and_foreign_recipients_are_refused(platform: Platform, ports: Ports) -> None:
    _login, address, account_id = await agent(platform)
    domain = platform.settings.academie.domain
    client = await _client(ports.inbound)
    await client.mail("parent@example.org")
    replies = {}
    for rcpt in (f"personne.inconnue@{domain}", f"postmaster@{domain}", "x@example.org"):
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
            await client.rcpt(rcpt)
        replies[rcpt] = (refused.value.code, refused.value.message)
    assert replies[f"personne.inconnue@{domain}"] == UNKNOWN
    assert replies[f"postmaster@{domain}"] == UNKNOWN
    assert replies["x@example.org"] == (550, "5.7.1 Relaying denied (relais interdit)")
    await client.rcpt(address.upper())  # case does not distinguish addresses
    await client.data(_message(address))
    await client.quit()
    assert len(await platform.mail.messages(account_id, "INBOX")) == 1


async def test_suspended_account_gets_the_unknown_text(platform: Platform, ports: Ports) -> None:
    from academail.identity import Event

    login, address, _account_id = await agent(platform)
    await platform.accounts.apply(login, Event.SUSPEND, "support")
    client = await _client(ports.inbound)
    await client.mail("parent@example.org")
    with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
        await client.rcpt(address)
    assert (refused.value.code, refused.value.message) == UNKNOWN
    await client.quit()


async def test_unknown_recipients_are_rate_limited_per_client(
    platform: Platform, tls: Tls, clock: object
) -> None:
    _login, address, account_id = await agent(platform)
    domain = platform.settings.academie.domain
    async with listeners(services(platform, unknown_recipients_per_minute=3), tls) as ports:
        client = await _client(ports.inbound)
        await client.mail("scanner@example.org")
        answers = []
        for n in range(5):
            with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
                await client.rcpt(f"devine.{n}@{domain}")
            answers.append((refused.value.code, refused.value.message))
        assert answers == [UNKNOWN] * 3 + [DEFERRED] * 2
        # Deferred before any lookup: a real address gets the same answer…
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
            await client.rcpt(address)
        assert (refused.value.code, refused.value.message) == DEFERRED
        await client.quit()
        # …on a new connection too (the limit is per client address)…
        client = await _client(ports.inbound)
        await client.mail("scanner@example.org")
        with pytest.raises(aiosmtplib.SMTPRecipientRefused):
            await client.rcpt(address)
        await client.quit()
        # …until the window is over.
        clock.advance(dt.timedelta(minutes=1))  # type: ignore[attr-defined]
        client = await _client(ports.inbound)
        await client.sendmail("scanner@example.org", [address], _message(address))
        await client.quit()
    assert len(await platform.mail.messages(account_id, "INBOX")) == 1


async def test_recipient_limit_per_transaction(platform: Platform, tls: Tls) -> None:
    agents = [await agent(platform, n) for n in (1, 2, 3)]
    async with listeners(services(platform, max_recipients=2), tls) as ports:
        client = await _client(ports.inbound)
        await client.mail("parent@example.org")
        await client.rcpt(agents[0][1])
        await client.rcpt(agents[1][1])
        await client.rcpt(agents[1][1])  # named twice: still two recipients
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
            await client.rcpt(agents[2][1])
        assert (refused.value.code, refused.value.message) == (
            452,
            "4.5.3 Too many recipients (trop de destinataires)",
        )
        await client.data(_message(agents[0][1]))
        await client.quit()
    counts = [len(await platform.mail.messages(a[2], "INBOX")) for a in agents]
    assert counts == [1, 1, 0]


async def test_null_sender_is_accepted_bad_senders_are_not(
    platform: Platform, ports: Ports
) -> None:
    _login, address, account_id = await agent(platform)
    client = await _client(ports.inbound)
    for bad in (b"<a..b@example.org>", b"<a@-x.org>", b'<"ouvert@x.org>', b"<a@b@c.org>"):
        code, text = await client.execute_command(b"MAIL FROM:" + bad)
        assert code in (501, 553), (bad, code, text)
        assert text[:2] == "5.", (bad, text)
        await client.rset()
    await client.sendmail("", [address], _message(address, "Non remis"))
    await client.quit()
    assert len(await platform.mail.messages(account_id, "INBOX")) == 1


async def test_eight_bit_utf8_body_and_sender_are_stored_as_sent(
    platform: Platform, ports: Ports
) -> None:
    _login, address, account_id = await agent(platform)
    body = "Les élèves de 3ᵉ B partent à 8 h — réunion à l'Hôtel de Ville ✓"
    sent = _message(address, "Sortie", body)
    client = await _client(ports.inbound)
    await client.sendmail(
        "hélène@exemple.fr", [address], sent, mail_options=["BODY=8BITMIME", "SMTPUTF8"]
    )
    await client.quit()
    (stored,) = await _inbox(platform, account_id)
    received, _, rest = stored.partition(b"\r\nFrom: ")
    assert b"From: " + rest == sent  # byte for byte after our Received field
    assert b"with UTF8SMTP id " in received


async def test_utf8_address_in_a_local_domain(platform: Platform, ports: Ports) -> None:
    _login, _address, account_id = await agent(platform)
    alias = f"hélène.dupont@{platform.settings.academie.domain}"
    await add_alias(platform, account_id, alias)
    client = await _client(ports.inbound)
    await client.mail("parent@example.org")  # no SMTPUTF8: the address may not be used
    with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
        await client.rcpt(alias, encoding="utf-8")
    assert (refused.value.code, refused.value.message[:5]) == (553, "5.6.7")
    await client.rset()
    await client.sendmail(
        "parent@example.org", [alias], _message(alias), mail_options=["SMTPUTF8", "BODY=8BITMIME"]
    )
    await client.quit()
    assert len(await platform.mail.messages(account_id, "INBOX")) == 1


async def test_bare_lf_is_stored_as_crlf(platform: Platform, ports: Ports) -> None:
    _login, address, account_id = await agent(platform)
    raw = _message(address, "Lignes", "une\nligne\rnue").replace(b"\r\n", b"\n")
    await _raw_session(ports.inbound, address, raw + b"\r\n.\r\n")
    (stored,) = await _inbox(platform, account_id)
    assert b"une\r\nligne\r\nnue\r\n" in stored
    assert b"\n" not in stored.replace(b"\r\n", b"")
    assert b"\r" not in stored.replace(b"\r\n", b"")


async def test_smuggling_payloads_inject_no_second_message(
    platform: Platform, ports: Ports
) -> None:
    _l1, address, account_id = await agent(platform)
    _l2, victim, victim_id = await agent(platform, 2)
    for end in (b"\n.\n", b"\r.\r\n", b"\n.\r\n", b"\r\n.\r"):
        smuggled = (
            b"Subject: visible\r\n\r\nbody" + end
            + b"MAIL FROM:<admin@" + platform.settings.academie.domain.encode() + b">\r\n"
            + b"RCPT TO:<" + victim.encode() + b">\r\nDATA\r\n"
            + b"Subject: forged\r\n\r\nforged\r\n.\r\n"
        )  # fmt: skip
        replies = await _raw_session(ports.inbound, address, smuggled)
        assert replies.count(b"250 2.0.0 Ok") == 1, (end, replies)
    assert await platform.mail.messages(victim_id, "INBOX") == []
    stored = await _inbox(platform, account_id)
    assert len(stored) == 4 and all(b"Subject: forged" in m for m in stored)


async def test_pipelined_commands_are_answered_in_order(platform: Platform, ports: Ports) -> None:
    _l1, first, first_id = await agent(platform, 1)
    _l2, second, second_id = await agent(platform, 2)
    domain = platform.settings.academie.domain.encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", ports.inbound)
    await reader.readline()  # greeting
    writer.write(b"EHLO raw.example.org\r\n")
    while not (await reader.readline()).startswith(b"250 "):
        pass
    writer.write(  # one write: MAIL, three RCPTs and DATA (RFC 2920 §3.1)
        b"MAIL FROM:<parent@example.org>\r\nRCPT TO:<" + first.encode() + b">\r\n"
        b"RCPT TO:<inconnu@" + domain + b">\r\nRCPT TO:<" + second.encode() + b">\r\nDATA\r\n"
    )
    await writer.drain()
    replies = [await reader.readline() for _ in range(5)]
    assert [r[:9] for r in replies] == [
        b"250 2.1.0",
        b"250 2.1.5",
        b"550 5.1.1",
        b"250 2.1.5",
        b"354 End d",
    ]
    writer.write(_message(first) + b".\r\nQUIT\r\n")
    await writer.drain()
    assert (await reader.readline()).startswith(b"250 2.0.0")
    assert (await reader.readline()).startswith(b"221 2.0.0")
    writer.close()
    await writer.wait_closed()
    assert len(await platform.mail.messages(first_id, "INBOX")) == 1
    assert len(await platform.mail.messages(second_id, "INBOX")) == 1


async def test_size_is_announced_and_enforced(platform: Platform, tls: Tls) -> None:
    _login, address, account_id = await agent(platform)
    too_big = (552, "5.3.4 Message too big (message trop volumineux)")
    async with listeners(services(platform, max_message_bytes=2000), tls) as ports:
        client = await _client(ports.inbound)
        assert client.esmtp_extensions["size"] == "2000"
        code, text = await client.execute_command(b"MAIL FROM:<parent@example.org> SIZE=2001")
        assert (code, text) == too_big
        await client.mail("parent@example.org")
        await client.rcpt(address)
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await client.data(_message(address, body=("x" * 70 + "\r\n") * 40))
        assert (refused.value.code, refused.value.message) == too_big
        await client.sendmail("parent@example.org", [address], _message(address, body="petit"))
        await client.quit()
    assert len(await platform.mail.messages(account_id, "INBOX")) == 1


async def test_quota_refusal_for_every_recipient(platform: Platform, ports: Ports) -> None:
    _login, address, account_id = await agent(platform)
    tiny = dataclasses.replace(
        platform.settings, mail=dataclasses.replace(platform.settings.mail, quota_bytes=10)
    )
    object.__setattr__(platform.mail, "_settings", tiny)
    client = await _client(ports.inbound)
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await client.sendmail("parent@example.org", [address], _message(address))
    await client.quit()
    assert (refused.value.code, refused.value.message) == (552, "5.2.2 Mailbox full (boite pleine)")
    assert await platform.mail.messages(account_id, "INBOX") == []


class _RefuseAll:
    name = "refuse-all"

    async def examine(self, message: Incoming, recipient: LocalRecipient) -> Verdict:
        return Verdict(Action.REJECT, reason="5.7.1 Refused by policy (refuse)")


async def test_a_stage_refusal_is_the_reply(
    platform: Platform, ports: Ports, monkeypatch: pytest.MonkeyPatch
) -> None:
    _login, address, account_id = await agent(platform)
    monkeypatch.setattr(platform.router.local, "pipeline", Pipeline([_RefuseAll()]))
    client = await _client(ports.inbound)
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await client.sendmail("parent@example.org", [address], _message(address))
    await client.quit()
    assert (refused.value.code, refused.value.message) == (550, "5.7.1 Refused by policy (refuse)")
    assert await platform.mail.messages(account_id, "INBOX") == []


class _RefuseOne:
    name = "refuse-one"

    def __init__(self, address: str) -> None:
        self.address = address

    async def examine(self, message: Incoming, recipient: LocalRecipient) -> Verdict:
        if recipient.address == self.address:
            return Verdict(Action.REJECT, reason="5.7.1 Refused by policy (refuse)")
        return Verdict()


async def test_a_recipient_failing_beside_an_accepted_one_gets_a_dsn(
    platform: Platform, ports: Ports, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 5321 §6.1: once accepted, a recipient that does not get it is reported."""
    _l, kept, kept_id = await agent(platform, 1)
    _l, refused, refused_id = await agent(platform, 2)
    _l, sender, sender_id = await agent(platform, 3)
    monkeypatch.setattr(platform.router.local, "pipeline", Pipeline([_RefuseOne(refused)]))
    before = len(await _inbox(platform, sender_id))
    client = await _client(ports.inbound)
    errors, _reply = await client.sendmail(sender, [kept, refused], _message(kept))
    await client.quit()
    assert errors == {}
    assert len(await _inbox(platform, kept_id)) >= 1
    assert all(b"Conseil de classe" not in raw for raw in await _inbox(platform, refused_id))
    dsns = (await _inbox(platform, sender_id))[before:]
    assert len(dsns) == 1
    dsn = dsns[0]
    assert dsn.startswith(b"Return-Path: <>\r\n")
    assert b"report-type=delivery-status" in dsn
    assert f"Final-Recipient: rfc822; {refused}".encode() in dsn
    assert b"Status: 5.7.1" in dsn and f"rfc822; {kept}".encode() not in dsn


async def test_aiosmtpd_replies_carry_enhanced_codes(platform: Platform, ports: Ports) -> None:
    client = await _client(ports.inbound)
    assert await client.execute_command(b"DATA") == (
        503,
        "5.5.1 Need RCPT command first (RCPT d'abord)",
    )  # noqa: E501
    assert (await client.execute_command(b"RCPT TO:<a@b.fr>"))[:1] == (503,)
    code, text = await client.execute_command(b"VRFY root")
    assert (code, text[:5]) == (252, "2.5.0")
    code, text = await client.execute_command(b"NOOP")
    assert (code, text) == (250, "2.0.0 Ok")
    await client.quit()


async def test_idle_session_is_closed(platform: Platform, tls: Tls) -> None:
    async with listeners(services(platform, idle_timeout_seconds=1), tls) as ports:
        reader, writer = await asyncio.open_connection("127.0.0.1", ports.inbound)
        assert (await reader.readline()).startswith(b"220 ")
        assert await asyncio.wait_for(reader.read(), timeout=30) == b""  # closed by the server
        writer.close()


async def _raw_session(port: int, rcpt: str, data_and_end: bytes) -> bytes:
    """One pipelined transaction written byte for byte; returns every reply."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"EHLO raw.example.org\r\nMAIL FROM:<parent@example.org>\r\n"
        + b"RCPT TO:<" + rcpt.encode() + b">\r\nDATA\r\n"
    )  # fmt: skip
    await writer.drain()
    replies = b""
    while b"354" not in replies:
        replies += await reader.read(4096)
    writer.write(data_and_end + b"QUIT\r\n")
    await writer.drain()
    replies += await reader.read()  # until the server closes after QUIT
    writer.close()
    await writer.wait_closed()
    return replies
