"""Delivery status notifications: telling a sender that their message did not go.

RFC 3464 (the report format), RFC 3462/6522 (``multipart/report``), RFC 3463
(status codes). A DSN is a message of three parts: a text a person reads (French,
then English), the ``message/delivery-status`` fields a program reads (one block
for the message, one per failed recipient) and the original header fields as
``text/rfc822-headers``. It never carries the original body: the sender has it,
and a DSN that quotes bodies can be abused to send content in our name.

It goes with the null sender ``<>`` (RFC 5321 §4.5.5), so it can never cause a
DSN in turn, and through the ordinary routing: a local sender finds it in INBOX, a
remote one gets it through the outbound queue. A message whose own sender is
``<>`` is never returned (the loop RFC 5321 §6.1 forbids).
"""

from __future__ import annotations

import datetime as dt
import email.quoprimime
import email.utils
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from academail.blobs import BlobStore
from academail.core.clock import Clock
from academail.core.errors import NotFound
from academail.core.offload import off_loop
from academail.delivery.pipeline import Incoming
from academail.delivery.router import MailRouter
from academail.mail import parse_message

__all__ = ["Bouncer", "Failure", "Returned", "compose_dsn", "header_block"]

log = structlog.get_logger(__name__)
MAX_HEADERS = 64 * 1024  # of the original, quoted in the third part
CRLF = "\r\n"


@dataclass(frozen=True)
class Failure:
    """One recipient that will not get the message (RFC 3464 §2.3)."""

    recipient: str
    status: str  # RFC 3463, e.g. "5.1.1"; a 4.x.x status with an expired message
    diagnostic: str = ""  # "smtp; 550 5.1.1 …" (a Diagnostic-Code value) or ""
    remote_mta: str = ""
    last_attempt: dt.datetime | None = None


@dataclass(frozen=True)
class Returned:
    """The message being returned: who sent it, when it arrived, its header block."""

    sender: str
    arrival: dt.datetime
    headers: bytes  # b"" when the original is unreadable


def header_block(raw: bytes) -> bytes:
    """The header section of a message (without the blank line), at most
    :data:`MAX_HEADERS` bytes, cut at a line end."""
    end = raw.find(b"\r\n\r\n")
    block = raw if end < 0 else raw[: end + 2]
    if len(block) > MAX_HEADERS:
        block = block[: block.rfind(b"\r\n", 0, MAX_HEADERS) + 2]
    return block.rstrip(b"\r\n") + b"\r\n" if block.strip() else b""


def _one_line(text: str, limit: int = 400) -> str:
    """A field value from text that may come from the network: no CR, LF or controls."""
    return "".join(c if c.isprintable() else " " for c in text)[:limit].strip()


def _type_of(address: str) -> str:
    """RFC 3464 address type: ``rfc822``, or ``utf-8`` (RFC 6533) for UTF-8 addresses."""
    return "rfc822" if address.isascii() else "utf-8"


def _reason(failure: Failure) -> str:
    text = failure.diagnostic.partition(";")[2].strip() if failure.diagnostic else ""
    return text or failure.status


def _human_text(hostname: str, failures: Sequence[Failure], expired: bool) -> str:
    lines = [f"  {_one_line(f.recipient)} : {_one_line(_reason(f))}" for f in failures]
    listing = CRLF.join(lines)
    if expired:
        french = "n'a pas pu être remis dans le délai prévu, malgré plusieurs essais,"
        english = "could not be delivered in time, after several attempts,"
    else:
        french = "n'a pas pu être remis"
        english = "could not be delivered"
    return CRLF.join(
        [
            f"Ceci est le serveur de messagerie {hostname}.",
            "",
            f"Votre message {french} aux destinataires suivants :",
            "",
            listing,
            "",
            "Les en-têtes de votre message sont joints à cet avis. Vérifiez l'adresse",
            "du destinataire ou adressez-vous à l'assistance de votre établissement.",
            "",
            "-- English --",
            "",
            f"This is the mail system at {hostname}.",
            "",
            f"Your message {english} to the following recipients:",
            "",
            listing,
            "",
            "The header fields of your message are attached.",
            "",
        ]
    )


def _status_fields(hostname: str, returned: Returned, failures: Sequence[Failure]) -> str:
    """The ``message/delivery-status`` body: per-message block, then one per recipient."""
    blocks = [
        [
            f"Reporting-MTA: dns; {hostname}",
            f"Arrival-Date: {email.utils.format_datetime(returned.arrival)}",
        ]
    ]
    for failure in failures:
        block = [
            f"Final-Recipient: {_type_of(failure.recipient)}; {_one_line(failure.recipient)}",
            "Action: failed",
            f"Status: {failure.status}",
        ]
        if failure.remote_mta:
            block.append(f"Remote-MTA: dns; {_one_line(failure.remote_mta, 253)}")
        if failure.diagnostic:
            block.append(f"Diagnostic-Code: {_one_line(failure.diagnostic)}")
        if failure.last_attempt is not None:
            block.append(f"Last-Attempt-Date: {email.utils.format_datetime(failure.last_attempt)}")
        blocks.append(block)
    return CRLF.join(CRLF.join(block) + CRLF for block in blocks)


def compose_dsn(
    returned: Returned,
    failures: Sequence[Failure],
    *,
    hostname: str,
    now: dt.datetime,
    expired: bool = False,
) -> bytes:
    """The DSN as bytes with CRLF line ends, ready for :class:`MailRouter`."""
    boundary = f"=_dsn_{secrets.token_hex(12)}"
    text = _human_text(hostname, failures, expired)
    # body_encode takes one character per byte: the UTF-8 bytes seen as Latin-1.
    human = email.quoprimime.body_encode(
        text.encode("utf-8").decode("latin-1"), maxlinelen=76, eol=CRLF
    )
    head = CRLF.join(
        [
            f'From: "Serveur de messagerie (Mail Delivery System)" <MAILER-DAEMON@{hostname}>',
            f"To: <{_one_line(returned.sender, 254)}>",
            "Subject: Courriel non remis (Undelivered Mail Returned to Sender)",
            f"Date: {email.utils.format_datetime(now)}",
            f"Message-ID: <{secrets.token_hex(12)}@{hostname}>",
            "Auto-Submitted: auto-replied",  # RFC 3834 §5: no automatic reply to this
            "MIME-Version: 1.0",
            "Content-Type: multipart/report; report-type=delivery-status;",
            f'\tboundary="{boundary}"',
            "",
            "This is a MIME-encapsulated delivery status notification.",
            "",
        ]
    )
    parts = [
        CRLF.join(
            [
                "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: quoted-printable",
                "",
                human.rstrip(CRLF) + CRLF,
            ]
        ),
        CRLF.join(
            [
                "Content-Type: message/delivery-status",
                "",
                _status_fields(hostname, returned, failures),
            ]
        ),
    ]
    body = head.encode("utf-8") + b"".join(
        f"--{boundary}{CRLF}".encode() + part.encode("utf-8") for part in parts
    )
    if returned.headers:
        cte = "" if returned.headers.isascii() else f"Content-Transfer-Encoding: 8bit{CRLF}"
        body += (
            f"--{boundary}{CRLF}Content-Type: text/rfc822-headers{CRLF}{cte}{CRLF}".encode()
            + returned.headers
        )
    return body + f"--{boundary}--{CRLF}".encode()


class Bouncer:
    """Composes a DSN and sends it to the original sender, through the router."""

    def __init__(self, router: MailRouter, blobs: BlobStore, clock: Clock, hostname: str) -> None:
        self._router = router
        self._blobs = blobs
        self._clock = clock
        self._hostname = hostname

    async def original_headers(self, blob_key: str) -> bytes:
        """Read while the queue rows still hold the blob (before they are deleted)."""
        try:
            return header_block(await self._blobs.get(blob_key))
        except NotFound:
            log.error("queued message unreadable for its DSN", blob=blob_key[:12])
            return b""

    async def report(self, message: Incoming, failures: Sequence[tuple[str, str, str]]) -> None:
        """The router's FailureReporter: local recipients of an accepted message
        that did not get it (full mailbox, refused by a filter)."""
        returned = Returned(message.sender, self._clock.now(), header_block(message.raw))
        await self.bounce(returned, [Failure(r, status, diag) for r, status, diag in failures])

    async def bounce(
        self, returned: Returned, failures: Sequence[Failure], *, expired: bool = False
    ) -> bool:
        """Sends one DSN listing ``failures``; False (and nothing sent) when the
        message had the null sender or nothing failed."""
        if not returned.sender or not failures:
            return False
        raw = compose_dsn(
            returned, failures, hostname=self._hostname, now=self._clock.now(), expired=expired
        )
        parsed = await off_loop(parse_message, raw)
        routed = await self._router.route_addresses(Incoming(raw, parsed, ""), [returned.sender])
        local = routed.local
        if routed.unknown or local.rejected or local.over_quota:
            log.warning(
                "DSN not delivered",
                unknown=len(routed.unknown),
                rejected=len(local.rejected),
                over_quota=len(local.over_quota),
            )
        return True
