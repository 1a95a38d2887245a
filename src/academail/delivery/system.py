"""The platform's own messages (activation codes, lockout notices, reset links)
sent through the same path as agents' mail: local recipients get them in their
INBOX through the pipeline, remote ones (a personal recovery address) through the
durable outbound queue.
"""

from __future__ import annotations

import email.policy
import email.utils
import secrets
from collections.abc import Sequence
from email.message import EmailMessage

import structlog

from academail.core.clock import Clock
from academail.core.offload import off_loop
from academail.delivery.pipeline import Incoming
from academail.delivery.router import MailRouter
from academail.mail import parse_message

__all__ = ["SystemMail", "compose_text"]

log = structlog.get_logger(__name__)


def compose_text(
    sender: str,
    recipients: Sequence[str],
    subject: str,
    body: str,
    clock: Clock,
    domain: str,
) -> bytes:
    """A plain-text UTF-8 message with Date and Message-ID, lines ending in CRLF."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(clock.now())
    message["Message-ID"] = f"<{secrets.token_hex(12)}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834 §5: no auto-reply to this
    message.set_content(body, charset="utf-8", cte="quoted-printable")
    return message.as_bytes()


class SystemMail:
    """What :class:`academail.notify.OutboxNotifier` hands e-mail to (its MailSender)."""

    def __init__(self, router: MailRouter, clock: Clock, sender: str, domain: str) -> None:
        self._router = router
        self._clock = clock
        self._sender = sender
        # Our own setting, not network input: the stdlib parser is fine here.
        self._envelope_sender = email.utils.parseaddr(sender)[1]
        self._domain = domain

    async def send_text(self, recipients: Sequence[str], subject: str, body: str) -> None:
        raw = compose_text(self._sender, recipients, subject, body, self._clock, self._domain)
        parsed = await off_loop(parse_message, raw)
        routed = await self._router.route_addresses(
            Incoming(raw, parsed, self._envelope_sender), recipients
        )
        if routed.unknown or routed.local.over_quota or routed.local.rejected:
            log.warning(
                "notification not delivered to some recipients",
                unknown=len(routed.unknown),
                over_quota=len(routed.local.over_quota),
                rejected=len(routed.local.rejected),
            )
