"""Sending notifications to agents: e-mail and SMS, behind one small interface.

Identity code (lockout notices, confirmation codes, reset links) calls a
:class:`Notifier`; which driver delivers is a deployment choice (style.md §8):

* every message is kept in the ``outbox`` table (an administrator reads them in
  demo mode; tests read codes from it); with the ``mail`` e-mail driver (the
  default) e-mail also goes through the platform's mail path
  (:class:`MailSender`, wired by runtime: local INBOX or the outbound queue).
* ``http`` posts SMS to a gateway as JSON ``{"to": "+336…", "text": "…"}`` with a
  bearer token; the request runs off the event loop and a failure is logged and
  kept in the outbox row, never raised at the agent.

The bodies carry codes and links: they are stored because delivery needs them,
and are never logged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import urllib.request
from collections.abc import Sequence
from typing import Protocol

import structlog

from academail.core.clock import Clock
from academail.core.offload import off_loop
from academail.store import Store
from academail.store.repos import outbox as outbox_repo

__all__ = ["HttpSms", "MailSender", "Notifier", "OutboxNotifier", "SmsSender"]

log = structlog.get_logger(__name__)


class Notifier(Protocol):
    async def email(self, recipients: list[str], subject: str, body: str) -> None: ...

    async def sms(self, number: str, text: str) -> None: ...


class MailSender(Protocol):
    async def send_text(self, recipients: Sequence[str], subject: str, body: str) -> None:
        """Composes a plain-text message and delivers or queues it durably."""
        ...


class SmsSender(Protocol):
    async def send(self, number: str, text: str) -> str | None:
        """Sends one SMS; returns an error text or None."""
        ...


class HttpSms:
    """An SMS gateway reached over HTTP(S) with a bearer token."""

    def __init__(self, url: str, token: str, timeout: float = 10.0) -> None:
        self._url = url
        self._token = token
        self._timeout = timeout

    async def send(self, number: str, text: str) -> str | None:
        return await off_loop(self._post, number, text)

    def _post(self, number: str, text: str) -> str | None:
        payload = json.dumps({"to": number, "text": text}).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting
            self._url,
            data=payload,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._token}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                status = int(response.status)
        except OSError as exc:
            return f"passerelle SMS injoignable : {type(exc).__name__}"
        return None if 200 <= status < 300 else f"passerelle SMS : statut {status}"


class OutboxNotifier:
    """Stores every message in the outbox; SMS optionally also go to a gateway."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        sms_gateway: SmsSender | None = None,
        mailer: MailSender | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._gateway = sms_gateway
        self.mailer = mailer  # set by runtime once the mail path exists
        self._sending: set[asyncio.Task[None]] = set()

    async def email(self, recipients: list[str], subject: str, body: str) -> None:
        """Records the message, then hands it to the mail path in the background.

        The caller (a reset request, a lockout) answers as soon as the row is
        stored: how long the mail path takes must not tell a stranger whether an
        account exists. The row is durable; one whose hand-over did not finish
        (the process stopped) is sent again by :meth:`resend_unsent`.
        """
        wanted = sorted({r for r in recipients if r})
        if not wanted:
            return
        now = self._clock.now()
        ids = await self._store.run(
            lambda conn: outbox_repo.add(conn, "email", wanted, subject, body, now)
        )
        if self.mailer is not None:
            task = asyncio.ensure_future(self._hand_over(ids, wanted, subject, body))
            self._sending.add(task)
            task.add_done_callback(self._sent)

    async def _hand_over(
        self, ids: list[int], recipients: list[str], subject: str, body: str
    ) -> None:
        if self.mailer is None:
            return
        await self.mailer.send_text(recipients, subject, body)
        now = self._clock.now()
        await self._store.run(lambda conn: outbox_repo.mark_sent(conn, ids, now))

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("notification not handed to the mail path", error=repr(task.exception()))

    async def settle(self) -> None:
        """Waits for the notifications being handed over (shutdown, tests)."""
        while self._sending:
            await asyncio.gather(*list(self._sending), return_exceptions=True)

    async def resend_unsent(self, older_than: dt.timedelta, within: dt.timedelta) -> int:
        """Hands over again the e-mail rows a stopped process left unsent."""
        if self.mailer is None:
            return 0
        now = self._clock.now()
        rows = await self._store.run(
            lambda conn: outbox_repo.unsent_emails(conn, now - within, now - older_than)
        )
        for row in rows:
            await self._hand_over([row.id], [row.recipient], row.subject, row.body)
        return len(rows)

    async def latest(self, limit: int = 100) -> list[outbox_repo.OutboxMessage]:
        """The newest messages (the demo console shows them)."""
        return await self._store.run(lambda conn: outbox_repo.latest(conn, None, limit))

    async def sms(self, number: str, text: str) -> None:
        now = self._clock.now()
        await self._store.run(lambda conn: outbox_repo.add(conn, "sms", [number], "", text, now))
        if self._gateway is not None:
            await self._gateway.send(number, text)
