"""Debian's ``swaks`` against the three listeners, over real sockets, both stores.

swaks runs as a subprocess (``asyncio.create_subprocess_exec``) so that the event
loop keeps serving the listeners it talks to. It verifies the server certificate
against the test CA (``--tls-verify --tls-ca-path``).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from academail.runtime import Platform
from tests.fixtures.agents import PASSWORD
from tests.fixtures.smtp import HOSTNAME, Ports, Tls, agent, listeners, make_tls, services

SWAKS = shutil.which("swaks") or "/usr/bin/swaks"


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    return make_tls(tmp_path)


@pytest.fixture
async def ports(platform: Platform, tls: Tls) -> AsyncIterator[Ports]:
    async with listeners(services(platform), tls) as opened:
        yield opened


async def _swaks(tls: Tls, port: int, *args: str) -> tuple[int, str]:
    """Runs swaks; returns its exit status and its transcript."""
    process = await asyncio.create_subprocess_exec(
        SWAKS,
        "--server", "127.0.0.1", "--port", str(port),
        "--ehlo", "swaks.example.org",
        "--tls-verify", "--tls-ca-path", str(tls.ca_file),
        "--timeout", "30",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode("utf-8", "replace")


async def _inbox(platform: Platform, account_id: str) -> list[bytes]:
    return [await platform.mail.raw(m) for m in await platform.mail.messages(account_id, "INBOX")]


def test_swaks_is_installed() -> None:
    assert Path(SWAKS).exists(), "swaks (Debian package) is required for these tests"


async def test_inbound_starttls_with_pipelining(platform: Platform, ports: Ports, tls: Tls) -> None:
    _login, address, account_id = await agent(platform)
    status, transcript = await _swaks(
        tls, ports.inbound,
        "--tls", "--pipeline",
        "--from", "parent@example.org", "--to", address,
        "--header", "Subject: Sortie au musée",
        "--body", "Départ à 8 h.",
    )  # fmt: skip
    assert status == 0, transcript
    assert "250 2.0.0 Ok" in transcript
    (stored,) = await _inbox(platform, account_id)
    assert b"with ESMTPS id " in stored and b"X-Mailer: swaks" in stored


async def test_submission_587_starttls_auth_login(
    platform: Platform, ports: Ports, tls: Tls
) -> None:
    login, address, account_id = await agent(platform)
    before = len(await _inbox(platform, account_id))
    status, transcript = await _swaks(
        tls, ports.submission,
        "--tls", "--auth", "LOGIN", "--auth-user", login, "--auth-password", PASSWORD,
        "--from", address, "--to", address,
    )  # fmt: skip
    assert status == 0, transcript
    assert "235 2.7.0" in transcript
    stored = await _inbox(platform, account_id)
    assert len(stored) == before + 1
    assert f"by {HOSTNAME} with ESMTPSA id ".encode() in stored[-1]


async def test_submissions_465_auth_plain_pipelined(
    platform: Platform, ports: Ports, tls: Tls
) -> None:
    login, address, account_id = await agent(platform)
    _l2, colleague, colleague_id = await agent(platform, 2)
    status, transcript = await _swaks(
        tls, ports.submissions,
        "--tls-on-connect", "--pipeline",
        "--auth", "PLAIN", "--auth-user", login, "--auth-password", PASSWORD,
        "--from", address, "--to", f"{colleague},{address}",
    )  # fmt: skip
    assert status == 0, transcript
    assert len(await _inbox(platform, colleague_id)) == 1


async def test_wrong_password_and_foreign_sender_are_refused(
    platform: Platform, ports: Ports, tls: Tls
) -> None:
    login, address, _account_id = await agent(platform)
    _l2, colleague, colleague_id = await agent(platform, 2)
    status, transcript = await _swaks(
        tls, ports.submissions,
        "--tls-on-connect",
        "--auth", "PLAIN", "--auth-user", login, "--auth-password", "Faux-2026-mdp!",
        "--from", address, "--to", colleague,
    )  # fmt: skip
    assert status != 0 and "535 5.7.8" in transcript
    status, transcript = await _swaks(
        tls, ports.submission,
        "--tls",
        "--auth", "PLAIN", "--auth-user", login, "--auth-password", PASSWORD,
        "--from", colleague, "--to", colleague,
    )  # fmt: skip
    assert status != 0 and "553 5.7.1" in transcript
    status, transcript = await _swaks(
        tls, ports.submission,
        "--tls",
        "--auth", "PLAIN", "--auth-user", login, "--auth-password", PASSWORD,
        "--from", address, "--to", colleague,
        "--header", f'From: "{address}" <{colleague}>',
    )  # fmt: skip
    assert status != 0 and "550 5.7.1" in transcript
    assert await _inbox(platform, colleague_id) == []


async def test_auth_before_starttls_is_refused(platform: Platform, ports: Ports, tls: Tls) -> None:
    login, address, _account_id = await agent(platform)
    status, transcript = await _swaks(
        tls, ports.submission,
        "--auth", "PLAIN", "--auth-user", login, "--auth-password", PASSWORD,
        "--from", address, "--to", address,
    )  # fmt: skip
    assert status != 0  # no AUTH offered before STARTTLS: swaks gives up, nothing is sent
    assert "did not advertise authentication" in transcript and "235 " not in transcript
