"""The outbound queue against real servers on loopback, on SQLite and PostgreSQL.

A receiving SMTP server (aiosmtpd, scripted replies) stands for the other domain's
MX host, and a DNS server on loopback UDP answers the relay's production resolver
(``queue.dns_servers``): MX and A records for ``example.net``, NXDOMAIN for names it
does not know. Retries and expiry are driven by the platform's FakeClock.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import email
import email.policy
import ssl
from collections.abc import AsyncIterator
from email.message import Message

import pytest
import sqlalchemy as sa
import trustme

from academail.config import Settings
from academail.delivery import compose_text
from academail.delivery.queue import QueueEntry, QueueWorker
from academail.runtime import Platform, open_platform
from academail.smtp.relay import SmtpRelay
from academail.store.tables import blob_refs
from tests.fixtures.agents import active_agent
from tests.fixtures.dns_server import DnsServer, start_dns
from tests.fixtures.smtp_receiver import Receiver, start_receiver

DOMAIN = "example.net"
MX = "mx.example.net"
LATER = "451 4.3.0 Try again later"
NO_SUCH_USER = "550 5.1.1 No such user here"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def dns_server() -> AsyncIterator[DnsServer]:
    server = await start_dns()
    server.add(DOMAIN, "MX", f"10 {MX}.")
    server.add(MX, "A", "127.0.0.1")
    yield server
    server.close()


async def _stop(receiver: Receiver) -> None:
    receiver.close()
    assert receiver.server is not None
    await receiver.server.wait_closed()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await start_receiver(MX)
    yield started
    await _stop(started)


def _queue_settings(settings: Settings, **changes: object) -> Settings:
    return dataclasses.replace(settings, queue=dataclasses.replace(settings.queue, **changes))


@pytest.fixture
def settings(settings: Settings, dns_server: DnsServer, receiver: Receiver) -> Settings:
    # Notifications stay in the outbox: the queue holds only what each test puts in.
    notify = dataclasses.replace(settings.notify, email_driver="outbox")
    return _queue_settings(
        dataclasses.replace(settings, notify=notify),
        dns_servers=[f"127.0.0.1:{dns_server.port}"],
        relay_port=receiver.port,
        timeout_seconds=10,
    )


def _worker(platform: Platform, relay: SmtpRelay | None = None) -> QueueWorker:
    return QueueWorker(platform.queue, relay or SmtpRelay(platform.settings), platform.router)


async def _sender(platform: Platform, n: int = 1) -> tuple[str, str]:
    login, account_id = await active_agent(platform, n)
    return (await platform.accounts.show(login)).record.address, account_id


async def _queue(
    platform: Platform, sender: str, recipients: list[str], account_id: str | None = None
) -> bytes:
    raw = compose_text(
        sender or "Robot <robot@ac-amiens.fr>",
        recipients,
        "Sortie au musée de Picardie",
        "Bonjour,\n\nRendez-vous à 9 h devant le musée.\n.\nCordialement",
        platform.clock,
        platform.settings.academie.domain,
    )
    await platform.queue.enqueue(sender, recipients, raw, account_id)
    return raw


async def _rows(platform: Platform) -> list[QueueEntry]:
    return await platform.queue.entries()


async def _inbox(platform: Platform, account_id: str) -> list[bytes]:
    return [await platform.mail.raw(m) for m in await platform.mail.messages(account_id, "INBOX")]


async def _refcount(platform: Platform, raw: bytes) -> int:
    from academail.blobs import blob_key

    key = blob_key(raw)
    rows = await platform.store.run(
        lambda c: (
            c.execute(sa.select(blob_refs.c.refcount).where(blob_refs.c.blob_key == key))
            .scalars()
            .all()
        )
    )
    return int(rows[0]) if rows else 0


def _report_parts(raw: bytes) -> tuple[Message, str, list[Message], str]:
    """(the DSN, its human text, its delivery-status blocks, the returned headers)."""
    dsn = email.message_from_bytes(raw, policy=email.policy.default)
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"
    human, status, headers = dsn.get_payload()
    assert human.get_content_type() == "text/plain"
    assert status.get_content_type() == "message/delivery-status"
    assert headers.get_content_type() == "text/rfc822-headers"
    return dsn, human.get_content(), status.get_payload(), headers.get_payload(decode=True).decode()


async def test_temporary_failures_then_delivery(platform: Platform, receiver: Receiver, clock):
    sender, account_id = await _sender(platform)
    receiver.rcpt_script["ami@example.net"] = [LATER, LATER]
    raw = await _queue(platform, sender, ["ami@example.net"], account_id)
    assert await _refcount(platform, raw) == 1
    worker = _worker(platform)

    first = await worker.run_once()
    assert (first.deferred, first.delivered) == (1, 0)
    (row,) = await _rows(platform)
    assert (row.state, row.attempts) == ("queued", 1)
    assert row.next_attempt_at == clock.now() + dt.timedelta(minutes=5)
    assert row.last_error == f"smtp; {LATER}"

    nothing = await worker.run_once()  # not due yet
    assert (nothing.deferred, nothing.delivered) == (0, 0) and receiver.transactions == 1

    clock.advance(dt.timedelta(minutes=5))
    assert (await worker.run_once()).deferred == 1
    (row,) = await _rows(platform)
    assert row.attempts == 2 and row.next_attempt_at == clock.now() + dt.timedelta(minutes=10)

    clock.advance(dt.timedelta(minutes=10))
    assert (await worker.run_once()).delivered == 1
    assert await _rows(platform) == []
    (received,) = receiver.messages
    assert received.content == raw  # byte for byte
    assert (received.mail_from, received.rcpt_tos) == (sender, ["ami@example.net"])
    assert received.helo == platform.settings.smtp.hostname
    assert await _refcount(platform, raw) == 0  # the queue's reference given back
    assert await _inbox(platform, account_id) == []  # no DSN for a delivered message


async def test_permanent_failure_returns_one_dsn(platform: Platform, receiver: Receiver):
    sender, account_id = await _sender(platform)
    receiver.rcpt_script["inconnu@example.net"] = [NO_SUCH_USER]
    receiver.rcpt_script["absent@example.net"] = ["550 5.1.1 Mailbox unavailable"]
    raw = await _queue(platform, sender, ["inconnu@example.net", "absent@example.net"], account_id)
    report = await _worker(platform).run_once()
    assert (report.failed, report.dsns, report.delivered) == (2, 1, 0)
    assert await _rows(platform) == [] and await _refcount(platform, raw) == 0
    assert receiver.messages == []

    (returned,) = await _inbox(platform, account_id)  # exactly one DSN
    assert returned.startswith(b"Return-Path: <>\r\n")  # RFC 5321 §4.5.5: from the null sender
    dsn, human, blocks, headers = _report_parts(returned)
    assert dsn["To"] == sender and dsn["From"].addresses[0].username == "MAILER-DAEMON"
    assert dsn["Auto-Submitted"] == "auto-replied"
    assert "n'a pas pu être remis" in human and "could not be delivered" in human
    assert "Rendez-vous" not in human  # never the body
    per_message, *per_recipient = blocks
    assert per_message["Reporting-MTA"] == f"dns; {platform.settings.smtp.hostname}"
    assert per_message["Arrival-Date"]
    assert [b["Final-Recipient"] for b in per_recipient] == [
        "rfc822; inconnu@example.net",
        "rfc822; absent@example.net",
    ]
    assert {b["Action"] for b in per_recipient} == {"failed"}
    assert {b["Status"] for b in per_recipient} == {"5.1.1"}
    assert per_recipient[0]["Diagnostic-Code"] == f"smtp; {NO_SUCH_USER}"
    assert per_recipient[0]["Remote-MTA"] == f"dns; {MX}"
    assert "Subject: Sortie au " in headers and "Rendez-vous" not in headers
    assert headers.strip() == raw.split(b"\r\n\r\n")[0].decode().strip()


async def test_per_recipient_outcomes_in_one_transaction(platform: Platform, receiver: Receiver):
    sender, account_id = await _sender(platform)
    receiver.rcpt_script["refuse@example.net"] = [NO_SUCH_USER]
    receiver.rcpt_script["plus-tard@example.net"] = [LATER]
    recipients = ["accepte@example.net", "refuse@example.net", "plus-tard@example.net"]
    raw = await _queue(platform, sender, recipients, account_id)
    report = await _worker(platform).run_once()
    assert (report.delivered, report.failed, report.deferred, report.dsns) == (1, 1, 1, 1)
    assert receiver.transactions == 1  # one message, one domain: one transaction
    (received,) = receiver.messages
    assert received.rcpt_tos == ["accepte@example.net"] and received.content == raw
    (row,) = await _rows(platform)
    assert row.recipient == "plus-tard@example.net"
    assert await _refcount(platform, raw) == 1  # only the waiting row holds it now
    (returned,) = await _inbox(platform, account_id)
    _dsn, _human, (_m, *per_recipient), _h = _report_parts(returned)
    assert [b["Final-Recipient"] for b in per_recipient] == ["rfc822; refuse@example.net"]


async def test_expiry_after_five_days_returns_the_message(
    platform: Platform, receiver: Receiver, clock
):
    sender, account_id = await _sender(platform)
    receiver.rcpt_script["lent@example.net"] = [LATER] * 1000
    await _queue(platform, sender, ["lent@example.net"], account_id)
    worker = _worker(platform)
    expires = (await _rows(platform))[0].expires_at
    assert expires == clock.now() + dt.timedelta(days=5)
    while clock.now() + dt.timedelta(hours=4) < expires:
        assert (await worker.run_once()).dsns == 0
        (row,) = await _rows(platform)
        assert row.next_attempt_at <= expires
        clock.set(row.next_attempt_at)
    assert await _inbox(platform, account_id) == []
    clock.set(expires)
    report = await worker.run_once()
    assert (report.failed, report.dsns) == (1, 1)
    assert await _rows(platform) == []
    (returned,) = await _inbox(platform, account_id)
    _dsn, human, (_m, block), _h = _report_parts(returned)
    assert (block["Action"], block["Status"]) == ("failed", "4.3.0")
    assert block["Diagnostic-Code"] == f"smtp; {LATER}"
    assert "dans le délai prévu" in human


async def test_the_null_sender_is_never_returned(platform: Platform, receiver: Receiver):
    _address, account_id = await _sender(platform)
    receiver.rcpt_script["inconnu@example.net"] = [NO_SUCH_USER]
    await _queue(platform, "", ["inconnu@example.net"])
    report = await _worker(platform).run_once()
    assert (report.failed, report.dsns) == (1, 0)
    assert await _rows(platform) == []  # nothing queued in return either
    assert await _inbox(platform, account_id) == []


async def test_dns_outcomes(platform: Platform, receiver: Receiver, dns_server: DnsServer):
    dns_server.add("sans-courrier.test", "MX", "0 .")  # RFC 7505 null MX
    dns_server.servfail.add("en-panne.test")
    dns_server.add("sans-mx.test", "A", "127.0.0.1")  # no MX: the domain's own address
    sender, account_id = await _sender(platform)
    recipients = [
        "a@inexistant.test",
        "b@sans-courrier.test",
        "c@en-panne.test",
        "d@sans-mx.test",
    ]
    await _queue(platform, sender, recipients, account_id)
    report = await _worker(platform).run_once()
    assert (report.delivered, report.failed, report.deferred, report.dsns) == (1, 2, 1, 1)
    assert [m.rcpt_tos for m in receiver.messages] == [["d@sans-mx.test"]]
    (row,) = await _rows(platform)
    assert row.recipient == "c@en-panne.test" and row.last_error.startswith("X-Academail;")
    (returned,) = await _inbox(platform, account_id)
    _dsn, _human, (_m, *blocks), _h = _report_parts(returned)
    assert {b["Final-Recipient"]: b["Status"] for b in blocks} == {
        "rfc822; a@inexistant.test": "5.1.2",
        "rfc822; b@sans-courrier.test": "5.1.10",
    }


async def test_next_mx_when_the_first_refuses_connections(
    platform: Platform, receiver: Receiver, dns_server: DnsServer
):
    dns_server.records[(DOMAIN, "MX")] = ["5 mort.example.net.", f"10 {MX}."]
    dns_server.add("mort.example.net", "A", "127.0.0.2")  # nothing listens there
    sender, account_id = await _sender(platform)
    await _queue(platform, sender, ["ami@example.net"], account_id)
    assert (await _worker(platform).run_once()).delivered == 1
    assert len(receiver.messages) == 1
    assert ("mort.example.net", "A") in dns_server.queries


async def test_next_mx_when_the_first_is_busy_at_mail_from(
    platform: Platform, receiver: Receiver, dns_server: DnsServer
):
    """A 4xx to MAIL FROM is this server's trouble: the next MX is tried at once."""
    receiver.mail_script.append("451 4.3.2 Busy, try later")
    second = await start_receiver("mx2.example.net", host="127.0.0.3", port=receiver.port)
    try:
        dns_server.records[(DOMAIN, "MX")] = [f"5 {MX}.", "10 mx2.example.net."]
        dns_server.add("mx2.example.net", "A", "127.0.0.3")
        sender, account_id = await _sender(platform)
        await _queue(platform, sender, ["ami@example.net"], account_id)
        assert (await _worker(platform).run_once()).delivered == 1
        assert receiver.messages == [] and len(second.messages) == 1
    finally:
        await _stop(second)


async def test_no_server_reachable_defers(platform: Platform, dns_server: DnsServer):
    dns_server.records[(DOMAIN, "MX")] = ["5 mort.example.net."]
    dns_server.add("mort.example.net", "A", "127.0.0.2")
    sender, account_id = await _sender(platform)
    await _queue(platform, sender, ["ami@example.net"], account_id)
    assert (await _worker(platform).run_once()).deferred == 1
    (row,) = await _rows(platform)
    assert row.last_error.startswith("X-Academail; cannot talk to mort.example.net")


async def test_starttls_is_used_when_offered(platform: Platform, ca: trustme.CA, receiver):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(MX).configure_cert(context)
    tls_receiver = await start_receiver(MX, context)
    try:
        relay = SmtpRelay(_queue_settings(platform.settings, relay_port=tls_receiver.port))
        sender, account_id = await _sender(platform)
        raw = await _queue(platform, sender, ["ami@example.net"], account_id)
        assert (await _worker(platform, relay).run_once()).delivered == 1
        (received,) = tls_receiver.messages
        assert received.tls and received.content == raw  # an unknown CA: opportunistic
    finally:
        await _stop(tls_receiver)


async def test_required_tls(platform: Platform, ca: trustme.CA, receiver: Receiver):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(MX).configure_cert(context)
    tls_receiver = await start_receiver(MX, context)
    strict = _queue_settings(
        platform.settings, relay_port=tls_receiver.port, require_tls_domains=[DOMAIN]
    )
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    sender, account_id = await _sender(platform)
    try:
        await _queue(platform, sender, ["ami@example.net"], account_id)
        # A certificate the system does not trust: the message waits.
        assert (await _worker(platform, SmtpRelay(strict)).run_once()).deferred == 1
        (row,) = await _rows(platform)
        assert row.last_error.startswith("X-Academail; TLS with mx.example.net failed")
        await platform.queue.retry()
        # A server without STARTTLS: the message waits.
        plain = dataclasses.replace(
            strict, queue=dataclasses.replace(strict.queue, relay_port=receiver.port)
        )
        assert (await _worker(platform, SmtpRelay(plain, trusting)).run_once()).deferred == 1
        (row,) = await _rows(platform)
        assert row.last_error == "X-Academail; TLS required, not offered by mx.example.net"
        assert receiver.messages == []
        await platform.queue.retry()
        # A verified certificate for the MX name: delivered.
        assert (await _worker(platform, SmtpRelay(strict, trusting)).run_once()).delivered == 1
        assert [m.tls for m in tls_receiver.messages] == [True]
    finally:
        await _stop(tls_receiver)


async def test_smarthost_takes_everything(platform: Platform, receiver: Receiver, dns_server):
    relay = SmtpRelay(
        _queue_settings(platform.settings, smarthost=f"127.0.0.1:{receiver.port}", relay_port=1)
    )
    sender, account_id = await _sender(platform)
    await _queue(platform, sender, ["x@ailleurs.invalid", "y@example.net"], account_id)
    report = await _worker(platform, relay).run_once()
    assert report.delivered == 2 and report.failed == 0
    assert sorted(r for m in receiver.messages for r in m.rcpt_tos) == [
        "x@ailleurs.invalid",
        "y@example.net",
    ]
    assert dns_server.queries == []  # no MX lookup with a smarthost


async def test_eight_bit_and_size_are_declared(platform: Platform, receiver: Receiver):
    sender, account_id = await _sender(platform)
    raw = await _queue(platform, sender, ["ami@example.net"], account_id)
    eight_bit = raw.replace(b"Content-Transfer-Encoding: quoted-printable", b"X-Note: oui")
    eight_bit = eight_bit.replace(b"Bonjour", "Été à Amiens".encode())
    await platform.queue.enqueue(sender, ["ami@example.net"], eight_bit, account_id)
    assert (await _worker(platform).run_once()).delivered == 2
    by_content = {m.content: m.mail_options for m in receiver.messages}
    assert "BODY=8BITMIME" in by_content[eight_bit]
    assert f"SIZE={len(eight_bit)}" in by_content[eight_bit]
    assert "BODY=8BITMIME" not in by_content[raw]


async def test_two_workers_never_deliver_a_row_twice(
    platform: Platform, receiver: Receiver, settings: Settings
):
    sender, account_id = await _sender(platform)
    for n in range(12):
        await _queue(platform, sender, [f"eleve{n}@example.net", f"parent{n}@example.net"])
    async with open_platform(settings, platform.clock) as other:
        reports = await asyncio.gather(
            _worker(platform).run_once(),
            _worker(other).run_once(),
            _worker(platform).run_once(),
        )
    assert sum(r.delivered for r in reports) == 24
    delivered = [r for m in receiver.messages for r in m.rcpt_tos]
    assert len(delivered) == len(set(delivered)) == 24
    assert await _rows(platform) == []


async def test_the_background_worker_wakes_on_enqueue(platform: Platform, receiver: Receiver):
    worker = _worker(platform)
    worker.start()
    try:
        sender, account_id = await _sender(platform)
        await _queue(platform, sender, ["ami@example.net"], account_id)
        for _ in range(500):
            if receiver.messages:
                break
            await asyncio.sleep(0.01)
        assert len(receiver.messages) == 1
    finally:
        await worker.stop()
    assert platform.queue.on_enqueued == []


async def test_a_failed_opportunistic_handshake_falls_back_to_clear(platform: Platform, ca):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(MX).configure_cert(context)
    context.verify_mode = ssl.CERT_REQUIRED  # asks for a client certificate we do not have
    broken = await start_receiver(MX, context)
    try:
        relay = SmtpRelay(_queue_settings(platform.settings, relay_port=broken.port))
        sender, account_id = await _sender(platform)
        raw = await _queue(platform, sender, ["ami@example.net"], account_id)
        assert (await _worker(platform, relay).run_once()).delivered == 1
        (received,) = broken.messages
        assert not received.tls and received.content == raw
    finally:
        await _stop(broken)


async def test_a_silent_server_times_out_and_the_message_waits(platform: Platform):
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never greets
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        relay = SmtpRelay(_queue_settings(platform.settings, relay_port=port, timeout_seconds=1))
        sender, account_id = await _sender(platform)
        await _queue(platform, sender, ["ami@example.net"], account_id)
        assert (await _worker(platform, relay).run_once()).deferred == 1
        (row,) = await _rows(platform)
        assert row.last_error.startswith("X-Academail; cannot talk to mx.example.net")
        assert "Timeout" in row.last_error
    finally:
        server.close()
        await server.wait_closed()


async def test_at_most_a_hundred_recipients_per_transaction(platform: Platform, receiver: Receiver):
    sender, account_id = await _sender(platform)
    recipients = [f"eleve{n}@example.net" for n in range(150)]
    await _queue(platform, sender, recipients, account_id)
    assert (await _worker(platform).run_once()).delivered == 150
    assert sorted(len(m.rcpt_tos) for m in receiver.messages) == [50, 100]
    assert receiver.transactions == 2
