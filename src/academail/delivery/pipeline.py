"""The stages a message passes through before it is stored in a local mailbox.

Parse once, run stages, store: the message is parsed once (``mail.parse_message``)
when it arrives; each :class:`Stage` looks at that parse and the recipient and
returns a :class:`Verdict`; no stage re-reads or re-parses the bytes. A stage may
accept (optionally adding header fields at the top), file into another mailbox,
reject (the sender learns why) or discard (silently; for what is known to be
malicious). Spam, phishing, Sieve and out-of-office come as stages in a later
issue; :class:`HopLimit` is the first, the mail-loop guard of RFC 5321 §6.3.

Verdicts are per recipient, because filters are: one recipient's Sieve script
files into "Projets", another's discards. Recipients with the same outcome share
one stored copy (same added fields, same mailbox), so a message to 50 agents is
still stored once when no stage tells them apart.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from academail.mail import ParsedMessage

__all__ = [
    "Action",
    "Decision",
    "HopLimit",
    "Incoming",
    "LocalRecipient",
    "Pipeline",
    "Stage",
    "Verdict",
]


class Action(enum.Enum):
    ACCEPT = "accept"
    FILE = "file"
    REJECT = "reject"
    DISCARD = "discard"


@dataclass(frozen=True)
class Verdict:
    """What one stage decided for one recipient.

    ``fields`` are complete header lines (``Name: value``, no line end) to add at
    the top of the header; ``mailbox`` is the target of FILE; ``reason`` the text
    the sender sees for REJECT (ASCII, it goes into an SMTP reply or a DSN).
    """

    action: Action = Action.ACCEPT
    fields: tuple[str, ...] = ()
    mailbox: str | None = None
    reason: str = ""


ACCEPT = Verdict()


@dataclass(frozen=True)
class Incoming:
    """A message on its way in: the bytes, their parse, and where they came from."""

    raw: bytes
    parsed: ParsedMessage
    sender: str  # the envelope sender, "" for the null sender <>
    client_ip: str = ""
    account_id: str | None = None  # the authenticated submitter, if any


@dataclass(frozen=True)
class LocalRecipient:
    address: str
    account_id: str


@dataclass(frozen=True)
class Decision:
    """The outcome of every stage for one recipient."""

    action: Action
    fields: tuple[str, ...]
    mailbox: str
    reason: str


class Stage(Protocol):
    name: str

    async def examine(self, message: Incoming, recipient: LocalRecipient) -> Verdict: ...


class HopLimit:
    """RFC 5321 §6.3: a message with too many ``Received:`` fields is in a loop.

    The count comes from the parse's header, so it is the fields actually present
    (the one the SMTP listener just added included). 100 is RFC 5321's suggestion.
    """

    name = "hop-limit"

    def __init__(self, limit: int = 100) -> None:
        self._limit = limit

    async def examine(self, message: Incoming, recipient: LocalRecipient) -> Verdict:
        if message.parsed.received_count > self._limit:
            return Verdict(Action.REJECT, reason="5.4.6 Routing loop detected (boucle)")
        return ACCEPT


class Pipeline:
    """Runs the stages in order for each recipient; the first REJECT or DISCARD ends it."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        self.stages = tuple(stages)

    async def decide(self, message: Incoming, recipient: LocalRecipient) -> Decision:
        fields: list[str] = []
        mailbox = "INBOX"
        for stage in self.stages:
            verdict = await stage.examine(message, recipient)
            fields.extend(verdict.fields)
            if verdict.action in (Action.REJECT, Action.DISCARD):
                return Decision(verdict.action, tuple(fields), mailbox, verdict.reason)
            if verdict.action is Action.FILE and verdict.mailbox:
                mailbox = verdict.mailbox
        action = Action.FILE if mailbox != "INBOX" else Action.ACCEPT
        return Decision(action, tuple(fields), mailbox, "")
