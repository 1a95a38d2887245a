"""RCPT replies for inbound mail: the domain's resolution turned into SMTP replies.

RFC 5321 §3.3 lets a server refuse a recipient at RCPT; RFC 3463 gives the
enhanced codes: 5.1.1 (bad destination mailbox) and 5.7.1 (delivery not
authorised: relaying). The text for an unknown local address is one constant,
whatever the reason (never existed, reserved, suspended, deleted), so that the
reply cannot be used to list or probe the directory.
"""

from __future__ import annotations

from academail.mail.recipients import Recipient, RecipientResolver

__all__ = ["RELAY_REFUSED", "UNKNOWN_RECIPIENT", "rcpt_reply"]

UNKNOWN_RECIPIENT = "550 5.1.1 Unknown recipient (destinataire inconnu)"
RELAY_REFUSED = "550 5.7.1 Relaying denied (relais interdit)"


async def rcpt_reply(resolver: RecipientResolver, address: str) -> tuple[str | None, str]:
    """``(account id, reply)``: an id with ``250 2.1.5 Ok``, or None with the refusal."""
    resolution = await resolver.resolve(address)
    if resolution.kind is Recipient.FOREIGN:
        return None, RELAY_REFUSED
    if resolution.kind is Recipient.UNKNOWN or resolution.account_id is None:
        return None, UNKNOWN_RECIPIENT
    return resolution.account_id, "250 2.1.5 Ok"
