"""An in-process client for the web app, on the same event loop as the store."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx2
import pytest
import sqlalchemy as sa

from academail.runtime import Platform
from academail.store.tables import outbox
from academail.web import create_app

BASE = "https://portail.test"


@dataclass
class Browser:
    """A cookie-keeping client that posts forms like a browser (CSRF token included)."""

    client: httpx2.AsyncClient

    async def get(self, path: str, **kwargs):
        return await self.client.get(path, **kwargs)

    def token(self, html: str) -> str:
        match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
        assert match, "no CSRF field on the page"
        return match.group(1)

    async def submit(self, page_path: str, action: str, fields: dict[str, str], **kwargs):
        page = await self.client.get(page_path)
        data = {"csrf": self.token(page.text), **fields}
        return await self.client.post(action, data=data, headers={"origin": BASE}, **kwargs)


@pytest.fixture
async def web(platform: Platform) -> AsyncIterator[Browser]:
    app = create_app(platform)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(
        transport=transport, base_url=BASE, follow_redirects=False
    ) as client:
        yield Browser(client)


async def last_mail(platform: Platform, recipient: str) -> str:
    def work(conn):
        row = conn.execute(
            sa.select(outbox.c.body)
            .where(outbox.c.recipient == recipient)
            .order_by(outbox.c.id.desc())
        ).first()
        return row.body if row else ""

    return await platform.store.run(work)


def code_in(text: str) -> str:
    match = re.search(r"\b(\d{6})\b", text)
    assert match, text
    return match.group(1)
