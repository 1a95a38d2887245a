"""Message submission (RFC 6409) on 587 (STARTTLS, RFC 3207) and 465 (implicit TLS, RFC 8314).

Security posture: talks to untrusted network before AUTH; after AUTH, to an account
that may be compromised. The listener therefore:

- authenticates with AUTH PLAIN or LOGIN over TLS only (:mod:`academail.smtp.auth`)
  and refuses MAIL before AUTH (530 5.7.0; RCPT and DATA need MAIL);
- accepts an envelope sender and ``From:``/``Sender:`` mailboxes only among the
  account's addresses (:mod:`academail.smtp.sender`; 553 5.7.1 at MAIL, 550 5.7.1
  at DATA);
- resolves local recipients at RCPT (unknown → 550 5.1.1, the inbound text) and
  relays others for the account, at most ``smtp.max_recipients`` per message
  (452 4.5.3) and ``smtp.messages_per_hour`` transactions per account (450 4.7.1 at
  MAIL, before any data; an audit event and a mail to support at the first refusal
  of the hour);
- adds ``Date:`` and ``Message-ID:`` when missing (RFC 6409 §8.2, §8.3) and a
  ``Received:`` field ``with ESMTPSA`` (RFC 3848; ``UTF8SMTPSA``, RFC 6531);
- answers 250 only after :meth:`MailRouter.route` returned: local copies stored and
  remote ones in the durable queue.
"""

from __future__ import annotations

import datetime as dt
import weakref

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from academail.core.offload import off_loop_if_large
from academail.delivery import Incoming
from academail.mail import ParsedMessage, parse_message
from academail.smtp.auth import SmtpAuth, Submitter
from academail.smtp.message import (
    MalformedHeader,
    canonical_line_endings,
    missing_fields,
    top_header,
)
from academail.smtp.recipients import rcpt_hook
from academail.smtp.replies import (
    AUTH_REQUIRED,
    HOURLY_LIMIT,
    LOCAL_ERROR,
    MALFORMED_HEADER,
    NO_RECIPIENT,
    SENDER_OK,
    VRFY_DISABLED,
    Reply,
)
from academail.smtp.sender import check_envelope_sender, check_header_senders
from academail.smtp.session import (
    SmtpServices,
    Transaction,
    client_ip,
    delivery_reply,
    ehlo_lines,
    log,
    tls_active,
    trace_field,
)

__all__ = ["SubmissionHandler", "prepare_submission"]


def prepare_submission(
    content: bytes, received: bytes, allowed: frozenset[str], domain: str, when: dt.datetime
) -> tuple[bytes, ParsedMessage] | Reply:
    """The stored bytes and their one parse, or the refusal (CPU work: off the loop).

    The checks read the very bytes that are stored (line endings made canonical
    first), so what a reader later sees in ``From:`` is what was checked.
    """
    body = canonical_line_endings(content)
    try:
        fields = top_header(body)
    except MalformedHeader:
        return MALFORMED_HEADER
    refusal = check_header_senders(fields, allowed)
    if refusal is not None:
        return refusal
    raw = received + missing_fields(fields, domain, when) + body
    return raw, parse_message(raw)


def _submitter(session: Session) -> Submitter | None:
    data = session.auth_data
    return data if session.authenticated and isinstance(data, Submitter) else None


class SubmissionHandler:
    """aiosmtpd handler hooks for 587 and 465 (the same rules on both)."""

    def __init__(self, services: SmtpServices) -> None:
        self._services = services
        self._auth = SmtpAuth(services.authenticator, services.policy)
        self._tx: weakref.WeakKeyDictionary[Envelope, Transaction] = weakref.WeakKeyDictionary()

    # -- AUTH (aiosmtpd finds the mechanisms by these names) ----------------------------
    async def auth_PLAIN(self, server: SMTP, args: list[str]) -> AuthResult:  # noqa: N802
        return await self._auth.plain(server, args)

    async def auth_LOGIN(self, server: SMTP, args: list[str]) -> AuthResult:  # noqa: N802
        return await self._auth.login(server, args)

    # -- commands ------------------------------------------------------------------------
    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        return ehlo_lines(responses, auth=tls_active(server))

    async def handle_VRFY(
        self, server: SMTP, session: Session, envelope: Envelope, address: str
    ) -> str:
        return str(VRFY_DISABLED)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        submitter = _submitter(session)
        if submitter is None or not tls_active(server):
            return str(AUTH_REQUIRED)
        sender, refusal = check_envelope_sender(
            address, utf8=envelope.smtp_utf8, allowed=submitter.addresses
        )
        if refusal is not None:
            return str(refusal)
        ip = client_ip(session)
        if not await self._services.policy.count_message(submitter.account_id, submitter.login, ip):
            return str(HOURLY_LIMIT)
        envelope.mail_from = sender
        envelope.mail_options.extend(options)
        self._tx[envelope] = Transaction(sender)
        return str(SENDER_OK)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        tx = self._tx.get(envelope)
        submitter = _submitter(session)
        if tx is None or submitter is None:
            return str(AUTH_REQUIRED)
        client = f"account:{submitter.account_id}"
        return await rcpt_hook(self._services, tx, envelope, address, client=client, relay=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        tx = self._tx.pop(envelope, None)
        submitter = _submitter(session)
        if submitter is None:
            return str(AUTH_REQUIRED)
        if tx is None or not tx.count:
            return str(NO_RECIPIENT)
        try:
            return str(await self._submit(server, session, envelope, tx, submitter))
        except Exception as exc:  # the client keeps the message and retries later
            log.error("smtp submission failed", error=type(exc).__name__)
            return str(LOCAL_ERROR)

    async def _submit(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        tx: Transaction,
        submitter: Submitter,
    ) -> Reply:
        services = self._services
        ip = client_ip(session)
        recipients = [*(r.address for r in tx.local.values()), *tx.remote.values()]
        now = services.clock.now()
        received = trace_field(
            server,
            session,
            envelope,
            services.settings,
            authenticated=True,
            recipients=recipients,
            when=now,
        )
        content = envelope.original_content or b""
        prepared = await off_loop_if_large(
            len(content),
            prepare_submission,
            content,
            received,
            submitter.addresses,
            services.settings.academie.domain,
            now,
        )
        if isinstance(prepared, Reply):
            return prepared
        raw, parsed = prepared
        message = Incoming(raw, parsed, tx.sender, ip, submitter.account_id)
        routed = await services.router.route(
            message, list(tx.local.values()), list(tx.remote.values())
        )
        return delivery_reply(routed)

    async def handle_exception(self, error: Exception) -> str:
        """Any other failure: logged by type only (no message data), then 451."""
        log.error("smtp session error", error=type(error).__name__)
        return str(LOCAL_ERROR)
