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

__all__ = ["MailRouter", "OutboundQueue", "Routed"]


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
        return routed

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
