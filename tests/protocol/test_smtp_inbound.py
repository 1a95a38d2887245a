"""Inbound SMTP on a real loopback socket, on SQLite and PostgreSQL (RFC 5321).

Clients: aiosmtplib for ordinary sessions, and a raw socket for the smuggling
payloads, because client libraries repair bare line endings before sending.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import aiosmtplib
import pytest

from academail.config import Settings
from academail.mail.recipients import RecipientResolver
from academail.runtime import Platform
from academail.smtp import InboundHandler, start_inbound
from tests.fixtures.agents import active_agent

HOST = "mx.test.invalid"


@pytest.fixture
async def smtp_port(platform: Platform) -> AsyncIterator[int]:
    resolver = RecipientResolver(platform.store, platform.settings)
    handler = InboundHandler(platform.mail, resolver, platform.clock, HOST)
    server = await start_inbound(handler, "127.0.0.1", 0, HOST)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def _agent(platform: Platform, n: int = 1) -> tuple[str, str]:
    """(address, account id) of a freshly activated agent."""
    login, account_id = await active_agent(platform, n)
    view = await platform.accounts.show(login)
    return view.record.address, account_id


def _message(to: str, subject: str = "Conseil de classe", body: str = "Bonjour") -> bytes:
    return (
        f"From: <parent@example.org>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '.')}@example.org>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    ).encode()


async def _client(port: int) -> aiosmtplib.SMTP:
    client = aiosmtplib.SMTP(
        hostname="127.0.0.1", port=port, start_tls=False, local_hostname="client.example.org"
    )
    await client.connect()
    await client.ehlo()
    return client


async def _inbox(platform: Platform, account_id: str) -> list[bytes]:
    return [await platform.mail.raw(m) for m in await platform.mail.messages(account_id, "INBOX")]


async def test_ehlo_advertises_the_extensions(platform: Platform, smtp_port: int) -> None:
    client = await _client(smtp_port)
    for extension in ("size", "8bitmime", "smtputf8", "pipelining", "enhancedstatuscodes"):
        assert client.supports_extension(extension), extension
    assert client.esmtp_extensions["size"] == str(35 * 1024 * 1024)
    await client.quit()


async def test_delivery_lands_in_inbox_with_received(platform: Platform, smtp_port: int) -> None:
    address, account_id = await _agent(platform)
    client = await _client(smtp_port)
    errors, reply = await client.sendmail("parent@example.org", [address], _message(address))
    await client.quit()
    assert errors == {} and reply.startswith("2.0.0")
    (stored,) = await _inbox(platform, account_id)
    head = stored.split(b"\r\n\r\n", 1)[0].decode()
    assert head.startswith("Received: from client.example.org ([127.0.0.1])\r\n")
    assert f"by {HOST} with ESMTP id " in head and f"for <{address}>;" in head
    assert "Subject: Conseil de classe" in head


async def test_two_local_recipients_share_one_blob(platform: Platform, smtp_port: int) -> None:
    first, first_id = await _agent(platform, 1)
    second, second_id = await _agent(platform, 2)
    client = await _client(smtp_port)
    await client.sendmail("parent@example.org", [first, second], _message(first))
    await client.quit()
    (a,) = await platform.mail.messages(first_id, "INBOX")
    (b,) = await platform.mail.messages(second_id, "INBOX")
    assert a.blob_key == b.blob_key
    assert b"\tfor <" not in await platform.mail.raw(a)  # no "for" with two recipients


async def test_unknown_and_foreign_recipients_are_refused(
    platform: Platform, smtp_port: int
) -> None:
    address, account_id = await _agent(platform)
    domain = platform.settings.academie.domain
    client = await _client(smtp_port)
    await client.mail("parent@example.org")
    replies = {}
    for rcpt in (f"personne.inconnue@{domain}", f"postmaster@{domain}", "x@example.org"):
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
            await client.rcpt(rcpt)
        replies[rcpt] = (refused.value.code, refused.value.message)
    assert replies[f"personne.inconnue@{domain}"] == (
        550,
        "5.1.1 Unknown recipient (destinataire inconnu)",
    )
    assert replies[f"postmaster@{domain}"] == replies[f"personne.inconnue@{domain}"]
    assert replies["x@example.org"] == (550, "5.7.1 Relaying denied (relais interdit)")
    await client.rcpt(address.upper())  # case does not distinguish addresses
    await client.data(_message(address))
    await client.quit()
    assert len(await platform.mail.messages(account_id, "INBOX")) == 1


async def test_eight_bit_utf8_body_and_address(platform: Platform, smtp_port: int) -> None:
    address, account_id = await _agent(platform)
    body = "Les élèves de 3ᵉ B partent à 8 h — réunion à l'Hôtel de Ville ✓"
    client = await _client(smtp_port)
    await client.sendmail(
        "hélène@exemple.fr", [address], _message(address, "Sortie", body),
        mail_options=["BODY=8BITMIME", "SMTPUTF8"],
    )  # fmt: skip
    await client.quit()
    (stored,) = await _inbox(platform, account_id)
    assert body.encode() in stored
    assert "with UTF8SMTP id " in stored.decode()


async def test_bare_lf_is_stored_as_crlf(platform: Platform, smtp_port: int) -> None:
    address, account_id = await _agent(platform)
    raw = _message(address, "Lignes", "une\nligne\rnue").replace(b"\r\n", b"\n")
    await _raw_session(smtp_port, address, raw + b"\r\n.\r\n")
    (stored,) = await _inbox(platform, account_id)
    assert b"une\r\nligne\r\nnue\r\n" in stored
    assert b"\n" not in stored.replace(b"\r\n", b"")
    assert b"\r" not in stored.replace(b"\r\n", b"")


async def test_smuggling_payloads_inject_no_second_message(
    platform: Platform, smtp_port: int
) -> None:
    address, account_id = await _agent(platform)
    victim, victim_id = await _agent(platform, 2)
    for end in (b"\n.\n", b"\r.\r\n", b"\n.\r\n", b"\r\n.\r"):
        smuggled = (
            b"Subject: visible\r\n\r\nbody" + end
            + b"MAIL FROM:<admin@" + platform.settings.academie.domain.encode() + b">\r\n"
            + b"RCPT TO:<" + victim.encode() + b">\r\nDATA\r\n"
            + b"Subject: forged\r\n\r\nforged\r\n.\r\n"
        )  # fmt: skip
        replies = await _raw_session(smtp_port, address, smuggled)
        assert replies.count(b"250 2.0.0 Ok") == 1, (end, replies)
    assert await platform.mail.messages(victim_id, "INBOX") == []
    stored = await _inbox(platform, account_id)
    assert len(stored) == 4 and all(b"Subject: forged" in m for m in stored)


async def test_quota_refusal_for_every_recipient(
    platform: Platform, settings: Settings, smtp_port: int
) -> None:
    address, account_id = await _agent(platform)
    tiny = dataclasses.replace(settings, mail=dataclasses.replace(settings.mail, quota_bytes=10))
    object.__setattr__(platform.mail, "_settings", tiny)
    client = await _client(smtp_port)
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await client.sendmail("parent@example.org", [address], _message(address))
    await client.quit()
    assert (refused.value.code, refused.value.message) == (552, "5.2.2 Mailbox full (boite pleine)")
    assert await platform.mail.messages(account_id, "INBOX") == []


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
