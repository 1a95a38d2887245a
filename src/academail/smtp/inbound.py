"""Inbound SMTP on port 25 for the académie's domains (RFC 5321), over aiosmtpd.

Security posture: talks to any host on the Internet, unauthenticated. aiosmtpd
speaks the protocol; this module supplies its handler hooks (the listener is created
on the running loop by :mod:`academail.smtp.listeners`).

- EHLO: SIZE (``smtp.max_message_bytes``), 8BITMIME, SMTPUTF8, STARTTLS (RFC 3207,
  offered, not required: other MTAs fall back to plain text), PIPELINING,
  ENHANCEDSTATUSCODES; no AUTH on this port.
- MAIL: the sender must be an RFC 5321 path (strict parser) or the null sender
  ``<>`` (bounces must reach us). RCPT: only active local accounts
  (:mod:`academail.smtp.recipients`: one text for every unknown address, a
  per-client limit of unknown recipients, relaying refused, at most
  ``smtp.max_recipients`` per transaction).
- DATA: bare CR and LF become CRLF (RFC 5321 §2.3.8), a ``Received:`` field is
  prepended (§4.4), the message is parsed once off the loop and handed to the
  delivery pipeline (``MailRouter.route``); ``250`` is sent only after the router
  returned, i.e. after the blob and the rows are durable, so an acknowledged message
  is never lost. The stages' refusals and quota become 550 / 552 5.2.2.
- SMTP smuggling (SEC Consult, 2023; aiosmtpd's CVE-2024-27305): the end of data is
  recognised only as ``CRLF.CRLF``; aiosmtpd >= 1.4.5 reads DATA line by line up to
  CRLF, so a bare ``LF.LF`` or ``CR.CRLF`` inside the body stays body text and cannot
  end the message and start a second, forged one.

Recipients refused or over quota beside an accepted delivery are reported to the
sender by a DSN (the router's FailureReporter, RFC 5321 §6.1).
"""

from __future__ import annotations

import weakref

from aiosmtpd.smtp import SMTP, Envelope, Session

from academail.core.offload import off_loop_if_large
from academail.delivery import Incoming
from academail.mail import ParsedMessage, parse_message
from academail.mail.addresses import AddressError, parse_path
from academail.smtp.message import canonical_line_endings
from academail.smtp.recipients import rcpt_hook
from academail.smtp.replies import (
    BAD_SENDER_SYNTAX,
    LOCAL_ERROR,
    NO_RECIPIENT,
    SENDER_OK,
    UTF8_REQUIRED,
    VRFY_DISABLED,
)
from academail.smtp.session import (
    SmtpServices,
    Transaction,
    client_ip,
    delivery_reply,
    ehlo_lines,
    log,
    trace_field,
)

__all__ = ["InboundHandler", "prepare_inbound"]

_MAX_SENDER_LOCAL = 223  # RFC 5321 limits the path to 256; bounce addresses (SRS, VERP) are long


def prepare_inbound(received: bytes, content: bytes) -> tuple[bytes, ParsedMessage]:
    """The stored bytes and their one parse (CPU work: off the loop when large)."""
    raw = received + canonical_line_endings(content)
    return raw, parse_message(raw)


class InboundHandler:
    """aiosmtpd handler hooks for port 25."""

    def __init__(self, services: SmtpServices) -> None:
        self._services = services
        self._tx: weakref.WeakKeyDictionary[Envelope, Transaction] = weakref.WeakKeyDictionary()

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        return ehlo_lines(responses, auth=False)

    async def handle_VRFY(
        self, server: SMTP, session: Session, envelope: Envelope, address: str
    ) -> str:
        return str(VRFY_DISABLED)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        sender = ""
        if address != "<>":
            try:
                parsed = parse_path(address, utf8=True, max_local=_MAX_SENDER_LOCAL)
            except AddressError:
                return str(BAD_SENDER_SYNTAX)
            if not parsed.is_ascii and not envelope.smtp_utf8:
                return str(UTF8_REQUIRED)
            sender = str(parsed)
        envelope.mail_from = sender or "<>"
        envelope.mail_options.extend(options)
        self._tx[envelope] = Transaction(sender)
        return str(SENDER_OK)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        tx = self._tx.get(envelope)
        if tx is None:  # aiosmtpd checks MAIL first; a transaction always exists here
            return str(NO_RECIPIENT)
        return await rcpt_hook(
            self._services, tx, envelope, address, client=client_ip(session), relay=False
        )

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        tx = self._tx.pop(envelope, None)
        if tx is None or not tx.local:
            return str(NO_RECIPIENT)
        try:
            return await self._deliver(server, session, envelope, tx)
        except Exception as exc:  # the client keeps the message and retries later
            log.error("smtp inbound delivery failed", error=type(exc).__name__)
            return str(LOCAL_ERROR)

    async def _deliver(
        self, server: SMTP, session: Session, envelope: Envelope, tx: Transaction
    ) -> str:
        services = self._services
        ip = client_ip(session)
        recipients = list(tx.local.values())
        received = trace_field(
            server,
            session,
            envelope,
            services.settings,
            authenticated=False,
            recipients=[r.address for r in recipients],
            when=services.clock.now(),
        )
        content = envelope.original_content or b""
        raw, parsed = await off_loop_if_large(len(content), prepare_inbound, received, content)
        message = Incoming(raw, parsed, tx.sender, ip)
        routed = await services.router.route(message, recipients, [])
        return str(delivery_reply(routed))

    async def handle_exception(self, error: Exception) -> str:
        """Any other failure: logged by type only (no message data), then 451."""
        log.error("smtp session error", error=type(error).__name__)
        return str(LOCAL_ERROR)
