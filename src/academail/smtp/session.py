"""What the inbound and submission handlers share: services, connection facts, the
transaction of each envelope, and how a routed message becomes a reply.

aiosmtpd creates one protocol object per connection and one ``Envelope`` per
transaction (a new one after RSET, after DATA and after STARTTLS, RFC 3207 §4.2), so
the state a handler keeps is attached to those objects through weak dictionaries: it
goes away with them, and a new transaction never sees the previous one's recipients.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from academail.config import Settings
from academail.core.clock import Clock
from academail.delivery import LocalRecipient, MailRouter, Routed
from academail.identity.authenticate import Authenticator
from academail.identity.mail_policy import MailPolicy
from academail.smtp.message import protocol_name, received_field
from academail.smtp.replies import ACCEPTED, MAILBOX_FULL, NO_RECIPIENT, Reply, rejection

if TYPE_CHECKING:  # runtime builds the listeners; smtp never imports runtime itself
    from academail.runtime import Platform

__all__ = [
    "SmtpServices",
    "Transaction",
    "client_ip",
    "delivery_reply",
    "ehlo_lines",
    "log",
    "tls_active",
]

log = structlog.get_logger("academail.smtp")


@dataclass(frozen=True)
class SmtpServices:
    """The domain services the SMTP listeners call (built once by runtime)."""

    settings: Settings
    clock: Clock
    router: MailRouter
    policy: MailPolicy
    authenticator: Authenticator

    @classmethod
    def of(cls, platform: Platform) -> SmtpServices:
        return cls(
            platform.settings,
            platform.clock,
            platform.router,
            platform.mail_policy,
            platform.authenticator,
        )


@dataclass
class Transaction:
    """One MAIL…DATA transaction: the checked sender and the accepted recipients."""

    sender: str  # canonical envelope sender, "" for the null sender <>
    local: dict[str, LocalRecipient] = field(default_factory=dict)  # by address key
    remote: dict[str, str] = field(default_factory=dict)  # key -> canonical address

    @property
    def count(self) -> int:
        return len(self.local) + len(self.remote)


def client_ip(session: Session) -> str:
    """The peer's address as text ("" if the socket had none)."""
    peer: Any = session.peer
    if isinstance(peer, tuple) and peer:
        try:
            return str(ipaddress.ip_address(str(peer[0]).split("%", 1)[0]))
        except ValueError:
            return ""
    return ""


def tls_active(server: SMTP) -> bool:
    """True on a TLS transport: after STARTTLS, or on the implicit-TLS listener.

    aiosmtpd only knows about STARTTLS (its issue #281), so this asks the transport.
    """
    transport = server.transport
    return transport is not None and transport.get_extra_info("ssl_object") is not None


def ehlo_lines(responses: list[str], *, auth: bool) -> list[str]:
    """aiosmtpd's EHLO lines plus PIPELINING (RFC 2920) and ENHANCEDSTATUSCODES (RFC 2034).

    aiosmtpd reads pipelined commands in order from its stream and answers each in
    turn, which is what RFC 2920 asks of a server. ``auth`` False drops the AUTH
    line (port 25 takes no AUTH).
    """
    last = responses[-1]  # "250 HELP"
    kept = [r for r in responses[:-1] if auth or not r.startswith("250-AUTH")]
    return [*kept, "250-PIPELINING", "250-ENHANCEDSTATUSCODES", last]


def trace_field(
    server: SMTP,
    session: Session,
    envelope: Envelope,
    settings: Settings,
    *,
    authenticated: bool,
    recipients: list[str],
    when: dt.datetime,
) -> bytes:
    """This session's ``Received:`` field (RFC 5321 §4.4; "for" only with one recipient)."""
    return received_field(
        helo=str(session.host_name or ""),
        client_ip=client_ip(session),
        hostname=settings.smtp.hostname,
        protocol=protocol_name(
            extended=session.extended_smtp,
            utf8=envelope.smtp_utf8,
            tls=tls_active(server),
            authenticated=authenticated,
        ),
        recipient=recipients[0] if len(recipients) == 1 else None,
        when=when,
    )


def delivery_reply(routed: Routed) -> Reply:
    """The DATA reply once the router returned (everything it accepted is durable).

    Accepted when at least one local recipient got the message (or a stage dropped
    it on purpose) or remote recipients were queued; otherwise the refusal of the
    stages (550 with their reason) or, when every recipient is over quota, 552 5.2.2.
    Per-recipient failures beside an accepted delivery are the DSN's business.
    """
    local = routed.local
    if local.accepted_any or routed.queued:
        return ACCEPTED
    if local.rejected:
        return rejection(next(iter(local.rejected.values())))
    if local.over_quota:
        return MAILBOX_FULL
    return NO_RECIPIENT
