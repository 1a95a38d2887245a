"""Strict e-mail address parsing for decisions: envelopes (RFC 5321) and From:/Sender: (RFC 5322).

Why our own parser: Python 3.11's ``email.utils.parseaddr``/``getaddresses`` are
lenient by design and still carry CVE-2023-27043 (a display name such as
``"boss@ac-amiens.fr" <evil@x.org>`` or a stray ``@`` can be read as another
address), so no security decision may rest on them. The submission listener decides
here whether a message really comes from the authenticated account; this module
accepts exactly the grammar and refuses everything else with :class:`AddressError`.

Standards:

- :func:`parse_path`: RFC 5321 §4.1.2 ``Mailbox`` (``Local-part "@" (Domain /
  address-literal)``) as it appears inside ``<…>`` of MAIL FROM and RCPT TO, with the
  length limits of §4.5.3.1 (local part 64 octets — a parameter, domain 255, path
  256). With ``utf8`` (the SMTPUTF8 parameter, RFC 6531 §3.3), atext, qtext and
  domain labels may hold non-ASCII characters; without it they may not.
- :func:`parse_mailbox_list` / :func:`parse_mailbox`: RFC 5322 §3.4 ``mailbox-list``
  and ``mailbox`` on an *unfolded* field value, with comments and folding white
  space where §3.2.2 allows them and RFC 6532 UTF-8. Obsolete forms that change
  what the address is (obs-local-part, obs-domain, obs-route, empty list members)
  and groups are refused; the obsolete phrase with dots (``John Q. Public``) is
  accepted because it only concerns the display name.

Not decoded: encoded words (RFC 2047) in display names are atoms here — decisions
never look at display names. Non-ASCII characters are accepted only when they are
visible (no control, format — bidi overrides, zero-width —, surrogate, private-use,
unassigned or space characters), so an address cannot hide characters. Parsing is
linear in the input, comment nesting is bounded and values are length-capped, so a
hostile header cannot make it slow.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import dataclass

from academail.core.errors import InvalidInput

__all__ = [
    "MAX_VALUE",
    "Address",
    "AddressError",
    "Mailbox",
    "format_mailbox",
    "parse_mailbox",
    "parse_mailbox_list",
    "parse_path",
]

MAX_VALUE = 1 << 16  # characters of a header value worth parsing (a From: is far shorter)
_MAX_NESTING = 32  # comment depth
_MAX_LOCAL = 64  # RFC 5321 §4.5.3.1.1, octets
_MAX_DOMAIN = 255  # RFC 5321 §4.5.3.1.2, octets
_MAX_PATH = 256  # RFC 5321 §4.5.3.1.3, octets, brackets included
_MAX_LABEL = 63  # RFC 1035 §2.3.4, octets

_LETDIG = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_ATEXT = _LETDIG | frozenset("!#$%&'*+-/=?^_`{|}~")  # RFC 5322 §3.2.3
_WSP = frozenset(" \t")


class AddressError(InvalidInput):
    """The text is not an address of the grammar asked for."""


@dataclass(frozen=True)
class Address:
    """An addr-spec: the semantic local part (quotes and escapes resolved) and the domain.

    ``str()`` gives the canonical form (the local part quoted only when it must be,
    RFC 5321 §4.1.2: "the unquoted form should be used"); :attr:`key` is the form
    addresses are compared by, case-insensitively as academail's accounts are.
    """

    local_part: str
    domain: str

    def __str__(self) -> str:
        return f"{_quote_local(self.local_part)}@{self.domain}"

    @property
    def key(self) -> str:
        return str(self).lower()

    @property
    def is_ascii(self) -> bool:
        return str(self).isascii()


@dataclass(frozen=True)
class Mailbox:
    """An RFC 5322 mailbox; ``display_name`` is for display only, never for decisions."""

    address: Address
    display_name: str | None = None


def parse_path(text: str, *, utf8: bool = False, max_local: int = _MAX_LOCAL) -> Address:
    """RFC 5321 ``Mailbox`` (the inside of ``<…>`` of MAIL FROM or RCPT TO)."""
    scanner = _Scanner(text, utf8=utf8)
    local = scanner.smtp_local_part()
    scanner.expect("@")
    domain = scanner.smtp_domain()
    if not scanner.at_end():
        raise AddressError("Caractères en trop après l'adresse.")
    address = Address(local, domain)
    if len(local.encode("utf-8")) > max_local:
        raise AddressError("Partie locale trop longue.")
    if len(domain.encode("utf-8")) > _MAX_DOMAIN:
        raise AddressError("Domaine trop long.")
    if len(str(address).encode("utf-8")) + 2 > _MAX_PATH:
        raise AddressError("Adresse trop longue.")
    return address


def parse_mailbox_list(value: str) -> tuple[Mailbox, ...]:
    """RFC 5322 §3.4 ``mailbox-list`` (the From: field) of an unfolded value."""
    scanner = _Scanner(_bounded(value), utf8=True)
    mailboxes = [scanner.mailbox()]
    while scanner.peek() == ",":
        scanner.pos += 1
        mailboxes.append(scanner.mailbox())
    if not scanner.at_end():
        raise AddressError("Liste d'adresses mal formée.")
    return tuple(mailboxes)


def parse_mailbox(value: str) -> Mailbox:
    """RFC 5322 §3.4 ``mailbox`` (the Sender: field) of an unfolded value."""
    scanner = _Scanner(_bounded(value), utf8=True)
    mailbox = scanner.mailbox()
    if not scanner.at_end():
        raise AddressError("Une seule adresse est attendue.")
    return mailbox


def format_mailbox(display_name: str, address: Address) -> str:
    """``"Name" <addr>`` with the name quoted as RFC 5322 requires (no line breaks)."""
    kept = "".join(c if " " <= c <= "~" or _visible(c) else " " for c in display_name)
    name = " ".join(kept.split())
    if not name:
        return f"<{address}>"
    if all(word and all(c in _ATEXT or _visible(c) for c in word) for word in name.split(" ")):
        return f"{name} <{address}>"
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}" <{address}>'


def _bounded(value: str) -> str:
    if len(value) > MAX_VALUE:
        raise AddressError("Champ d'adresses trop long.")
    return value


def _visible(c: str) -> bool:
    """A non-ASCII character allowed by RFC 6532 that shows as itself."""
    return not c.isascii() and unicodedata.category(c)[0] not in "CZ"


def _quote_local(local: str) -> str:
    atoms = local.split(".")
    if all(atom and all(c in _ATEXT or _visible(c) for c in atom) for atom in atoms):
        return local
    return '"' + local.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Scanner:
    """A cursor over one string; each method consumes one production or raises."""

    def __init__(self, text: str, *, utf8: bool) -> None:
        self.text = text
        self.pos = 0
        self.utf8 = utf8

    # -- primitives --------------------------------------------------------------------
    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise AddressError(f"« {char} » attendu.")
        self.pos += 1

    def _extended(self, c: str) -> bool:
        return self.utf8 and _visible(c)

    def _run(self, allowed: frozenset[str]) -> str:
        start = self.pos
        text = self.text
        while self.pos < len(text) and (
            text[self.pos] in allowed or self._extended(text[self.pos])
        ):
            self.pos += 1
        return text[start : self.pos]

    # -- RFC 5321 ------------------------------------------------------------------------
    def smtp_local_part(self) -> str:
        if self.peek() == '"':
            local = self._quoted(smtp=True)
        else:
            local = self._dot_text()
        if not local:
            raise AddressError("Partie locale vide.")
        return local

    def smtp_domain(self) -> str:
        if self.peek() == "[":
            return self._address_literal()
        labels = [self._label()]
        while self.peek() == ".":
            self.pos += 1
            labels.append(self._label())
        return ".".join(labels)

    def _label(self) -> str:
        start = self.pos
        text = self.text
        while self.pos < len(text) and (
            text[self.pos] in _LETDIG or text[self.pos] == "-" or self._extended(text[self.pos])
        ):
            self.pos += 1
        label = text[start : self.pos]
        if not label or label[0] == "-" or label[-1] == "-":
            raise AddressError("Nom de domaine mal formé.")
        if len(label.encode("utf-8")) > _MAX_LABEL:
            raise AddressError("Élément de domaine trop long.")
        if not label.isascii() and not (
            unicodedata.is_normalized("NFC", label)
            and all(c.isalnum() or c == "-" for c in label if not c.isascii())
        ):
            raise AddressError("Nom de domaine international mal formé.")
        return label

    def _address_literal(self) -> str:
        end = self.text.find("]", self.pos)
        if end < 0:
            raise AddressError("« ] » attendu.")
        inner = self.text[self.pos + 1 : end]
        try:
            if inner[:5].lower() == "ipv6:":
                ipaddress.IPv6Address(inner[5:])
            else:
                ipaddress.IPv4Address(inner)
        except ValueError as exc:
            raise AddressError("Adresse IP littérale mal formée.") from exc
        self.pos = end + 1
        return f"[{inner}]"

    def _dot_text(self) -> str:
        atoms = [self._run(_ATEXT)]
        while self.peek() == ".":
            self.pos += 1
            atoms.append(self._run(_ATEXT))
        if not all(atoms):
            raise AddressError("Point mal placé dans l'adresse.")
        return ".".join(atoms)

    def _quoted(self, *, smtp: bool) -> str:
        """A quoted string (the DQUOTEs included); returns its semantic content.

        RFC 5321 qtextSMTP is 32-126 but ``"`` and ``\\``; RFC 5322 adds folding
        white space (tabs too) and excludes nothing else printable.
        """
        self.expect('"')
        out: list[str] = []
        text = self.text
        while True:
            if self.pos >= len(text):
                raise AddressError("Guillemet fermant manquant.")
            c = text[self.pos]
            self.pos += 1
            if c == '"':
                return "".join(out)
            if c == "\\":
                if self.pos >= len(text):
                    raise AddressError("Échappement incomplet.")
                nxt = text[self.pos]
                self.pos += 1
                if not (" " <= nxt <= "~" or (not smtp and (nxt == "\t" or self._extended(nxt)))):
                    raise AddressError("Échappement interdit.")
                out.append(nxt)
            elif " " <= c <= "~" or (not smtp and c == "\t") or self._extended(c):
                out.append(c)
            else:
                raise AddressError("Caractère interdit entre guillemets.")

    # -- RFC 5322 ------------------------------------------------------------------------
    def cfws(self, depth: int = 0) -> None:
        """Skips folding white space and (nested) comments."""
        text = self.text
        while self.pos < len(text):
            c = text[self.pos]
            if c in _WSP:
                self.pos += 1
            elif c == "(":
                self._comment(depth + 1)
            else:
                return

    def _comment(self, depth: int) -> None:
        if depth > _MAX_NESTING:
            raise AddressError("Commentaires trop imbriqués.")
        self.pos += 1  # "("
        text = self.text
        while self.pos < len(text):
            c = text[self.pos]
            if c == ")":
                self.pos += 1
                return
            if c == "(":
                self._comment(depth + 1)
                continue
            if c == "\\":
                if self.pos + 1 >= len(text):
                    break
                nxt = text[self.pos + 1]
                if not (" " <= nxt <= "~" or nxt == "\t" or self._extended(nxt)):
                    raise AddressError("Échappement interdit.")
                self.pos += 2
                continue
            if not (" " <= c <= "~" or c == "\t" or self._extended(c)):
                raise AddressError("Caractère interdit dans un commentaire.")
            self.pos += 1
        raise AddressError("Parenthèse fermante manquante.")

    def mailbox(self) -> Mailbox:
        """``name-addr / addr-spec``: the bare addr-spec is tried first, then a phrase."""
        start = self.pos
        try:
            address = self.addr_spec()
        except AddressError:
            address = None
        if address is not None and self.peek() in ("", ","):
            return Mailbox(address)
        self.pos = start
        self.cfws()
        name = self._phrase() if self.peek() != "<" else None
        self.expect("<")
        address = self.addr_spec()
        self.expect(">")
        self.cfws()
        return Mailbox(address, name)

    def addr_spec(self) -> Address:
        """``local-part "@" domain``, each with optional CFWS around (no obs- forms)."""
        self.cfws()
        local = self._quoted(smtp=False) if self.peek() == '"' else self._dot_text()
        if not local:
            raise AddressError("Partie locale vide.")
        self.cfws()
        self.expect("@")
        self.cfws()
        if self.peek() == "[":
            domain = self._domain_literal()
        else:
            domain = self._dot_text()
        self.cfws()
        return Address(local, domain)

    def _domain_literal(self) -> str:
        self.pos += 1  # "["
        out: list[str] = []
        text = self.text
        while self.pos < len(text):
            c = text[self.pos]
            self.pos += 1
            if c == "]":
                return "[" + "".join(out).strip(" \t") + "]"
            if ("!" <= c <= "Z") or ("^" <= c <= "~") or c in _WSP or self._extended(c):
                out.append(c)
            else:
                raise AddressError("Caractère interdit dans un domaine littéral.")
        raise AddressError("« ] » attendu.")

    def _phrase(self) -> str:
        """``1*word`` or ``obs-phrase`` (dots after the first word); returns it for display."""
        words: list[str] = []
        while True:
            self.cfws()
            c = self.peek()
            if c == '"':
                words.append(self._quoted(smtp=False))
            elif c == "." and words:
                self.pos += 1
                words.append(".")
            elif c in _ATEXT or (c and self._extended(c)):
                words.append(self._run(_ATEXT))
            else:
                break
        if not words:
            raise AddressError("Nom ou adresse attendu.")
        return " ".join(words)
