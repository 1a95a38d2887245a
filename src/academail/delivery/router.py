"""Where each recipient of a message goes: a local mailbox or the outbound queue.

Every path that sends mail comes through here — the SMTP listeners once they have
checked the envelope, the platform's own notifications, DSNs — so that local
recipients always pass the delivery pipeline and remote ones always wait in the
durable queue (never a direct connection from a request handler).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from academail.delivery.local import LocalDelivery, LocalOutcome
from academail.delivery.pipeline import Incoming, LocalRecipient
from academail.mail import Recipient, RecipientResolver

__all__ = ["FailureReporter", "MailRouter", "OutboundQueue", "Routed"]


class FailureReporter(Protocol):
    async def report(self, message: Incoming, failures: Sequence[tuple[str, str, str]]) -> None:
        """Tells the sender that these (recipient, RFC 3463 status, diagnostic) failed."""
        ...


class OutboundQueue(Protocol):
    async def enqueue(
        self, sender: str, recipients: Sequence[str], raw: bytes, account_id: str | None
    ) -> None:
        """Stores the message for each remote recipient durably before returning."""
        ...


@dataclass
class Routed:
    local: LocalOutcome = field(default_factory=LocalOutcome)
    queued: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # our domains, no active account


class MailRouter:
    def __init__(
        self, resolver: RecipientResolver, local: LocalDelivery, queue: OutboundQueue
    ) -> None:
        self.resolver = resolver
        self.local = local
        self._queue = queue
        # Set by runtime (the DSN composer sits in delivery/queue, which imports this).
        self.failures: FailureReporter | None = None

    async def route(
        self, message: Incoming, local: Sequence[LocalRecipient], remote: Sequence[str]
    ) -> Routed:
        """Recipients already resolved (the SMTP listeners resolve them at RCPT)."""
        routed = Routed(queued=list(dict.fromkeys(remote)))

        async def to_mailboxes() -> LocalOutcome:
            return await self.local.deliver(message, local) if local else LocalOutcome()

        async def to_queue() -> None:
            if routed.queued:
                await self._queue.enqueue(
                    message.sender, routed.queued, message.raw, message.account_id
                )

        routed.local, _ = await asyncio.gather(to_mailboxes(), to_queue())
        await self._report_partial(message, routed)
        return routed

    async def _report_partial(self, message: Incoming, routed: Routed) -> None:
        """RFC 5321 §6.1: once the message is accepted for some recipients, those
        that failed locally (full mailbox, refused by a stage) get a DSN. When none
        was accepted the SMTP reply itself refuses, and the client reports."""
        outcome = routed.local
        if self.failures is None or not message.sender:
            return
        if not (outcome.accepted_any or routed.queued):
            return
        failed = [
            (address, "5.2.2", "smtp; 552 5.2.2 Mailbox full") for address in outcome.over_quota
        ] + [
            (address, _status_of(reason), f"smtp; 550 {reason}")
            for address, reason in outcome.rejected.items()
        ]
        if failed:
            await self.failures.report(message, failed)

    async def route_addresses(self, message: Incoming, addresses: Sequence[str]) -> Routed:
        """Resolves, then routes; unknown local addresses are reported, not sent."""
        wanted = list(dict.fromkeys(a for a in addresses if a))
        resolutions = await asyncio.gather(*(self.resolver.resolve(a) for a in wanted))
        local: list[LocalRecipient] = []
        remote: list[str] = []
        unknown: list[str] = []
        for address, resolution in zip(wanted, resolutions, strict=True):
            if resolution.kind is Recipient.LOCAL and resolution.account_id:
                local.append(LocalRecipient(address, resolution.account_id))
            elif resolution.kind is Recipient.FOREIGN:
                remote.append(address)
            else:
                unknown.append(address)
        routed = await self.route(message, local, remote)
        routed.unknown = unknown
        return routed


def _status_of(reason: str) -> str:
    """The RFC 3463 code a stage put first in its reason, else 5.7.1 (refused)."""
    head = reason.split(" ", 1)[0]
    parts = head.split(".")
    if len(parts) == 3 and parts[0] == "5" and all(p.isdigit() and len(p) <= 3 for p in parts):
        return head
    return "5.7.1"
