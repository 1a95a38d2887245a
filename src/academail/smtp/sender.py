"""Is this message really from the authenticated account? Envelope and header checks.

RFC 6409 §8 lets a submission server refuse what its user may not send. academail
requires the envelope sender (MAIL FROM) and every ``From:`` mailbox to be an
address of the authenticated account (its address or aliases, from
:meth:`MailPolicy.sender_addresses`). RFC 5322 §3.6.2: a ``From:`` with several
mailboxes needs a ``Sender:``; a ``Sender:``, whenever present, must be the
account's too. Exactly one ``From:`` and at most one ``Sender:`` (§3.6).

Every address is parsed by :mod:`academail.mail.addresses` (strict; never
``email.utils``, CVE-2023-27043) and compared on its canonical form, so a display
name (``"boss@ac-amiens.fr" <evil@x.org>``), a comment or a quoted local part cannot
make one address pass for another. A field that is not valid UTF-8 or not in the
grammar is refused: a decision needs an address we understand exactly.
"""

from __future__ import annotations

from academail.mail.addresses import AddressError, parse_mailbox, parse_mailbox_list, parse_path
from academail.smtp.message import HeaderField
from academail.smtp.replies import (
    BAD_SENDER_SYNTAX,
    FROM_NOT_YOURS,
    SENDER_FIELD_REQUIRED,
    SENDER_NOT_YOURS,
    UTF8_REQUIRED,
    Reply,
)

__all__ = ["check_envelope_sender", "check_header_senders"]


def check_envelope_sender(
    text: str, *, utf8: bool, allowed: frozenset[str]
) -> tuple[str, Reply | None]:
    """``(canonical sender, None)`` when MAIL FROM names one of ``allowed``, else a refusal.

    The null sender ``<>`` is refused: it is for bounces, which the platform writes
    itself, never a person.
    """
    if text == "<>":
        return "", SENDER_NOT_YOURS
    try:
        address = parse_path(text, utf8=True)
    except AddressError:
        return "", BAD_SENDER_SYNTAX
    if not address.is_ascii and not utf8:
        return "", UTF8_REQUIRED
    if address.key not in allowed:
        return "", SENDER_NOT_YOURS
    return str(address), None


def check_header_senders(fields: list[HeaderField], allowed: frozenset[str]) -> Reply | None:
    """None when the header's From:/Sender: are the account's, else the refusal."""
    froms = [f.value for f in fields if f.name == "from"]
    senders = [f.value for f in fields if f.name == "sender"]
    if len(froms) != 1 or len(senders) > 1:
        return FROM_NOT_YOURS
    try:
        mailboxes = parse_mailbox_list(froms[0].decode("utf-8"))
        sender = parse_mailbox(senders[0].decode("utf-8")) if senders else None
    except (AddressError, UnicodeDecodeError):
        return FROM_NOT_YOURS
    if any(m.address.key not in allowed for m in mailboxes):
        return FROM_NOT_YOURS
    if sender is not None and sender.address.key not in allowed:
        return FROM_NOT_YOURS
    if len(mailboxes) > 1 and sender is None:
        return SENDER_FIELD_REQUIRED
    return None
