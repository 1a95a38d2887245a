"""RCPT TO for both listeners: syntax, limits, then the domain's resolution as a reply.

RFC 5321 §3.3 lets a server refuse a recipient at RCPT; RFC 3463 gives the enhanced
codes: 5.1.1 (bad destination mailbox), 5.7.1 (relaying denied), 4.5.3 (too many
recipients, RFC 5321 §4.5.3.1.10: the client sends the rest in another
transaction), 4.7.1 (deferred by policy).

Non-enumeration: the text for an unknown local address is one constant, whatever
the reason (never existed, reserved, suspended, deleted). Every unknown recipient is
counted per client address, or per account after AUTH
(:class:`~academail.identity.mail_policy.MailPolicy`); past the limit, *every* RCPT
from that client — known or not — is deferred with
450 4.7.1 before any lookup, so the answers cannot tell the directory's entries
apart faster than the limit allows.
"""

from __future__ import annotations

from aiosmtpd.smtp import Envelope

from academail.delivery import LocalRecipient
from academail.identity.mail_policy import MailPolicy
from academail.mail.addresses import AddressError, parse_path
from academail.mail.recipients import Recipient, RecipientResolver
from academail.smtp.replies import (
    BAD_RECIPIENT_SYNTAX,
    RCPT_DEFERRED,
    RECIPIENT_OK,
    RELAY_REFUSED,
    TOO_MANY_RECIPIENTS,
    UNKNOWN_RECIPIENT,
    UTF8_REQUIRED,
    Reply,
)
from academail.smtp.session import SmtpServices, Transaction

__all__ = ["RELAY_REFUSED", "UNKNOWN_RECIPIENT", "accept_recipient"]


async def accept_recipient(
    tx: Transaction,
    text: str,
    *,
    utf8: bool,
    client: str,
    resolver: RecipientResolver,
    policy: MailPolicy,
    limit: int,
    relay: bool,
    postmaster_domain: str,
) -> Reply:
    """Checks one RCPT address; on success it is added to ``tx``.

    ``client`` keys the unknown-recipient limit: the client's IP address, or
    ``account:<id>`` for authenticated submission. ``relay`` (authenticated
    submission) accepts addresses outside our domains as remote recipients;
    otherwise they are refused. A bare ``<Postmaster>`` (RFC 5321
    §4.1.1.3) means postmaster of ``postmaster_domain``.
    """
    if policy.recipients_deferred(client):
        return RCPT_DEFERRED
    if text.lower() == "postmaster":
        text = f"postmaster@{postmaster_domain}"
    try:
        address = parse_path(text, utf8=True)
    except AddressError:
        return BAD_RECIPIENT_SYNTAX
    if not address.is_ascii and not utf8:
        return UTF8_REQUIRED
    key = address.key
    if key in tx.local or key in tx.remote:
        return RECIPIENT_OK  # named twice: one delivery
    if tx.count >= limit:
        return TOO_MANY_RECIPIENTS
    resolution = await resolver.resolve(str(address))
    if resolution.kind is Recipient.LOCAL and resolution.account_id:
        tx.local[key] = LocalRecipient(str(address), resolution.account_id)
        return RECIPIENT_OK
    if resolution.kind is Recipient.FOREIGN:
        if not relay:
            return RELAY_REFUSED
        tx.remote[key] = str(address)
        return RECIPIENT_OK
    if not await policy.unknown_recipient(client):
        return RCPT_DEFERRED
    return UNKNOWN_RECIPIENT


async def rcpt_hook(
    services: SmtpServices,
    tx: Transaction,
    envelope: Envelope,
    address: str,
    *,
    client: str,
    relay: bool,
) -> str:
    """The RCPT hook of both listeners: :func:`accept_recipient` with the settings,
    and the accepted address recorded in aiosmtpd's envelope."""
    settings = services.settings
    reply = await accept_recipient(
        tx,
        address,
        utf8=envelope.smtp_utf8,
        client=client,
        resolver=services.router.resolver,
        policy=services.policy,
        limit=settings.smtp.max_recipients,
        relay=relay,
        postmaster_domain=settings.academie.domain,
    )
    if reply.code == 250 and address not in envelope.rcpt_tos:
        envelope.rcpt_tos.append(address)
    return str(reply)
