"""Local delivery: the pipeline's decisions turned into stored messages.

The pipeline decides per recipient; this module groups the recipients whose
decisions are the same (same added fields, same mailbox) and stores each group's
copy with one :meth:`MailStore.deliver` — one blob and one group commit. The
deliveries of the groups run concurrently, so they share commits too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from academail.core.errors import NotFound
from academail.delivery.pipeline import Action, Incoming, LocalRecipient, Pipeline
from academail.mail import MailStore, with_fields_prepended

__all__ = ["LocalDelivery", "LocalOutcome"]


@dataclass
class LocalOutcome:
    """Per recipient address: stored, refused by a stage, discarded, or over quota."""

    delivered: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # address → reason
    discarded: list[str] = field(default_factory=list)
    over_quota: dict[str, str] = field(default_factory=dict)

    @property
    def accepted_any(self) -> bool:
        """True when the message reached at least one recipient or was dropped on purpose."""
        return bool(self.delivered or self.discarded)


class LocalDelivery:
    def __init__(self, mail: MailStore, pipeline: Pipeline) -> None:
        self._mail = mail
        self.pipeline = pipeline

    async def deliver(
        self, message: Incoming, recipients: Sequence[LocalRecipient]
    ) -> LocalOutcome:
        outcome = LocalOutcome()
        unique = list({r.account_id: r for r in recipients}.values())
        decisions = await asyncio.gather(
            *(self.pipeline.decide(message, recipient) for recipient in unique)
        )
        groups: dict[tuple[tuple[str, ...], str], list[LocalRecipient]] = {}
        for recipient, decision in zip(unique, decisions, strict=True):
            if decision.action is Action.REJECT:
                outcome.rejected[recipient.address] = decision.reason
            elif decision.action is Action.DISCARD:
                outcome.discarded.append(recipient.address)
            else:
                groups.setdefault((decision.fields, decision.mailbox), []).append(recipient)
        await asyncio.gather(
            *(
                self._store(message, fields, mailbox, members, outcome)
                for (fields, mailbox), members in groups.items()
            )
        )
        return outcome

    async def _store(
        self,
        message: Incoming,
        fields: tuple[str, ...],
        mailbox: str,
        members: list[LocalRecipient],
        outcome: LocalOutcome,
    ) -> None:
        # RFC 5321 §4.4: final delivery records the envelope sender on top.
        lines = (f"Return-Path: <{message.sender}>", *fields)
        extra = "".join(f"{line}\r\n" for line in lines).encode("utf-8")
        raw, parsed = extra + message.raw, with_fields_prepended(message.parsed, extra)
        accounts = [m.account_id for m in members]
        try:
            result = await self._mail.deliver(accounts, raw, mailbox, parsed)
        except NotFound:  # the stage named a folder that is gone: keep it (RFC 5228 §4.1)
            result = await self._mail.deliver(accounts, raw, "INBOX", parsed)
        for member in members:
            if member.account_id in result.delivered:
                outcome.delivered.append(member.address)
            else:
                reason = result.refused.get(member.account_id, "")
                outcome.over_quota[member.address] = reason
