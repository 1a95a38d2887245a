"""Mail client configuration documents: Thunderbird autoconfig, Outlook autodiscover,
Apple configuration profile; and the parser of Outlook's autodiscover request.

Pure functions, no I/O (style.md §1). Formats:

* Thunderbird "clientConfig" version 1.1 (Mozilla wiki "Thunderbird:Autoconfiguration:
  ConfigFileFormat"): one ``emailProvider`` with our domains, incoming IMAP (993
  TLS, 143 STARTTLS) and POP3 (995 TLS), outgoing SMTP submission (465 TLS, 587
  STARTTLS — RFC 8314 prefers implicit TLS, listed first).
* Outlook POX autodiscover (MS-OXDSCLI; response schema
  ``http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a``).
* Apple configuration profile (plist, payload ``com.apple.mail.managed``): unsigned,
  and never with a password inside (the device asks for it).

Security posture of :func:`parse_autodiscover_request`: it reads XML sent by anyone
on the Internet. The body is size-limited by the caller; here any document type
declaration or entity declaration is refused before it can expand (billion laughs,
external entities), with the expat handlers the way ``defusedxml`` does it, so
no extra dependency is needed. Usernames are always the full address: our sign-in
accepts it, and the generic documents never say whether an address exists
(Thunderbird's ``%EMAILADDRESS%`` placeholder; autodiscover answers the same for
any address of our domains).
"""

from __future__ import annotations

import plistlib
import uuid
import xml.etree.ElementTree as ET  # noqa: S405 - used to *build* documents only
from dataclasses import dataclass
from typing import NoReturn
from xml.parsers import expat

__all__ = [
    "AUTODISCOVER_SCHEMA",
    "Account",
    "AutodiscoverRequest",
    "MailServers",
    "UnsafeXml",
    "apple_profile",
    "autodiscover_error",
    "autodiscover_response",
    "parse_autodiscover_request",
    "thunderbird_config",
]

AUTODISCOVER_SCHEMA = (
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
)
_RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
_PLACEHOLDER = "%EMAILADDRESS%"


@dataclass(frozen=True)
class MailServers:
    """Where the académie's mail lives (settings.web), and its domains."""

    imap_host: str
    smtp_host: str
    pop_host: str
    domains: tuple[str, ...]
    organisation: str


@dataclass(frozen=True)
class Account:
    """Whose documents these are: the address is also the username."""

    address: str
    display_name: str


def _serialise(root: ET.Element) -> bytes:
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


# -- Thunderbird ---------------------------------------------------------------------------
def _server(parent: ET.Element, tag: str, kind: str, host: str, port: int, socket: str) -> None:
    server = ET.SubElement(parent, tag, type=kind)
    for name, value in (
        ("hostname", host),
        ("port", str(port)),
        ("socketType", socket),
        ("authentication", "password-cleartext"),
        ("username", _PLACEHOLDER),
    ):
        ET.SubElement(server, name).text = value


def thunderbird_config(servers: MailServers, account: Account | None = None) -> bytes:
    """The clientConfig v1.1 document; with ``account``, its address replaces the placeholder."""
    root = ET.Element("clientConfig", version="1.1")
    provider = ET.SubElement(root, "emailProvider", id=servers.domains[0])
    for domain in servers.domains:
        ET.SubElement(provider, "domain").text = domain
    ET.SubElement(provider, "displayName").text = f"Messagerie – {servers.organisation}"
    ET.SubElement(provider, "displayShortName").text = servers.organisation
    _server(provider, "incomingServer", "imap", servers.imap_host, 993, "SSL")
    _server(provider, "incomingServer", "imap", servers.imap_host, 143, "STARTTLS")
    _server(provider, "incomingServer", "pop3", servers.pop_host, 995, "SSL")
    _server(provider, "outgoingServer", "smtp", servers.smtp_host, 465, "SSL")
    _server(provider, "outgoingServer", "smtp", servers.smtp_host, 587, "STARTTLS")
    if account is not None:
        for username in root.iter("username"):
            username.text = account.address
    return _serialise(root)


# -- Outlook autodiscover ------------------------------------------------------------------
class UnsafeXml(ValueError):
    """The request is not a plain, small, well-formed XML document."""


@dataclass(frozen=True)
class AutodiscoverRequest:
    email: str
    schema: str


def parse_autodiscover_request(body: bytes) -> AutodiscoverRequest:
    """``EMailAddress`` and ``AcceptableResponseSchema``; UnsafeXml on DTDs or bad XML."""
    parser = expat.ParserCreate()
    found: dict[str, list[str]] = {"EMailAddress": [], "AcceptableResponseSchema": []}
    stack: list[str] = []

    def refuse(*_args: object) -> NoReturn:
        raise UnsafeXml("document type and entity declarations are refused")

    def start(name: str, _attrs: dict[str, str]) -> None:
        stack.append(name.rsplit(" ", 1)[-1].rsplit(":", 1)[-1])

    def end(_name: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if stack and stack[-1] in found:
            found[stack[-1]].append(data)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise UnsafeXml("malformed XML") from exc
    email = "".join(found["EMailAddress"]).strip()
    schema = "".join(found["AcceptableResponseSchema"]).strip()
    return AutodiscoverRequest(email[:254], schema[:200])


def _protocol(
    account: ET.Element, kind: str, host: str, port: int, encryption: str, login: str
) -> None:
    protocol = ET.SubElement(account, "Protocol")
    for name, value in (
        ("Type", kind),
        ("Server", host),
        ("Port", str(port)),
        ("DomainRequired", "off"),
        ("LoginName", login),
        ("SPA", "off"),
        ("SSL", "on"),
        ("Encryption", encryption),
        ("AuthRequired", "on"),
    ):
        ET.SubElement(protocol, name).text = value
    if kind == "SMTP":
        ET.SubElement(protocol, "UsePOPAuth").text = "off"
        ET.SubElement(protocol, "SMTPLast").text = "off"


def autodiscover_response(servers: MailServers, account: Account) -> bytes:
    """The POX answer for ``account``: IMAP 993 TLS, SMTP 587 STARTTLS, POP3 995 TLS."""
    root = ET.Element("Autodiscover", xmlns=_RESPONSE_NS)
    response = ET.SubElement(root, "Response", xmlns=AUTODISCOVER_SCHEMA)
    user = ET.SubElement(response, "User")
    ET.SubElement(user, "DisplayName").text = account.display_name
    block = ET.SubElement(response, "Account")
    ET.SubElement(block, "AccountType").text = "email"
    ET.SubElement(block, "Action").text = "settings"
    _protocol(block, "IMAP", servers.imap_host, 993, "SSL", account.address)
    _protocol(block, "SMTP", servers.smtp_host, 587, "TLS", account.address)
    _protocol(block, "POP3", servers.pop_host, 995, "SSL", account.address)
    return _serialise(root)


def autodiscover_error(code: str, message: str) -> bytes:
    """The POX error answer (600: invalid request, 601: schema not available)."""
    root = ET.Element("Autodiscover", xmlns=_RESPONSE_NS)
    response = ET.SubElement(root, "Response")
    error = ET.SubElement(response, "Error")
    ET.SubElement(error, "ErrorCode").text = code
    ET.SubElement(error, "Message").text = message
    ET.SubElement(error, "DebugData")
    return _serialise(root)


# -- Apple -----------------------------------------------------------------------------------
def apple_profile(servers: MailServers, account: Account) -> bytes:
    """An unsigned ``.mobileconfig`` with one IMAP account; no password inside.

    The UUIDs derive from the address, so installing it again replaces the profile
    instead of adding a second account.
    """
    base = servers.domains[0]
    identifier = ".".join(reversed(base.split(".")))
    profile_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{account.address}#profile"))
    mail_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{account.address}#mail"))
    mail = {
        "PayloadType": "com.apple.mail.managed",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{identifier}.mail.{mail_uuid}",
        "PayloadUUID": mail_uuid,
        "PayloadDisplayName": f"Messagerie {servers.organisation}",
        "EmailAccountDescription": f"Messagerie {servers.organisation}",
        "EmailAccountName": account.display_name,
        "EmailAccountType": "EmailTypeIMAP",
        "EmailAddress": account.address,
        "IncomingMailServerAuthentication": "EmailAuthPassword",
        "IncomingMailServerHostName": servers.imap_host,
        "IncomingMailServerPortNumber": 993,
        "IncomingMailServerUseSSL": True,
        "IncomingMailServerUsername": account.address,
        "OutgoingMailServerAuthentication": "EmailAuthPassword",
        "OutgoingMailServerHostName": servers.smtp_host,
        "OutgoingMailServerPortNumber": 587,
        "OutgoingMailServerUseSSL": True,
        "OutgoingMailServerUsername": account.address,
        "OutgoingPasswordSameAsIncomingPassword": True,
    }
    profile = {
        "PayloadContent": [mail],
        "PayloadDisplayName": f"Messagerie {servers.organisation}",
        "PayloadDescription": "Configure votre messagerie académique (IMAP et SMTP).",
        "PayloadIdentifier": f"{identifier}.mail",
        "PayloadOrganization": servers.organisation,
        "PayloadRemovalDisallowed": False,
        "PayloadType": "Configuration",
        "PayloadUUID": profile_uuid,
        "PayloadVersion": 1,
    }
    return plistlib.dumps(profile)
