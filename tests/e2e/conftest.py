"""Browser tests: Debian's Chromium driven by Playwright against the real web server.

The server is uvicorn with TLS (the self-signed certificate of the embedded
default) on an ephemeral loopback port, running in the test's event loop over the
test's platform, so a test can move the platform's clock (lockouts, deadlines).
Browser tests run on SQLite only: the store behaviour under them is covered on both
stores by tests/store and tests/web.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from academail.runtime import Platform, tls_files
from academail.web import create_app

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"platform condition: {CHROMIUM} not installed")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "ignore_https_errors": True, "locale": "fr-FR"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def live(platform: Platform) -> AsyncIterator[str]:
    """The base URL of the running portal."""
    cert, key = tls_files(platform.settings)
    port = _free_port()
    config = uvicorn.Config(
        create_app(platform),
        host="127.0.0.1",
        port=port,
        ssl_certfile=cert,
        ssl_keyfile=key,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    yield f"https://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    web = dataclasses.replace(settings.web, allowed_hosts=["127.0.0.1", "localhost"])
    return dataclasses.replace(settings, web=web)
