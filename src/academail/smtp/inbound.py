"""Inbound SMTP on port 25 for the académie's domains (RFC 5321), over aiosmtpd.

aiosmtpd speaks the protocol; this module only supplies its handler hooks and
creates the server on the *running* loop (``loop.create_server``), never through
aiosmtpd's threaded ``Controller``: the store, the clock and the change feed live
on this loop, and a second loop in a thread would race them.

- EHLO advertises SIZE (a constant :data:`MAX_MESSAGE_SIZE` of 35 MB until a
  setting exists), 8BITMIME and SMTPUTF8 (aiosmtpd), plus PIPELINING (RFC 2920:
  aiosmtpd reads commands in order from its stream, so pipelined commands are
  answered in order) and ENHANCEDSTATUSCODES (RFC 2034: every reply we write
  carries one).
- RCPT: only active local accounts (see :mod:`academail.smtp.recipients`); the
  same refusal text for every unknown local address, and relaying refused.
- DATA: a ``Received:`` trace field (RFC 5321 §4.4) is prepended, bare CR and LF
  become CRLF (RFC 5321 §2.3.8: the stored message is canonical), and ``250`` is
  sent only after :meth:`MailStore.deliver` returned, i.e. after the blob and the
  rows are durable, so an acknowledged message is never lost.
- SMTP smuggling (SEC Consult, 2023; aiosmtpd's CVE-2024-27305): the end of
  data is recognised only as ``CRLF.CRLF``; aiosmtpd >= 1.4.5 reads DATA line by
  line up to CRLF, so a bare ``LF.LF`` or ``CR.CRLF`` inside the body stays body
  text and cannot end the message and start a second, forged one.

Limitation: when some recipients are over quota and others are not, the message
is accepted and those over quota do not receive it; the per-recipient
notification (a DSN, RFC 3464) comes with the outbound queue.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import weakref
from email.utils import format_datetime
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from academail.core.clock import Clock
from academail.mail import MailStore
from academail.mail.recipients import RecipientResolver
from academail.smtp.recipients import rcpt_reply

__all__ = ["MAX_MESSAGE_SIZE", "InboundHandler", "start_inbound"]

MAX_MESSAGE_SIZE = 35 * 1024 * 1024  # constant for now: no setting in the schema yet
MAILBOX_FULL = "552 5.2.2 Mailbox full (boite pleine)"
ACCEPTED = "250 2.0.0 Ok"
NO_RECIPIENT = "554 5.5.1 Aucun destinataire valide"
_LINE_ENDINGS = re.compile(rb"\r\n|\r|\n")
_HELO_SAFE = re.compile(r"[^A-Za-z0-9.\-\[\]:_]")


def canonical_line_endings(raw: bytes) -> bytes:
    """Every bare CR or LF becomes CRLF (RFC 5321 §2.3.8)."""
    return _LINE_ENDINGS.sub(b"\r\n", raw)


class InboundHandler:
    """aiosmtpd handler hooks: RCPT checks recipients, DATA stores durably."""

    def __init__(
        self, mail: MailStore, resolver: RecipientResolver, clock: Clock, hostname: str
    ) -> None:
        self._mail = mail
        self._resolver = resolver
        self._clock = clock
        self._hostname = hostname
        # Accepted recipients of each transaction; a RSET or a new MAIL starts a
        # new Envelope, so the entry goes with the old one.
        self._accounts: weakref.WeakKeyDictionary[Envelope, dict[str, str]] = (
            weakref.WeakKeyDictionary()
        )

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        last = responses.pop()  # "250 HELP"
        responses += ["250-PIPELINING", "250-ENHANCEDSTATUSCODES", last]
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        account_id, reply = await rcpt_reply(self._resolver, address)
        if account_id is not None:
            envelope.rcpt_tos.append(address)
            self._accounts.setdefault(envelope, {})[address] = account_id
        return reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        accounts = self._accounts.pop(envelope, {})
        if not accounts:
            return NO_RECIPIENT
        raw = self._received(session, envelope) + canonical_line_endings(
            envelope.original_content or b""
        )
        result = await self._mail.deliver(list(dict.fromkeys(accounts.values())), raw)
        if not result.delivered:
            return MAILBOX_FULL
        return ACCEPTED

    def _received(self, session: Session, envelope: Envelope) -> bytes:
        """The RFC 5321 §4.4 trace field: from, by, with, id, for (one recipient), date."""
        helo = _HELO_SAFE.sub("", str(session.host_name or ""))[:255] or "unknown"
        peer: Any = session.peer
        ip = peer[0] if isinstance(peer, tuple) else "unknown"
        protocol = "UTF8SMTP" if envelope.smtp_utf8 else "ESMTP"  # RFC 6531 §3.7.3
        lines = [
            f"Received: from {helo} ([{ip}])",
            f"\tby {self._hostname} with {protocol} id {secrets.token_hex(8)}",
        ]
        if len(envelope.rcpt_tos) == 1:
            lines.append(f"\tfor <{envelope.rcpt_tos[0]}>")
        lines[-1] += f"; {format_datetime(self._clock.now())}"
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")


async def start_inbound(
    handler: InboundHandler, host: str, port: int, hostname: str
) -> asyncio.Server:
    """The port 25 listener on the running loop; the caller closes it."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(
            handler,
            hostname=hostname,
            data_size_limit=MAX_MESSAGE_SIZE,
            enable_SMTPUTF8=True,
            decode_data=False,
        ),
        host,
        port,
    )
