"""Durability under SIGKILL: no acknowledged message lost, no partial message visible.

``academail serve`` runs as a real child process on the test's store. Parallel SMTP
sessions send messages to several local agents; at a random moment in the load
the child is killed with SIGKILL (no chance to flush anything), restarted, and the
store is checked: every message that got its ``250`` is in every recipient's
INBOX, and the invariants of :func:`academail.mail.integrity.check_integrity`
hold (UIDs, usage = sum of sizes, blob references, whole blob files). Twenty
kills, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import signal
from pathlib import Path

import aiosmtplib
import pytest
import sqlalchemy as sa

from academail.mail.integrity import check_integrity
from academail.runtime import Platform
from academail.store.tables import mailboxes, messages
from tests.fixtures.agents import active_agent
from tests.fixtures.server import free_port, start_server

KILLS = 20
SESSIONS = 8
RECIPIENTS = 4


def _message(message_id: str, to: list[str], size: int) -> bytes:
    body = ("Ligne de test accentuée é à ç.\r\n" * (size // 34 + 1)).encode("utf-8")
    head = (
        f"From: <externe@example.org>\r\nTo: {', '.join(to)}\r\n"
        f"Subject: crash {message_id}\r\nMessage-ID: <{message_id}@crash.test>\r\n"
        "Date: Mon, 23 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head.encode("utf-8") + body


async def _client(
    port: int,
    domain_addresses: list[str],
    acked: dict[str, list[str]],
    stop: asyncio.Event,
) -> None:
    rng = random.Random(secrets.randbits(32))
    while not stop.is_set():
        to = rng.sample(domain_addresses, rng.randint(1, len(domain_addresses)))
        message_id = secrets.token_hex(8)
        raw = _message(message_id, to, rng.choice([300, 5000, 60_000]))
        try:
            smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10, start_tls=False)
            await smtp.connect()
            try:
                errors, _reply = await smtp.sendmail("externe@example.org", to, raw)
            finally:
                smtp.close()
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            await asyncio.sleep(0.02)  # the server is down: try again
            continue
        if not errors:
            acked[message_id] = to


async def _acknowledged(acked: dict[str, list[str]], count: int) -> None:
    async with asyncio.timeout(60):
        while len(acked) < count:
            await asyncio.sleep(0.01)


def _delivered_counts(conn: sa.Connection) -> dict[str, int]:
    query = (
        sa.select(messages.c.message_id, sa.func.count())
        .select_from(messages.join(mailboxes, mailboxes.c.id == messages.c.mailbox_id))
        .where(mailboxes.c.name == "INBOX")
        .group_by(messages.c.message_id)
    )
    return {str(mid): int(n) for mid, n in conn.execute(query)}


@pytest.mark.slow
async def test_sigkill_during_load_loses_no_acknowledged_message(
    platform: Platform, tmp_path: Path
) -> None:
    logins = [(await active_agent(platform, n))[0] for n in range(1, RECIPIENTS + 1)]
    addresses = [(await platform.accounts.show(login)).record.address for login in logins]
    acked: dict[str, list[str]] = {}
    log = tmp_path / "serve.log"
    rng = random.Random(2026)
    for kill in range(KILLS):
        smtp_port, web_port = free_port(), free_port()
        process = await start_server(platform.settings, smtp_port, web_port, log)
        stop = asyncio.Event()
        clients = [
            asyncio.create_task(_client(smtp_port, addresses, acked, stop)) for _ in range(SESSIONS)
        ]
        # Kill while the load runs: after a few acknowledgements, at a random moment.
        await _acknowledged(acked, len(acked) + 2)
        await asyncio.sleep(rng.uniform(0.05, 0.6))
        process.send_signal(signal.SIGKILL)
        await process.wait()
        stop.set()
        await asyncio.gather(*clients)
        problems = await check_integrity(platform.store, platform.blobs)
        assert problems == [], f"after kill {kill + 1}: {problems}"
        stored = await platform.store.run(_delivered_counts)
        missing = {
            mid: len(to) - stored.get(f"<{mid}@crash.test>", 0)
            for mid, to in acked.items()
            if stored.get(f"<{mid}@crash.test>", 0) < len(to)
        }
        assert missing == {}, f"after kill {kill + 1}: acknowledged but missing {missing}"
    assert len(acked) >= 2 * KILLS  # the load did run between the kills
