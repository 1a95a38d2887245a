"""The vocabulary of the mail store, shared by IMAP, POP3, SMTP delivery and webmail.

Designed for IMAP from the start (RFC 9051 §2.3, RFC 7162 CONDSTORE/QRESYNC):
mailboxes have UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ; messages have a UID that
only grows, a MODSEQ bumped at every flag change, flags and keywords, an internal
date, a size, and a parsed structure computed once at delivery so that FETCH, SORT
and SEARCH never re-parse the message.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "SPECIAL_USE_DEFAULTS",
    "AppendResult",
    "DeliveryResult",
    "MailboxInfo",
    "MessageInfo",
    "ParsedMessage",
    "SpecialUse",
]


class SpecialUse(enum.Enum):
    """RFC 6154 special-use attributes (INBOX is not one: it is a name)."""

    DRAFTS = "\\Drafts"
    SENT = "\\Sent"
    TRASH = "\\Trash"
    JUNK = "\\Junk"
    ARCHIVE = "\\Archive"


# Created at activation, French names as agents see them in every client.
SPECIAL_USE_DEFAULTS: tuple[tuple[str, SpecialUse | None], ...] = (
    ("INBOX", None),
    ("Brouillons", SpecialUse.DRAFTS),
    ("Envoyés", SpecialUse.SENT),
    ("Corbeille", SpecialUse.TRASH),
    ("Indésirables", SpecialUse.JUNK),
    ("Archives", SpecialUse.ARCHIVE),
)


@dataclass(frozen=True)
class ParsedMessage:
    """What delivery computes once from the raw bytes (mail/parse.py)."""

    size: int
    envelope: dict[str, Any]  # RFC 9051 §7.5.2 ENVELOPE fields, raw header values
    body_structure: dict[str, Any]  # BODYSTRUCTURE tree (JSON-able)
    subject: str  # decoded, for SORT/SEARCH/list views
    from_address: str
    to_addresses: str
    cc_addresses: str
    message_id: str
    in_reply_to: str
    references: str
    sent_at: dt.datetime | None  # the Date: header, if parseable
    text: str  # plain text of the text parts, bounded, for the full-text index
    has_attachments: bool
    received_count: int = 0  # Received: fields in the top header (loop detection)


@dataclass(frozen=True)
class MailboxInfo:
    id: int
    account_id: str
    name: str
    special_use: SpecialUse | None
    subscribed: bool
    uidvalidity: int
    uidnext: int
    highestmodseq: int
    messages: int
    unseen: int


@dataclass(frozen=True)
class MessageInfo:
    id: int
    mailbox_id: int
    uid: int
    modseq: int
    flags: tuple[str, ...]
    internal_date: dt.datetime
    size: int
    blob_key: str
    subject: str
    from_address: str
    sent_at: dt.datetime | None


@dataclass(frozen=True)
class AppendResult:
    mailbox_id: int
    uidvalidity: int
    uid: int
    modseq: int


@dataclass(frozen=True)
class DeliveryResult:
    """One raw message stored once and filed into each recipient's mailbox."""

    blob_key: str
    delivered: dict[str, AppendResult] = field(default_factory=dict)  # by account id
    refused: dict[str, str] = field(default_factory=dict)  # account id → reason (quota…)
