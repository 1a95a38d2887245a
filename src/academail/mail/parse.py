"""Parse a raw message once, at delivery: ENVELOPE, BODYSTRUCTURE with byte offsets,
and the fields that list views, SORT, threading and SEARCH need.

Why: IMAP FETCH/SORT/SEARCH, POP3 and the webmail must never re-parse a message
(issue 4). Everything they need is computed here from the raw bytes and stored as
JSON beside the message; ``BODY[1.2]``, ``BODY[1.2.MIME]``, ``BODY[HEADER]``… are
then served by slicing the blob at the offsets recorded here (:func:`section_span`).

Standards: RFC 5322 (header fields, addresses, groups, obsolete routes), RFC 2045 and
RFC 2046 (Content-Type defaults, multipart boundaries, ``multipart/digest``),
RFC 2047 (encoded words), RFC 2231 (parameter continuations and charsets, returned
merged as RFC 9051 §7.5.2 asks), RFC 2183 (Content-Disposition), RFC 9051 §7.5.2
(ENVELOPE, BODYSTRUCTURE with extension data) and §6.4.5 (section numbers).

How: one scanner over the raw bytes finds every header, body and boundary, so the
structure and the offsets can never disagree. The stdlib ``email`` parser gives no
offsets, and a second parser could see another tree in a broken message; so field
syntax is parsed here too, and the stdlib serves only where it is a plain decoder:
``email.utils.parsedate_to_datetime`` for Date, ``binascii`` for base64 and
quoted-printable, the codec registry for charsets. Line ends may be CRLF or bare LF
(a lone CR is not a line end); offsets index the stored bytes as they are.

Result (all JSON-able; strings never hold NUL or lone surrogates, which PostgreSQL
refuses; 8-bit header bytes are read as UTF-8, else as Windows-1252):

- ``envelope``: keys :data:`ENVELOPE_FIELDS` in RFC 9051 order. Strings are the raw
  unfolded header values (encoded words untouched, as IMAP sends them) or ``None``
  for NIL; address lists are ``None`` or lists of ``[name, adl, mailbox, host]``
  with RFC 9051 group markers (``host`` None); a missing mailbox or host is ``""``.
  ``sender`` and ``reply_to`` default to ``from`` (RFC 9051 §7.5.2).
- ``body_structure``: a node per entity. Every node has ``section`` (``""`` for a
  multipart message root), ``type``, ``subtype`` (lowercase), ``params``
  (``[[name, value], …]``, names lowercase), ``disposition`` (``None`` or
  ``[type, params]``), ``language`` (``None`` or a list), ``location`` and the offsets
  ``header_start``, ``body_start``, ``end`` (header = ``raw[header_start:body_start]``,
  blank line included; body = ``raw[body_start:end]``). Multipart nodes add ``parts``;
  other nodes add ``id``, ``description``, ``encoding`` (lowercase, default ``7bit``),
  ``size`` (encoded octets), ``lines`` (text and message parts, else ``None``) and
  ``md5``; ``message/rfc822`` and ``message/global`` add ``envelope`` and ``body``
  (the encapsulated message's root node).

Security posture: the input is untrusted bytes from the network, before any filter
has run. Parsing is pure (no I/O) and linear in the message size: no pattern here
can backtrack over more than a line or token. Nesting (:data:`MAX_DEPTH`), parts
(:data:`MAX_PARTS`) and addresses per field are bounded so that a small hostile
message cannot produce a huge structure; parts beyond the bounds are reported as
``application/octet-stream`` and stay fetchable. Only text parts are ever decoded,
and at most :data:`MAX_TEXT` characters of them. Addresses are parsed here for
display, sorting and ENVELOPE only: no security decision may rest on them (the
caution CVE-2023-27043 imposes on ``email.utils.parseaddr``/``getaddresses``, which
this module does not use); the submission sender check parses strictly elsewhere.
Display strings lose control characters (terminal and log injection).
"""

from __future__ import annotations

import binascii
import codecs
import dataclasses
import datetime as dt
import email.utils
import functools
import html
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from academail.core.errors import InvalidInput
from academail.mail.model import ParsedMessage

__all__ = [
    "ENVELOPE_FIELDS",
    "MAX_DEPTH",
    "MAX_PARTS",
    "MAX_TEXT",
    "parse_message",
    "section_span",
    "with_fields_prepended",
]

ENVELOPE_FIELDS = (
    "date",
    "subject",
    "from",
    "sender",
    "reply_to",
    "to",
    "cc",
    "bcc",
    "in_reply_to",
    "message_id",
)
MAX_DEPTH = 50  # nested multiparts and encapsulated messages
MAX_PARTS = 1000  # body parts in one message
MAX_TEXT = 1 << 20  # characters of decoded text kept for the full-text index
_MAX_FIELD = 1 << 16  # characters kept in a decoded sort/display field
_MAX_ADDRESSES = 1000  # entries kept in one address list
_TEXT_WINDOW = 4  # encoded bytes read per character of remaining text budget
_MAX_BOUNDARY = 200  # RFC 2046 §5.1.1 allows 70; longer ones are refused, not compiled
_MAX_LABEL = 64  # characters of a charset label worth looking up

Node = dict[str, Any]
_Address = list[str | None]

_WANTED = frozenset(
    (
        "date subject from sender reply-to to cc bcc in-reply-to message-id references "
        "content-type content-transfer-encoding content-id content-description "
        "content-disposition content-language content-location content-md5"
    ).split()
)
_HEADER_BLOCK = re.compile(rb"(?:(?:[\x21-\x39\x3b-\x7e]+[ \t]*:|[ \t])[^\n]*+(?:\n|\Z))*+")
_FIELD = re.compile(r"^([\x21-\x39\x3b-\x7e]+)[ \t]*:([^\n]*+(?:\n[ \t][^\n]*+)*+)", re.M)
_LINE_BREAKS = re.compile(r"[\r\n]")
_MIME_ATOM = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_MEDIA = re.compile(rf"\s*({_MIME_ATOM})\s*/\s*({_MIME_ATOM})\s*")
_WORD = re.compile(rf"\s*({_MIME_ATOM})\s*")
_PARAM_PIECE = re.compile(r'"(?:[^"\\]|\\.)*+"?|\((?:[^()\\]|\\.)*+\)?|;|[^";(]++', re.S)
_PARAM = re.compile(r"\s*+([^\s=]++)\s*+=(.*)", re.S)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*+)"?', re.S)
_ESCAPE = re.compile(r"\\(.)", re.S)
_SECTION_NAME = re.compile(r"([^*]+)\*(?:([0-9]{1,3})(\*)?)?")
_ATTRIBUTE_SAFE = "!#$&+-.^_`|~"
_ADDRESS_LEXEME = re.compile(
    r'"(?:[^"\\]|\\.)*+"?|\((?:[^()\\]|\\.)*+\)?|\[(?:[^\[\]\\]|\\.)*+\]?'
    r"|[,:;<>@]|[^\s\"(),:;<>@\[\]]++",
    re.S,
)
_ADDRESS_SPECIALS = frozenset(",:;<")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,75})\?([bBqQ])\?([^?\s]*+)\?=")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")
_MSG_ID = re.compile(r"<[^<>]*>")
_CONTROLS = re.compile(r"[\x00-\x20\x7f-\x9f]+")
_PART_NUMBER = re.compile(r"[1-9][0-9]{0,8}")
_SPECIFIERS = frozenset(("", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME"))
_HIDDEN = re.compile(r"<!--|<(script|style|head)\b", re.I)
_HIDDEN_END = {
    None: re.compile(r"-->"),
    "script": re.compile(r"</script\s*>", re.I),
    "style": re.compile(r"</style\s*>", re.I),
    "head": re.compile(r"</head\s*>", re.I),
}
_BREAK_TAG = re.compile(r"</?(?:br|p|div|tr|li|h[1-6]|td|th|table|ul|ol|blockquote)\b[^<>]*>", re.I)
_TAG = re.compile(r"</?[a-zA-Z!?][^<>]*>")
# Labels that name no charset a sender could mean, or codecs that interpret
# backslashes or hosts rather than decode text.
_NOT_CHARSETS = frozenset(("", "ascii", "unicode-escape", "raw-unicode-escape", "idna", "punycode"))
_SIGNATURES = frozenset(("pgp-signature", "pkcs7-signature", "x-pkcs7-signature"))
_TEXT_PLAIN = ("text", "plain")
_RFC822 = ("message", "rfc822")


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse ``raw`` once; best effort for any bytes but the empty message.

    Raises InvalidInput only for an empty message (nothing to store, as Dovecot
    refuses a zero-byte APPEND). CPU-bound: callers run it through ``off_loop``.
    """
    if not raw:
        raise InvalidInput("Le message est vide.")
    scan = _Scan(bytes(raw))
    root, fields = scan.entity(0, len(raw), "", root=True, digest=False, depth=0)
    envelope = _envelope(fields)
    ids = _ids(fields.get("references"))
    return ParsedMessage(
        size=len(raw),
        envelope=envelope,
        body_structure=root,
        subject=_display(_clean(fields.get("subject", ""))),
        from_address=_addresses_display(envelope["from"]),
        to_addresses=_addresses_display(envelope["to"]),
        cc_addresses=_addresses_display(envelope["cc"]),
        message_id=next(iter(_ids(fields.get("message-id"))), "")[:_MAX_FIELD],
        in_reply_to=" ".join(_ids(fields.get("in-reply-to")))[:_MAX_FIELD],
        references=_bounded_references(ids),
        sent_at=_date(fields.get("date")),
        text=_text(scan.raw, root),
        has_attachments=_has_attachments(root, ""),
        received_count=_received_count(scan.raw[: root["body_start"]]),
    )


def _received_count(header: bytes) -> int:
    return sum(1 for line in header.split(b"\n") if line[:9].lower() == b"received:")


def with_fields_prepended(parsed: ParsedMessage, fields: bytes) -> ParsedMessage:
    """The parse of ``fields + raw`` without parsing again.

    Delivery stages add trace and verdict fields (``Return-Path``, ``X-Spam-*``) at
    the top of the header, where they belong (RFC 5321 §4.4); they change no
    structure, only every offset after the root's header start. ``fields`` must be
    complete CRLF-terminated header lines.
    """
    shift = len(fields)
    return dataclasses.replace(
        parsed,
        size=parsed.size + shift,
        received_count=parsed.received_count + _received_count(fields),
        body_structure=_shifted(parsed.body_structure, shift, root=True),
    )


def _shifted(node: Mapping[str, Any], shift: int, *, root: bool = False) -> dict[str, Any]:
    moved = dict(node)
    for key in ("header_start", "body_start", "end"):
        if not (root and key == "header_start"):
            moved[key] = node[key] + shift
    if "parts" in node:
        moved["parts"] = [_shifted(part, shift) for part in node["parts"]]
    if "body" in node:
        moved["body"] = _shifted(node["body"], shift)
    return moved


def section_span(structure: Mapping[str, Any], section: str) -> tuple[int, int] | None:
    """Byte range of an IMAP body section (RFC 9051 §6.4.5) in the raw message.

    ``section`` is the section text without field lists: ``""``, ``"HEADER"``,
    ``"TEXT"``, ``"1.2"``, ``"1.2.MIME"``, ``"2.HEADER.FIELDS"``… ``None`` when the
    message has no such part, or when HEADER/TEXT follow a part that is not a message.
    """
    names = section.split(".") if section else []
    count = next(
        (i for i, name in enumerate(names) if not _PART_NUMBER.fullmatch(name)), len(names)
    )
    numbers = [int(name) for name in names[:count]]
    specifier = ".".join(names[count:]).upper()
    node = _locate(structure, numbers)
    if specifier not in _SPECIFIERS or node is None:
        return None
    if specifier == "MIME":
        return (node["header_start"], node["body_start"]) if numbers else None
    if specifier == "":
        return (node["body_start"] if numbers else 0, node["end"])
    if numbers:
        if "body" not in node:
            return None
        node = node["body"]
    if specifier == "TEXT":
        return node["body_start"], node["end"]
    return node["header_start"], node["body_start"]


def _locate(root: Mapping[str, Any], numbers: list[int]) -> Mapping[str, Any] | None:
    node = root
    kids = _numbered(root)
    for number in numbers:
        if number > len(kids):
            return None
        node = kids[number - 1]
        kids = _children(node)
    return node


def _numbered(entity: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The numbered parts of a message whose root entity is ``entity``."""
    return list(entity["parts"]) if entity["type"] == "multipart" else [entity]


def _children(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if node["type"] == "multipart":
        return list(node["parts"])
    return _numbered(node["body"]) if "body" in node else []


# --- structure ---------------------------------------------------------------------


@dataclass
class _Scan:
    """One pass over the raw bytes; ``parts_left`` bounds the whole tree."""

    raw: bytes
    parts_left: int = MAX_PARTS

    def entity(
        self, start: int, end: int, section: str, *, root: bool, digest: bool, depth: int
    ) -> tuple[Node, dict[str, str]]:
        """Header and body of ``raw[start:end]``; ``root`` if it is a message's root."""
        body_start = _header_end(self.raw, start, end)
        fields = _fields(self.raw, start, body_start)
        self.parts_left -= 1
        kind, subtype, params = _content_type(fields.get("content-type"), digest)
        span = (start, body_start, end)
        leaf_section = _join(section, "1") if root else section
        exhausted = depth >= MAX_DEPTH or self.parts_left <= 0
        if kind == "multipart":
            boundary = _param(params, "boundary")
            if not 0 < len(boundary) <= _MAX_BOUNDARY:  # RFC 2045 §5.2: unusable → text/plain
                kind, subtype, params = "text", "plain", [("charset", "us-ascii")]
            elif not exhausted:
                node = self.multipart(span, fields, subtype, params, section, depth)
                return node, fields
        message = kind == "message" and subtype in ("rfc822", "global")
        if exhausted and (kind == "multipart" or message):
            kind, subtype, message = "application", "octet-stream", False
        node = self.leaf(span, fields, (kind, subtype, params), leaf_section)
        if message:
            inner, inner_fields = self.entity(
                body_start, end, leaf_section, root=True, digest=False, depth=depth + 1
            )
            node["envelope"] = _envelope(inner_fields)
            node["body"] = inner
        return node, fields

    def multipart(
        self,
        span: tuple[int, int, int],
        fields: dict[str, str],
        subtype: str,
        params: list[tuple[str, str]],
        section: str,
        depth: int,
    ) -> Node:
        start, body_start, end = span
        boundary = _param(params, "boundary").encode("utf-8", "surrogateescape")
        ranges = _split(self.raw, body_start, end, boundary, self.parts_left)
        parts = [
            self.entity(
                s,
                e,
                _join(section, str(i)),
                root=False,
                digest=subtype == "digest",
                depth=depth + 1,
            )[0]
            for i, (s, e) in enumerate(ranges, 1)
        ]
        if not parts:  # RFC 9051 needs one part at least, as Dovecot writes it
            parts = [_empty_part(_join(section, "1"), end)]
        return {
            "section": section,
            "type": "multipart",
            "subtype": subtype,
            "params": _clean_params(params),
            "parts": parts,
            **_extension(fields),
            "header_start": start,
            "body_start": body_start,
            "end": end,
        }

    def leaf(
        self,
        span: tuple[int, int, int],
        fields: dict[str, str],
        media: tuple[str, str, list[tuple[str, str]]],
        section: str,
    ) -> Node:
        start, body_start, end = span
        kind, subtype, params = media
        counted = kind == "text" or (kind == "message" and subtype in ("rfc822", "global"))
        return {
            "section": section,
            "type": kind,
            "subtype": subtype,
            "params": _clean_params(params),
            "id": _optional(fields, "content-id"),
            "description": _optional(fields, "content-description"),
            "encoding": _encoding(fields.get("content-transfer-encoding")),
            "size": end - body_start,
            "lines": _lines(self.raw, body_start, end) if counted else None,
            "md5": _optional(fields, "content-md5"),
            **_extension(fields),
            "header_start": start,
            "body_start": body_start,
            "end": end,
        }


def _empty_part(section: str, at: int) -> Node:
    return {
        "section": section,
        "type": "text",
        "subtype": "plain",
        "params": [["charset", "us-ascii"]],
        "id": None,
        "description": None,
        "encoding": "7bit",
        "size": 0,
        "lines": 0,
        "md5": None,
        "disposition": None,
        "language": None,
        "location": None,
        "header_start": at,
        "body_start": at,
        "end": at,
    }


def _join(section: str, number: str) -> str:
    return f"{section}.{number}" if section else number


def _header_end(raw: bytes, start: int, end: int) -> int:
    """Where the body begins: after the blank line, or at the first non-header line."""
    match = _HEADER_BLOCK.match(raw, start, end)
    stop = match.end() if match else start
    if raw.startswith(b"\r\n", stop, end):
        return stop + 2
    if raw.startswith(b"\n", stop, end):
        return stop + 1
    return stop


def _fields(raw: bytes, start: int, stop: int) -> dict[str, str]:
    """First occurrence of each wanted field, unfolded; 8-bit bytes surrogate-escaped."""
    fields: dict[str, str] = {}
    for match in _FIELD.finditer(raw[start:stop].decode("utf-8", "surrogateescape")):
        name = match[1].lower()
        if name in _WANTED and name not in fields:
            fields[name] = _LINE_BREAKS.sub("", match[2]).strip(" \t")
    return fields


def _split(raw: bytes, start: int, end: int, boundary: bytes, limit: int) -> list[tuple[int, int]]:
    """Ranges of the body parts between delimiter lines (RFC 2046 §5.1.1).

    The line end before a delimiter belongs to the delimiter; a missing close
    delimiter ends the last part at ``end``; past ``limit`` parts, the last part
    takes the rest of the body. The pattern starts with a literal so that the regex
    engine searches for it quickly; a multipart body always starts after a line feed
    (its header has one line at least), which the search starts on.
    """
    delimiter = re.compile(rb"\n--" + re.escape(boundary) + rb"(--)?[ \t]*+\r?$", re.M)
    ranges: list[tuple[int, int]] = []
    part_start: int | None = None
    for match in delimiter.finditer(raw, max(start - 1, 0), end):
        if part_start is not None:
            if len(ranges) + 1 >= limit:
                break
            ranges.append((part_start, _before_line_end(raw, part_start, match.start() + 1)))
        if match[1]:
            return ranges
        part_start = min(match.end() + 1, end)
    if part_start is not None:
        ranges.append((part_start, end))
    return ranges


def _before_line_end(raw: bytes, start: int, stop: int) -> int:
    if stop > start and raw[stop - 1] == 0x0A:
        stop -= 1
        if stop > start and raw[stop - 1] == 0x0D:
            stop -= 1
    return stop


def _lines(raw: bytes, start: int, end: int) -> int:
    count = raw.count(b"\n", start, end)
    return count + 1 if end > start and raw[end - 1] != 0x0A else count


# --- MIME fields -------------------------------------------------------------------


def _content_type(value: str | None, digest: bool) -> tuple[str, str, list[tuple[str, str]]]:
    """Type, subtype and parameters; RFC 2045 §5.2 and RFC 2046 §5.1.5 defaults."""
    if value is None:
        kind, subtype = _RFC822 if digest else _TEXT_PLAIN
        return kind, subtype, [("charset", "us-ascii")] if kind == "text" else []
    head, params = _parameters(value)
    media = _MEDIA.fullmatch(head)
    if media is None:
        return "text", "plain", [("charset", "us-ascii")]
    return media[1].lower(), media[2].lower(), params


def _parameters(value: str) -> tuple[str, list[tuple[str, str]]]:
    """Split ``head; a=b; c="d"`` (comments dropped, RFC 2231 merged)."""
    segments: list[list[str]] = [[]]
    for piece in _PARAM_PIECE.findall(value):
        if piece == ";":
            segments.append([])
        elif not piece.startswith("("):
            segments[-1].append(piece)
    params: list[tuple[str, str]] = []
    for segment in segments[1:]:
        match = _PARAM.match("".join(segment))
        if match is not None:
            params.append((match[1].lower(), _unquote(match[2].strip())))
    return "".join(segments[0]), _rfc2231(params)


def _unquote(value: str) -> str:
    if not value.startswith('"'):
        return value
    match = _QUOTED.match(value)
    inner = match[1] if match else value[1:]
    return _ESCAPE.sub(r"\1", inner) if "\\" in inner else inner


def _rfc2231(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Merge ``name*0``, ``name*1*``…; extended values become ``name*`` in UTF-8."""
    if not any("*" in name for name, _ in params):
        return _first_of_each(params)
    order: list[tuple[str, str | None]] = []  # (name, value) or (base, None) for a group
    groups: dict[str, dict[int, tuple[str, bool]]] = {}
    for name, value in params:
        match = _SECTION_NAME.fullmatch(name)
        if match is None:
            order.append((name, value))
            continue
        index = 0 if match[2] is None else int(match[2])
        extended = match[2] is None or match[3] is not None
        if match[1] not in groups:
            groups[match[1]] = {}
            order.append((match[1], None))
        groups[match[1]].setdefault(index, (value, extended))
    return _first_of_each(
        [
            (name, value) if value is not None else _merge(name, groups[name])
            for name, value in order
        ]
    )


def _merge(name: str, sections: dict[int, tuple[str, bool]]) -> tuple[str, str]:
    pieces: list[tuple[str, bool]] = []
    while len(pieces) in sections:  # RFC 2231 §3: stop at the first gap
        pieces.append(sections[len(pieces)])
    if not pieces:
        pieces = [sections[min(sections)]]
    if not any(extended for _, extended in pieces):
        return name, "".join(value for value, _ in pieces)
    first, first_extended = pieces[0]
    charset, language = "", ""
    if first_extended and first.count("'") >= 2:
        charset, language, first = first.split("'", 2)
    data = b"".join(
        urllib.parse.unquote_to_bytes(value.encode("utf-8", "surrogateescape"))
        if extended
        else value.encode("utf-8", "surrogateescape")
        for value, extended in [(first, first_extended), *pieces[1:]]
    )
    text = _decode_bytes(data, charset)
    quoted = urllib.parse.quote(text.encode("utf-8"), safe=_ATTRIBUTE_SAFE)
    return f"{name}*", f"utf-8'{_clean(language)}'{quoted}"


def _first_of_each(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for name, value in params:
        seen.setdefault(name, value)
    return list(seen.items())


def _param(params: list[tuple[str, str]], name: str) -> str:
    return next((value for key, value in params if key == name), "")


def _clean_params(params: list[tuple[str, str]]) -> list[list[str]]:
    return [[_clean(name), _clean(value)] for name, value in params]


def _encoding(value: str | None) -> str:
    match = _WORD.match(value or "")
    return match[1].lower() if match else "7bit"


def _extension(fields: dict[str, str]) -> dict[str, Any]:
    """RFC 9051 body extension data: disposition, language, location."""
    disposition = None
    if "content-disposition" in fields:
        head, params = _parameters(fields["content-disposition"])
        word = _WORD.fullmatch(head)
        if word is not None:
            disposition = [word[1].lower(), _clean_params(params)]
    languages = _clean(fields.get("content-language", "")).replace(",", " ").split()
    location = _optional(fields, "content-location")
    return {
        "disposition": disposition,
        "language": languages or None,
        "location": "".join(location.split()) if location is not None else None,
    }


def _optional(fields: dict[str, str], name: str) -> str | None:
    value = fields.get(name)
    return None if value is None else _clean(value)


# --- text cleaning and decoding ----------------------------------------------------


def _clean(value: str) -> str:
    """Storable text: 8-bit bytes that are not UTF-8 read as Windows-1252, NUL dropped."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "surrogateescape").decode("cp1252", "replace")
    return value.replace("\x00", "") if "\x00" in value else value


def _scrub(value: str) -> str:
    """Decoded text without lone surrogates (some codecs produce them) or NUL."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return value.replace("\x00", "") if "\x00" in value else value


def _decode_bytes(data: bytes, charset: str) -> str:
    """Decode with the declared charset; UTF-8, else Windows-1252, when it is unusable."""
    codec = _codec(charset)
    if codec is not None:
        try:
            return _scrub(data.decode(codec, "replace"))
        except (LookupError, ValueError):  # the codec refuses the data or the errors mode
            pass
    try:
        return _scrub(data.decode("utf-8"))
    except UnicodeDecodeError:
        return _scrub(data.decode("cp1252", "replace"))


def _codec(charset: str) -> str | None:
    label = charset.strip().strip('"').lower()
    return _lookup(label) if len(label) <= _MAX_LABEL else None


@functools.lru_cache(maxsize=256)
def _lookup(label: str) -> str | None:
    if label in ("iso-8859-1", "latin1", "latin-1", "iso8859-1", "us-ascii"):
        return None if label == "us-ascii" else "cp1252"  # WHATWG: latin-1 means cp1252
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):
        return None
    return None if name in _NOT_CHARSETS else name


def _decode_words(value: str) -> str:
    """RFC 2047 encoded words; adjacent words of one charset are decoded together."""
    if "=?" not in value:
        return value
    out: list[str] = []
    pending = bytearray()
    charset = ""
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        data = _word_bytes(match[2], match[3])
        if data is None:
            continue
        gap = value[position : match.start()]
        word_charset = match[1].split("*", 1)[0].lower()
        if (gap and (position == 0 or gap.strip(" \t"))) or word_charset != charset:
            out.append(_decode_bytes(bytes(pending), charset))
            pending.clear()
            if gap.strip(" \t") or position == 0:
                out.append(gap)
        pending += data
        charset = word_charset
        position = match.end()
    out.append(_decode_bytes(bytes(pending), charset))
    out.append(value[position:])
    return "".join(out)


def _word_bytes(kind: str, text: str) -> bytes | None:
    data = text.encode("utf-8")
    if kind in "qQ":
        return binascii.a2b_qp(data, header=True)
    return _base64(data) or None


def _base64(data: bytes) -> bytes:
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        core = _NOT_BASE64.sub(b"", data)
        core = core[: len(core) - 1] if len(core) % 4 == 1 else core
        try:
            return binascii.a2b_base64(core + b"=" * (-len(core) % 4))
        except binascii.Error:
            return b""


def _display(value: str) -> str:
    """Decoded, one line, control characters removed, bounded."""
    return _CONTROLS.sub(" ", _decode_words(value)).strip()[:_MAX_FIELD]


# --- envelope and addresses --------------------------------------------------------


def _envelope(fields: dict[str, str]) -> dict[str, Any]:
    """RFC 9051 §7.5.2 ENVELOPE, raw values; Sender and Reply-To default to From."""
    sender = _address_list(fields.get("from"))
    return {
        "date": _optional(fields, "date"),
        "subject": _optional(fields, "subject"),
        "from": sender,
        "sender": _address_list(fields.get("sender")) or sender,
        "reply_to": _address_list(fields.get("reply-to")) or sender,
        "to": _address_list(fields.get("to")),
        "cc": _address_list(fields.get("cc")),
        "bcc": _address_list(fields.get("bcc")),
        "in_reply_to": _optional(fields, "in-reply-to"),
        "message_id": _optional(fields, "message-id"),
    }


def _address_list(value: str | None) -> list[_Address] | None:
    """RFC 5322 address list, leniently: groups, routes, comments as names."""
    if value is None:
        return None
    out: list[_Address] = []
    item: list[str] = []
    in_angle = in_group = False
    for lexeme in _ADDRESS_LEXEME.findall(_clean(value)):
        if in_angle or lexeme not in _ADDRESS_SPECIALS:
            item.append(lexeme)
            in_angle = in_angle and lexeme != ">"
        elif lexeme == "<":
            item.append(lexeme)
            in_angle = True
        elif lexeme == ":" and not in_group:
            out.append([None, None, _phrase(item) or "", None])
            item, in_group = [], True
        elif lexeme != ":":
            _add_mailbox(out, item)
            item = []
            if lexeme == ";" and in_group:
                out.append([None, None, None, None])
                in_group = False
        if len(out) >= _MAX_ADDRESSES:
            break
    _add_mailbox(out, item)
    if in_group:
        out.append([None, None, None, None])
    return out or None


def _add_mailbox(out: list[_Address], lexemes: list[str]) -> None:
    words = [lexeme for lexeme in lexemes if not lexeme.startswith("(")]
    comments = [lexeme[1:].removesuffix(")") for lexeme in lexemes if lexeme.startswith("(")]
    phrase: list[str] = []
    spec = words
    if "<" in words:
        phrase, spec = words[: words.index("<")], words[words.index("<") + 1 :]
        spec = spec[: spec.index(">")] if ">" in spec else spec
    adl = None
    if spec[:1] == ["@"] and ":" in spec:
        adl, spec = "".join(spec[: spec.index(":")]), spec[spec.index(":") + 1 :]
    if "@" in spec:
        at = len(spec) - 1 - spec[::-1].index("@")
        mailbox, host = "".join(spec[:at]), "".join(spec[at + 1 :])
    else:
        mailbox, host = " ".join(spec), ""
    name = _phrase(phrase) or (_ESCAPE.sub(r"\1", comments[-1]).strip() if comments else "")
    if mailbox or host or name:
        out.append([name or None, adl, mailbox, host])


def _phrase(words: list[str]) -> str:
    return " ".join(_unquote(word) for word in words if not word.startswith("("))


def _addresses_display(addresses: list[_Address] | None) -> str:
    """``Name <mailbox@host>, …`` decoded; a group as ``name: members;``."""
    shown: list[str] = []
    group: list[str] | None = None
    label = ""
    for name, _adl, mailbox, host in addresses or ():
        if host is None and mailbox is not None:
            group, label = [], _display(mailbox)
        elif host is None:
            members = ", ".join(group or ())
            shown.append(f"{label}: {members};" if members else f"{label}:;")
            group = None
        else:
            address = f"{mailbox}@{host}" if host else mailbox or ""
            decoded = _display(name) if name else ""
            one = f"{decoded} <{address}>" if decoded and address else decoded or address
            (shown if group is None else group).append(one)
    return _CONTROLS.sub(" ", ", ".join(shown)).strip()[:_MAX_FIELD]


def _ids(value: str | None) -> list[str]:
    """Message identifiers ``<…>`` in order, folding whitespace removed."""
    if not value:
        return []
    text = _clean(value)
    found = ["".join(ident.split()) for ident in _MSG_ID.findall(text)]
    return found or text.split()


def _bounded_references(ids: list[str]) -> str:
    """Keep the thread root and the nearest ancestors (RFC 5322 §3.6.4) within bounds."""
    kept: list[str] = []
    size = len(ids[0]) if ids else 0
    for ident in reversed(ids[1:]):
        size += len(ident) + 1
        if size > _MAX_FIELD:
            break
        kept.append(ident)
    return " ".join(ids[:1] + kept[::-1])[:_MAX_FIELD]


def _date(value: str | None) -> dt.datetime | None:
    """The Date field as aware UTC, or None when it cannot be read."""
    if not value or len(value) > 256:
        return None
    try:
        when = email.utils.parsedate_to_datetime(_clean(value))
        if when.tzinfo is None:  # "-0000": no information about the local time
            when = when.replace(tzinfo=dt.UTC)
        return when.astimezone(dt.UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


# --- text for the index, attachments -----------------------------------------------


def _text(raw: bytes, root: Node) -> str:
    """Decoded text/plain and text/html parts, bounded to MAX_TEXT characters."""
    chunks: list[str] = []
    budget = MAX_TEXT
    for node in _readable(root):
        if budget <= 0:
            break
        stop = min(node["end"], node["body_start"] + _TEXT_WINDOW * budget)
        data = _transfer_decode(raw[node["body_start"] : stop], node["encoding"])
        text = _decode_bytes(data, _param(node["params"], "charset"))
        text = _html_text(text) if node["subtype"] == "html" else text.replace("\r\n", "\n")
        if text.strip():
            chunks.append(text[:budget])
            budget -= len(chunks[-1]) + 2
    return "\n\n".join(chunks)[:MAX_TEXT]


def _readable(node: Node) -> Iterator[Node]:
    """Text parts in order; one alternative per multipart/alternative, plain first."""
    if node["type"] == "multipart":
        parts = node["parts"]
        if node["subtype"] == "alternative":
            plain = [part for part in parts if _is_plain(part)]
            parts = plain[:1] or parts[-1:]
        for part in parts:
            yield from _readable(part)
    elif "body" in node:
        yield from _readable(node["body"])
    elif node["type"] == "text" and node["subtype"] in ("plain", "html"):
        yield node


def _is_plain(node: Node) -> bool:
    disposition = node["disposition"]
    attached = disposition is not None and disposition[0] == "attachment"
    return node["type"] == "text" and node["subtype"] == "plain" and not attached


def _transfer_decode(data: bytes, encoding: str) -> bytes:
    if encoding == "base64":
        return _base64(data)
    if encoding == "quoted-printable":
        return binascii.a2b_qp(data)
    return data


def _html_text(markup: str) -> str:
    """Text of an HTML part, simply: hidden blocks and tags dropped, entities decoded."""
    kept: list[str] = []
    position = 0
    while (opening := _HIDDEN.search(markup, position)) is not None:
        kept.append(markup[position : opening.start()])
        closing = _HIDDEN_END[opening[1] and opening[1].lower()].search(markup, opening.end())
        position = len(markup) if closing is None else closing.end()
    kept.append(markup[position:])
    text = _TAG.sub("", _BREAK_TAG.sub("\n", "".join(kept)))
    lines = (" ".join(line.split()) for line in html.unescape(text).split("\n"))
    return "\n".join(line for line in lines if line)


def _has_attachments(node: Node, parent: str) -> bool:
    """A part meant to be saved: disposition attachment, or a non-text leaf outside
    multipart/alternative (not an inline resource of multipart/related, not a
    signature, not the payload of multipart/encrypted)."""
    disposition = node["disposition"]
    if disposition is not None and disposition[0] == "attachment":
        return True
    if node["type"] == "multipart":
        return any(_has_attachments(part, node["subtype"]) for part in node["parts"])
    if node["type"] == "text" or parent in ("alternative", "encrypted"):
        return False
    if parent == "related" and node["id"] is not None:
        return False
    return not (node["type"] == "application" and node["subtype"] in _SIGNATURES)
