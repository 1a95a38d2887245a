"""Inbound SMTP throughput: messages accepted and durably delivered per second (issue 4).

``academail serve`` runs as its own process (as in production); this process is
the load: C parallel sessions, a connection per message (as smtp-source does for
the Postfix figure in the issue), each message to one local agent. A message
counts when its ``250`` arrives, which the server sends only after the blob and
the rows are durable (fsync'd blob, committed with ``synchronous=FULL`` or by
PostgreSQL): accepted and durably delivered are the same event. At the end the
stored rows are counted to make sure (delivered = acknowledged).

Two ways of sending are measured: a connection per message (as the issue's
Postfix figure) and 20 messages per connection (what MTAs do with connection
caching; aiosmtpd's per-session command limit is 20). Prints one line per
(store, size, way) and a JSON line; peak memory is the server's VmHWM.
Target: ≥ 1,000 messages/s of 5 KB on SQLite with 20 sessions.
Usage: .venv/bin/python bench/smtp.py [--sessions 20] [--seconds 15] [--pg URL]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.fixtures, from anywhere

from tests.conftest import cheap_settings  # noqa: E402
from tests.fixtures.agents import active_agent  # noqa: E402
from tests.fixtures.server import free_port, start_server  # noqa: E402

from academail.config import Settings  # noqa: E402
from academail.runtime import initialise, open_platform  # noqa: E402
from academail.store.tables import messages  # noqa: E402

AGENTS = 10
REUSE = 20  # messages per connection: aiosmtpd allows 20 MAIL commands per session


def _message(to: str, size: int) -> bytes:
    head = (
        f"From: <bench@example.org>\r\nTo: <{to}>\r\nSubject: bench {secrets.token_hex(4)}\r\n"
        f"Message-ID: <{secrets.token_hex(10)}@bench.test>\r\n"
        "Date: Mon, 23 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    ).encode()
    line = b"Bonjour, voici le compte rendu du conseil de classe du trimestre.\r\n"
    body = line * max(1, (size - len(head)) // len(line))
    return head + body


async def _reply(reader: asyncio.StreamReader) -> bytes:
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("closed")
        if line[3:4] != b"-":
            return line


async def _session(port: int, jobs: list[tuple[str, bytes]], stop: float, per_session: int) -> int:
    """One connection carrying up to ``per_session`` messages; returns how many got 250.

    Each transaction is pipelined (RFC 2920): MAIL, RCPT and DATA in one write.
    """
    acked = 0
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await _reply(reader)
        writer.write(b"EHLO bench.example.org\r\n")
        await _reply(reader)
        for to, raw in jobs[:per_session]:
            if time.perf_counter() >= stop:
                break
            writer.write(
                b"MAIL FROM:<bench@example.org>\r\nRCPT TO:<" + to.encode() + b">\r\nDATA\r\n"
            )
            replies = [await _reply(reader) for _ in range(3)]
            if not replies[2].startswith(b"354"):
                continue
            writer.write(raw.replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n")
            if (await _reply(reader)).startswith(b"250"):
                acked += 1
        writer.write(b"QUIT\r\n")
        await _reply(reader)
    finally:
        writer.close()
    return acked


async def _load(
    port: int,
    addresses: list[str],
    size: int,
    sessions: int,
    seconds: float,
    per_session: int = 1,
) -> int:
    acked = 0
    stop = time.perf_counter() + seconds
    bodies = [(a, _message(a, size)) for a in addresses]

    async def worker(n: int) -> None:
        nonlocal acked
        i = n
        while time.perf_counter() < stop:
            jobs = [bodies[(i + j) % len(bodies)] for j in range(per_session)]
            got = await _session(port, jobs, stop, per_session)
            acked += got  # after the await: "acked += await …" would lose updates
            i += sessions

    await asyncio.gather(*(worker(n) for n in range(sessions)))
    return acked


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _count(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar_one())


async def _run(
    settings: Settings, size: int, sessions: int, seconds: float
) -> list[dict[str, object]]:
    """Both ways of sending: a connection per message, and REUSE per connection."""
    await initialise(settings)
    async with open_platform(settings) as platform:
        logins = [(await active_agent(platform, n))[0] for n in range(1, AGENTS + 1)]
        addresses = [(await platform.accounts.show(x)).record.address for x in logins]
        before = await platform.store.run(_count)
    port = free_port()
    log = settings.data_dir / "serve.log"
    process = await start_server(settings, port, free_port(), log)
    await asyncio.sleep(3)  # the server's start-up work (word lists) ends before we measure
    rates = {}
    acked_total = 0
    try:
        acked_total += await _load(port, addresses, size, sessions, 1.0)  # warm caches
        for per_session in (1, REUSE):
            started = time.perf_counter()
            acked = await _load(port, addresses, size, sessions, seconds, per_session)
            rates[per_session] = acked / (time.perf_counter() - started)
            acked_total += acked
        peak = _peak_rss_mb(process.pid)
    finally:
        process.terminate()
        await process.wait()
    async with open_platform(settings) as platform:
        stored = await platform.store.run(_count) - before
    return [
        {
            "store": settings.database_url.split(":")[0],
            "size_kb": size // 1024,
            "sessions": sessions,
            "messages_per_connection": per_session,
            "accepted_per_s": round(rate, 1),
            "acknowledged_total": acked_total,
            "stored_total": stored,
            "peak_rss_mb": round(peak, 1),
        }
        for per_session, rate in rates.items()
    ]


async def _pg_database(admin_url: str) -> str:
    name = f"academail_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--pg", default=os.environ.get("ACADEMAIL_TEST_DATABASE_URL", ""))
    args = parser.parse_args()
    results = []
    for size in (5 * 1024, 1024 * 1024):
        sessions = args.sessions
        stores = [""] + ([args.pg] if args.pg else [])
        for admin in stores:
            with tempfile.TemporaryDirectory(prefix="bench-smtp-") as tmp:
                url = await _pg_database(admin) if admin else ""
                settings = cheap_settings(Path(tmp) / "data", url)
                settings = dataclasses.replace(
                    settings, store=dataclasses.replace(settings.store, pool_size=sessions)
                )
                for result in await _run(settings, size, sessions, args.seconds):
                    results.append(result)
                    print(
                        f"{result['store']:<11} {result['size_kb']:>5} KB  {sessions} sessions  "
                        f"{result['messages_per_connection']:>2} msg/connection  "
                        f"{result['accepted_per_s']:>8} msg/s accepted and durably delivered  "
                        f"(acknowledged {result['acknowledged_total']}, "
                        f"stored {result['stored_total']}, peak RSS {result['peak_rss_mb']} MB)",
                        flush=True,
                    )
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main())
