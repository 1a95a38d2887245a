"""What the queue needs from whoever carries mail to other servers.

The queue is domain code and never imports an adapter (architecture.md): it
declares :class:`Transport`, and runtime hands it ``smtp.relay.SmtpRelay``. Tests
may pass any object of this shape.

Outcomes are per recipient because SMTP's are (RFC 5321 §3.3: each RCPT gets its
own reply), and they are values, never exceptions: a refused recipient, a server
that does not answer and a domain that does not exist are all ordinary results
the queue must act on (retry, or return the message to its sender, RFC 3464).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Envelope", "Outcome", "RecipientResult", "Transport"]


class Outcome(enum.Enum):
    DELIVERED = "delivered"  # the remote server took responsibility (250 after DATA)
    DEFERRED = "deferred"  # try again later: 4xx, no connection, timeout, DNS SERVFAIL
    FAILED = "failed"  # never: 5xx, no such domain, null MX (RFC 7505)


@dataclass(frozen=True)
class Envelope:
    """One SMTP transaction to make: recipients all in ``domain``."""

    sender: str  # "" for the null sender <>
    recipients: Sequence[str]
    domain: str
    raw: bytes


@dataclass(frozen=True)
class RecipientResult:
    """What happened to one recipient, in the vocabulary of a DSN (RFC 3464 §2.3).

    ``status`` is the RFC 3463 enhanced code ("2.0.0", "4.4.1", "5.1.1");
    ``diagnostic`` is a Diagnostic-Code value, ``type; text`` ("smtp; 550 5.1.1 …"
    for a remote reply, "X-Academail; …" for what we found ourselves), ASCII on one
    line, from untrusted bytes made safe by the transport; ``remote_mta`` is the
    name of the server that answered, when one did.
    """

    recipient: str
    outcome: Outcome
    status: str
    diagnostic: str
    remote_mta: str = ""


class Transport(Protocol):
    async def deliver(self, envelope: Envelope) -> list[RecipientResult]:
        """Tries to hand the message to the servers of ``envelope.domain``.

        Returns one result per recipient, in the order given. Network, DNS and TLS
        failures are results (DEFERRED or FAILED), not exceptions; an exception
        means a bug, and the queue treats it as a temporary failure of every
        recipient. Must finish or be cancellable: the queue bounds each call.
        """
        ...
