"""The bytes of a message as the SMTP listeners store them: pure functions, no I/O.

- Line endings (RFC 5321 §2.3.8): every bare CR or LF becomes CRLF, so the stored
  message is canonical and later readers (IMAP, filters) never disagree on lines.
- The top header (RFC 5322 §2.2, §3.6): split into fields for the submission checks.
  A line that is neither a field nor a continuation makes the header malformed,
  rather than ending it silently: the checks must see exactly the header that a
  mail reader will see.
- The trace field (RFC 5321 §4.4) with the ``with`` keyword of RFC 3848/RFC 6531.
- Fields a submission server adds when missing (RFC 6409 §8.2, §8.3): Date, Message-ID.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from email.utils import format_datetime

from academail.core.clock import to_paris

__all__ = [
    "HeaderField",
    "MalformedHeader",
    "canonical_line_endings",
    "missing_fields",
    "protocol_name",
    "received_field",
    "top_header",
]

_LINE_ENDINGS = re.compile(rb"\r\n|\r|\n")
_FIELD = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]*:(.*)", re.S)
_HELO_SAFE = re.compile(r"[^A-Za-z0-9.\-\[\]:_]")
_IP_SAFE = re.compile(r"[^0-9A-Fa-f.:]")


class MalformedHeader(ValueError):
    """The top header has a line that is neither a field nor a continuation."""


@dataclass(frozen=True)
class HeaderField:
    name: str  # lowercase
    value: bytes  # unfolded (CRLF before white space removed), leading blanks kept


def canonical_line_endings(raw: bytes) -> bytes:
    """Every bare CR or LF becomes CRLF (RFC 5321 §2.3.8)."""
    return _LINE_ENDINGS.sub(b"\r\n", raw)


def top_header(raw: bytes) -> list[HeaderField]:
    """The fields of the message's header, in order; ``raw`` has CRLF line ends.

    The header ends at the first empty line (or with the message). Raises
    :class:`MalformedHeader` for a line there that is not ``name: value`` (a
    space before the colon is the obsolete form RFC 5322 §4.5 still defines, and
    readers accept it, so it is a field here too) nor a continuation.
    """
    if raw.startswith(b"\r\n"):
        return []
    end = raw.find(b"\r\n\r\n")
    lines = (raw if end < 0 else raw[:end]).split(b"\r\n")
    if lines[-1] == b"":
        lines.pop()
    fields: list[tuple[str, list[bytes]]] = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if not fields:
                raise MalformedHeader("continuation before any field")
            fields[-1][1].append(line)
            continue
        match = _FIELD.fullmatch(line)
        if match is None:
            raise MalformedHeader("not a header field")
        fields.append((match.group(1).decode("ascii").lower(), [match.group(2)]))
    return [HeaderField(name, b"".join(parts)) for name, parts in fields]


def protocol_name(*, extended: bool, utf8: bool, tls: bool, authenticated: bool) -> str:
    """The ``with`` value: SMTP, ESMTP[S][A] (RFC 3848) or UTF8SMTP[S][A] (RFC 6531 §3.7.3)."""
    if not extended:
        return "SMTP"
    return ("UTF8SMTP" if utf8 else "ESMTP") + ("S" if tls else "") + ("A" if authenticated else "")


def received_field(
    *,
    helo: str,
    client_ip: str,
    hostname: str,
    protocol: str,
    recipient: str | None,
    when: dt.datetime,
) -> bytes:
    """The RFC 5321 §4.4 trace field: from, by, with, id, for (one recipient only), date.

    ``for`` names the recipient only when there is one, so that a copy shared by
    several recipients never shows one of them (Bcc) to the others.
    """
    name = _HELO_SAFE.sub("", helo)[:255] or "unknown"
    ip = _IP_SAFE.sub("", client_ip)[:45] or "unknown"
    lines = [
        f"Received: from {name} ([{ip}])",
        f"\tby {hostname} with {protocol} id {secrets.token_hex(8)}",
    ]
    if recipient is not None:
        lines.append(f"\tfor <{recipient}>")
    lines[-1] += f"; {format_datetime(to_paris(when))}"
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def missing_fields(fields: list[HeaderField], domain: str, when: dt.datetime) -> bytes:
    """``Date:`` and ``Message-ID:`` lines for those the header lacks (CRLF-terminated)."""
    names = {f.name for f in fields}
    added = b""
    if "date" not in names:
        added += f"Date: {format_datetime(to_paris(when))}\r\n".encode("ascii")
    if "message-id" not in names:
        added += f"Message-ID: <{secrets.token_hex(16)}@{domain}>\r\n".encode()
    return added
