"""Every SMTP reply academail writes, as typed values, and aiosmtpd's own replies completed.

RFC 5321 §4.2 reply codes with RFC 3463 enhanced status codes (RFC 2034: once
ENHANCEDSTATUSCODES is advertised, every reply but the greeting and the EHLO/HELO
answer carries one). Texts are ASCII, English with French in parentheses (accents
dropped: a reply line is ASCII for clients that do not speak SMTPUTF8).

aiosmtpd writes some replies itself (syntax errors, "need MAIL command", size
refusals…), without enhanced codes; :func:`completed` rewrites those known lines,
so the listener's answers stay consistent whichever side produced them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ACCEPTED",
    "AUTH_ALREADY_DONE",
    "AUTH_FAILED",
    "AUTH_MALFORMED",
    "AUTH_OK",
    "AUTH_REQUIRED",
    "AUTH_TEMPORARY",
    "BAD_RECIPIENT_SYNTAX",
    "BAD_SENDER_SYNTAX",
    "ENCRYPTION_REQUIRED",
    "FROM_NOT_YOURS",
    "HOURLY_LIMIT",
    "LOCAL_ERROR",
    "MAILBOX_FULL",
    "MALFORMED_HEADER",
    "MESSAGE_TOO_BIG",
    "NO_RECIPIENT",
    "PASSWORD_EXPIRED",
    "RCPT_DEFERRED",
    "RECIPIENT_OK",
    "REFUSED",
    "RELAY_REFUSED",
    "SENDER_FIELD_REQUIRED",
    "SENDER_NOT_YOURS",
    "SENDER_OK",
    "TOO_MANY_AUTH_FAILURES",
    "TOO_MANY_RECIPIENTS",
    "UNKNOWN_RECIPIENT",
    "UTF8_REQUIRED",
    "VRFY_DISABLED",
    "Reply",
    "completed",
    "rejection",
]


@dataclass(frozen=True)
class Reply:
    """One reply line: ``code status text`` (``str()`` is what goes on the wire)."""

    code: int
    status: str
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.status} {self.text}"


ACCEPTED = Reply(250, "2.0.0", "Ok")
SENDER_OK = Reply(250, "2.1.0", "Ok")
RECIPIENT_OK = Reply(250, "2.1.5", "Ok")
VRFY_DISABLED = Reply(252, "2.5.0", "Cannot VRFY user (verification desactivee)")

UNKNOWN_RECIPIENT = Reply(550, "5.1.1", "Unknown recipient (destinataire inconnu)")
RELAY_REFUSED = Reply(550, "5.7.1", "Relaying denied (relais interdit)")
RCPT_DEFERRED = Reply(
    450, "4.7.1", "Too many unknown recipients, try later (trop de destinataires inconnus)"
)
TOO_MANY_RECIPIENTS = Reply(452, "4.5.3", "Too many recipients (trop de destinataires)")
BAD_SENDER_SYNTAX = Reply(553, "5.1.7", "Bad sender address syntax (adresse mal formee)")
BAD_RECIPIENT_SYNTAX = Reply(553, "5.1.3", "Bad recipient address syntax (adresse mal formee)")
UTF8_REQUIRED = Reply(553, "5.6.7", "Non-ASCII address needs SMTPUTF8 (adresse non ASCII)")

MAILBOX_FULL = Reply(552, "5.2.2", "Mailbox full (boite pleine)")
MESSAGE_TOO_BIG = Reply(552, "5.3.4", "Message too big (message trop volumineux)")
NO_RECIPIENT = Reply(554, "5.5.1", "No valid recipient (aucun destinataire valide)")
REFUSED = Reply(550, "5.7.1", "Message refused (message refuse)")
LOCAL_ERROR = Reply(451, "4.3.0", "Local error, try again later (erreur locale, reessayez)")

AUTH_OK = Reply(235, "2.7.0", "Authentication successful (authentification reussie)")
AUTH_FAILED = Reply(535, "5.7.8", "Authentication credentials invalid (identifiants refuses)")
PASSWORD_EXPIRED = Reply(
    535, "5.7.8", "Password expired, change it on the portal (mot de passe expire)"
)
AUTH_TEMPORARY = Reply(454, "4.7.0", "Temporary authentication failure (reessayez plus tard)")
AUTH_MALFORMED = Reply(501, "5.5.2", "Malformed authentication data (donnees mal formees)")
AUTH_ALREADY_DONE = Reply(503, "5.5.1", "Already authenticated (deja authentifie)")
ENCRYPTION_REQUIRED = Reply(538, "5.7.11", "Encryption required (chiffrement exige)")
TOO_MANY_AUTH_FAILURES = Reply(421, "4.7.0", "Too many authentication failures (trop d'echecs)")
AUTH_REQUIRED = Reply(530, "5.7.0", "Authentication required (authentification requise)")

SENDER_NOT_YOURS = Reply(553, "5.7.1", "Sender address is not yours (expediteur non autorise)")
FROM_NOT_YOURS = Reply(550, "5.7.1", "From: must be one of your addresses (From: non autorise)")
SENDER_FIELD_REQUIRED = Reply(
    550, "5.7.1", "Several From: addresses need a Sender: field (Sender: exige)"
)
MALFORMED_HEADER = Reply(550, "5.6.0", "Malformed header (en-tete mal forme)")
HOURLY_LIMIT = Reply(
    450, "4.7.1", "Too many messages this hour, try later (trop de messages cette heure-ci)"
)

_ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}(?: |$)")
_NOT_PRINTABLE = re.compile(r"[^\x20-\x7e]")

# aiosmtpd 1.4.6's own lines (exact text) and what we send instead.
_EXACT = {
    "250 OK": "250 2.0.0 Ok",
    "221 Bye": "221 2.0.0 Bye (au revoir)",
    "220 Ready to start TLS": "220 2.0.0 Ready to start TLS (pret pour TLS)",
    "503 Error: need MAIL command": "503 5.5.1 Need MAIL command first (MAIL d'abord)",
    "503 Error: need RCPT command": "503 5.5.1 Need RCPT command first (RCPT d'abord)",
    "503 Error: nested MAIL command": "503 5.5.1 Nested MAIL command (MAIL deja donne)",
    "503 Error: send HELO first": "503 5.5.1 Send EHLO or HELO first (EHLO d'abord)",
    "503 Error: send EHLO first": "503 5.5.1 Send EHLO first (EHLO d'abord)",
    "503 Already authenticated": str(AUTH_ALREADY_DONE),
    "530 Must issue a STARTTLS command first": (
        "530 5.7.0 Must issue a STARTTLS command first (STARTTLS d'abord)"
    ),
    "552 Error: message size exceeds fixed maximum message size": str(MESSAGE_TOO_BIG),
    "552 Error: Too much mail data": str(MESSAGE_TOO_BIG),
    "554 Command refused due to lack of security": "554 5.7.0 TLS negotiation failed (echec TLS)",
    "454 TLS not available": "454 4.7.0 TLS not available (TLS indisponible)",
    "500 Line too long (see RFC5321 4.5.3.1.6)": "500 5.5.2 Line too long (ligne trop longue)",
    "500 Command line too long": "500 5.5.2 Command line too long (ligne trop longue)",
}
# Any other line of these codes without an enhanced code gets the generic one.
_GENERIC = {
    "500": "5.5.2",
    "501": "5.5.4",
    "502": "5.5.1",
    "503": "5.5.1",
    "504": "5.5.4",
    "538": "5.7.11",
    "553": "5.1.3",
    "555": "5.5.4",
}


def completed(line: str) -> str:
    """``line`` with an enhanced status code (aiosmtpd's lines), others unchanged."""
    exact = _EXACT.get(line)
    if exact is not None:
        return exact
    code, space, rest = line.partition(" ")
    status = _GENERIC.get(code)
    if status is None or not space or _ENHANCED.match(rest):
        return line
    return f"{code} {status} {rest}"


def rejection(reason: str) -> Reply:
    """A 550 from a pipeline stage's reason (``"5.x.y text"``), made safe for the wire."""
    text = _NOT_PRINTABLE.sub("?", reason)[:400].strip()
    status, _, rest = text.partition(" ")
    if _ENHANCED.match(text) and status.startswith("5.") and rest:
        return Reply(550, status, rest)
    return Reply(550, REFUSED.status, text or REFUSED.text)
