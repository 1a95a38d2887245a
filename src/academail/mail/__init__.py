"""The mail store: mailboxes, messages, flags, parsed structure, search, quota, changes."""

from academail.mail.feed import RESYNC, ChangeFeed, MailboxEvent
from academail.mail.model import (
    SPECIAL_USE_DEFAULTS,
    AppendResult,
    DeliveryResult,
    MailboxInfo,
    MessageInfo,
    ParsedMessage,
    SpecialUse,
)
from academail.mail.parse import parse_message, section_span, with_fields_prepended
from academail.mail.recipients import Recipient, RecipientResolver, Resolution
from academail.mail.store import MailStore, normalise_flags

__all__ = [
    "RESYNC",
    "SPECIAL_USE_DEFAULTS",
    "AppendResult",
    "ChangeFeed",
    "DeliveryResult",
    "MailStore",
    "MailboxEvent",
    "MailboxInfo",
    "MessageInfo",
    "ParsedMessage",
    "Recipient",
    "RecipientResolver",
    "Resolution",
    "SpecialUse",
    "normalise_flags",
    "parse_message",
    "section_span",
    "with_fields_prepended",
]
