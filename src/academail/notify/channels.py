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

import json
import urllib.request
from collections.abc import Sequence
from typing import Protocol

from academail.core.clock import Clock
from academail.core.offload import off_loop
from academail.store import Connection, Store
from academail.store.repos import outbox as outbox_repo

__all__ = ["HttpSms", "MailSender", "Notifier", "OutboxNotifier", "SmsSender"]


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

    async def email(self, recipients: list[str], subject: str, body: str) -> None:
        wanted = sorted({r for r in recipients if r})
        if not wanted:
            return
        now = self._clock.now()

        def work(conn: Connection) -> None:
            outbox_repo.add(conn, "email", wanted, subject, body, now)

        await self._store.run(work)
        if self.mailer is not None:
            await self.mailer.send_text(wanted, subject, body)

    async def latest(self, limit: int = 100) -> list[outbox_repo.OutboxMessage]:
        """The newest messages (the demo console shows them)."""
        return await self._store.run(lambda conn: outbox_repo.latest(conn, None, limit))

    async def sms(self, number: str, text: str) -> None:
        now = self._clock.now()
        await self._store.run(lambda conn: outbox_repo.add(conn, "sms", [number], "", text, now))
        if self._gateway is not None:
            await self._gateway.send(number, text)
