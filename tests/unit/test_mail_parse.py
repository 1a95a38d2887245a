"""Parsing once at delivery: ENVELOPE, BODYSTRUCTURE, offsets, decoded fields, hostile input.

Golden BODYSTRUCTURE and ENVELOPE strings are written by hand from RFC 9051's grammar
(§7.5.2, §9) and compared with a small renderer of the stored tree; offsets are
checked by slicing the raw bytes; the structure is compared with the stdlib parser
on well-formed messages; hypothesis feeds random and MIME-shaped bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.message
import email.policy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from academail.core.errors import InvalidInput
from academail.mail.model import ParsedMessage
from academail.mail.parse import (
    ENVELOPE_FIELDS,
    MAX_DEPTH,
    MAX_PARTS,
    MAX_TEXT,
    parse_message,
    section_span,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "messages"
EOLS = pytest.mark.parametrize("eol", ["\r\n", "\n"], ids=["crlf", "lf"])
ADDRESS_FIELDS = ("from", "sender", "reply_to", "to", "cc", "bcc")
HYPOTHESIS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fixture(name: str, eol: str = "\r\n") -> bytes:
    """Fixtures are stored with LF; IMAP serves CRLF, so that is the default."""
    return (FIXTURES / name).read_bytes().replace(b"\n", eol.encode())


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


# --- an RFC 9051 renderer of the stored tree, for golden strings --------------------


def nstring(value: str | None) -> str:
    if value is None:
        return "NIL"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def params(pairs: list[list[str]]) -> str:
    if not pairs:
        return "NIL"
    return "(" + " ".join(f"{nstring(k)} {nstring(v)}" for k, v in pairs) + ")"


def extension(node: dict[str, Any]) -> str:
    disposition = node["disposition"]
    shown = (
        "NIL" if disposition is None else f"({nstring(disposition[0])} {params(disposition[1])})"
    )
    languages = node["language"]
    if languages is None:
        language = "NIL"
    elif len(languages) == 1:
        language = nstring(languages[0])
    else:
        language = "(" + " ".join(map(nstring, languages)) + ")"
    return f"{shown} {language} {nstring(node['location'])}"


def addresses(value: list[list[str | None]] | None) -> str:
    if value is None:
        return "NIL"
    return "(" + "".join("(" + " ".join(map(nstring, a)) + ")" for a in value) + ")"


def envelope(value: dict[str, Any]) -> str:
    shown = (
        addresses(value[key]) if key in ADDRESS_FIELDS else nstring(value[key])
        for key in ENVELOPE_FIELDS
    )
    return "(" + " ".join(shown) + ")"


def bodystructure(node: dict[str, Any]) -> str:
    if node["type"] == "multipart":
        parts = "".join(bodystructure(part) for part in node["parts"])
        return f"({parts} {nstring(node['subtype'])} {params(node['params'])} {extension(node)})"
    fields = " ".join(
        [nstring(node[key]) for key in ("type", "subtype")]
        + [params(node["params"])]
        + [nstring(node[key]) for key in ("id", "description", "encoding")]
        + [str(node["size"])]
    )
    if "body" in node:
        fields += f" {envelope(node['envelope'])} {bodystructure(node['body'])} {node['lines']}"
    elif node["type"] == "text":
        fields += f" {node['lines']}"
    return f"({fields} {nstring(node['md5'])} {extension(node)})"


# --- invariants every result must satisfy -------------------------------------------


def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for part in node.get("parts", ()):
        yield from nodes(part)
    if "body" in node:
        yield from nodes(node["body"])


def numbered(entity: dict[str, Any]) -> list[dict[str, Any]]:
    return entity["parts"] if entity["type"] == "multipart" else [entity]


def addressable(root: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every part by its RFC 9051 §6.4.5 part number, computed independently."""

    def below(prefix: str, kids: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
        for number, kid in enumerate(kids, 1):
            section = f"{prefix}.{number}" if prefix else str(number)
            yield section, kid
            if kid["type"] == "multipart":
                yield from below(section, kid["parts"])
            elif "body" in kid:
                yield from below(section, numbered(kid["body"]))

    yield from below("", numbered(root))


def check_invariants(raw: bytes, parsed: ParsedMessage) -> None:
    root = parsed.body_structure
    assert parsed.size == len(raw)
    assert (root["header_start"], root["end"]) == (0, len(raw))
    for node in nodes(root):
        assert 0 <= node["header_start"] <= node["body_start"] <= node["end"] <= len(raw)
        if node["type"] != "multipart":
            assert node["size"] == node["end"] - node["body_start"]
        previous = node["body_start"]
        for part in node.get("parts", ()):
            assert previous <= part["header_start"] and part["end"] <= node["end"]
            previous = part["end"]
        if "body" in node:
            inner = node["body"]
            assert (inner["header_start"], inner["end"]) == (node["body_start"], node["end"])
    for section, node in addressable(root):
        assert node["section"] == section
        assert section_span(root, section) == (node["body_start"], node["end"])
        assert section_span(root, section + ".MIME") == (node["header_start"], node["body_start"])
    assert section_span(root, "") == (0, len(raw))
    assert section_span(root, "HEADER") == (0, root["body_start"])
    stored = json.dumps([parsed.envelope, root], ensure_ascii=False, allow_nan=False)
    assert "\\u0000" not in stored
    stored.encode("utf-8")  # no lone surrogate: PostgreSQL would refuse the row
    assert json.loads(stored) == [parsed.envelope, root]
    for text in (parsed.subject, parsed.from_address, parsed.to_addresses, parsed.text):
        assert "\x00" not in text
        text.encode("utf-8")
    assert len(parsed.text) <= MAX_TEXT
    assert parsed.sent_at is None or parsed.sent_at.utcoffset() == dt.timedelta(0)


def same_as_stdlib(raw: bytes, node: dict[str, Any], message: email.message.Message) -> None:
    """Our tree and offsets agree with the stdlib parser on well-formed input."""
    assert message.get_content_type() == f"{node['type']}/{node['subtype']}"
    if node["type"] == "multipart":
        kids = message.get_payload()
        assert isinstance(kids, list) and len(kids) == len(node["parts"])
        for part, kid in zip(node["parts"], kids, strict=True):
            same_as_stdlib(raw, part, kid)
    elif "body" in node:
        inner = message.get_payload()
        assert isinstance(inner, list)
        same_as_stdlib(raw, node["body"], inner[0])
    else:
        body = raw[node["body_start"] : node["end"]].decode("ascii", "surrogateescape")
        # get_payload() would decode 8-bit text with its charset: compare the raw form.
        assert body == message._payload


def stdlib(raw: bytes) -> email.message.Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


# --- fixtures: French messages ------------------------------------------------------

WELL_FORMED = (
    "reunion-utf8.eml",
    "latin1.eml",
    "alternative.eml",
    "mixed-pdf.eml",
    "forwarded.eml",
    "digest.eml",
    "missing-headers.eml",
    "8bit-headers.eml",
)


@EOLS
@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.eml")))
def test_every_fixture_keeps_the_invariants(name: str, eol: str) -> None:
    raw = fixture(name, eol)
    check_invariants(raw, parse_message(raw))


@EOLS
@pytest.mark.parametrize("name", WELL_FORMED)
def test_well_formed_fixtures_agree_with_the_stdlib(name: str, eol: str) -> None:
    raw = fixture(name, eol)
    parsed = parse_message(raw)
    same_as_stdlib(raw, parsed.body_structure, stdlib(raw))


def test_utf8_message_envelope_is_raw_and_decoded_fields_are_decoded() -> None:
    raw = fixture("reunion-utf8.eml")
    parsed = parse_message(raw)
    assert envelope(parsed.envelope) == (
        '("Mon, 2 Jun 2025 09:58:00 +0200"'
        ' "=?UTF-8?Q?R=C3=A9union_p=C3=A9dagogique?= du jeudi"'
        ' (("=?UTF-8?Q?Secr=C3=A9tariat_du_lyc=C3=A9e?=" NIL "secretariat.lycee" "ac-amiens.fr"))'
        ' (("=?UTF-8?Q?Secr=C3=A9tariat_du_lyc=C3=A9e?=" NIL "secretariat.lycee" "ac-amiens.fr"))'
        ' (("=?UTF-8?Q?Secr=C3=A9tariat_du_lyc=C3=A9e?=" NIL "secretariat.lycee" "ac-amiens.fr"))'
        ' (("Jean Martin" NIL "jean.martin" "ac-amiens.fr")'
        '("=?UTF-8?B?w4lsb8Ovc2UgTGVmw6h2cmU=?=" NIL "eloise.lefevre" "ac-amiens.fr"))'
        ' (("Dupont, Anne" NIL "anne.dupont" "ac-amiens.fr"))'
        " NIL"
        ' "<prev-1@ac-amiens.fr>"'
        ' "<20250602095800.4F2A1@ac-amiens.fr>")'
    )
    assert bodystructure(parsed.body_structure) == (
        '("text" "plain" ("charset" "UTF-8") NIL NIL "quoted-printable" 155 6 NIL NIL NIL NIL)'
    )
    assert parsed.subject == "Réunion pédagogique du jeudi"
    assert parsed.from_address == "Secrétariat du lycée <secretariat.lycee@ac-amiens.fr>"
    assert parsed.to_addresses == (
        "Jean Martin <jean.martin@ac-amiens.fr>, Éloïse Lefèvre <eloise.lefevre@ac-amiens.fr>"
    )
    assert parsed.cc_addresses == "Dupont, Anne <anne.dupont@ac-amiens.fr>"
    assert parsed.message_id == "<20250602095800.4F2A1@ac-amiens.fr>"
    assert parsed.in_reply_to == "<prev-1@ac-amiens.fr>"
    assert parsed.references == "<root-0@ac-amiens.fr> <prev-1@ac-amiens.fr>"
    assert parsed.sent_at == dt.datetime(2025, 6, 2, 7, 58, tzinfo=dt.UTC)
    assert parsed.text == (
        "Bonjour à toutes et à tous,\n\nLa réunion pédagogique aura lieu jeudi à 17 h"
        " en salle des professeurs.\n\nLe secrétariat\n"
    )
    assert parsed.has_attachments is False
    assert parsed.size == len(raw) == 972


def test_latin1_body_and_b_encoded_subject() -> None:
    parsed = parse_message(fixture("latin1.eml"))
    assert bodystructure(parsed.body_structure) == (
        '("text" "plain" ("charset" "ISO-8859-1") NIL NIL "8bit" 73 2 NIL NIL NIL NIL)'
    )
    assert parsed.envelope["subject"] == "=?ISO-8859-1?B?Q29tcHRlIHJlbmR1IGRlIGxhIHLpdW5pb24=?="
    assert parsed.subject == "Compte rendu de la réunion"
    assert parsed.from_address == "François Lévesque <francois.levesque@ac-amiens.fr>"
    assert parsed.text.startswith("L'été approche : le conseil de classe est déplacé")
    assert "François" in parsed.text


def test_multipart_alternative_indexes_the_plain_part_once() -> None:
    raw = fixture("alternative.eml")
    parsed = parse_message(raw)
    assert bodystructure(parsed.body_structure) == (
        '(("text" "plain" ("charset" "utf-8") NIL NIL "8bit" 26 1 NIL NIL NIL NIL)'
        '("text" "html" ("charset" "utf-8") NIL NIL "7bit" 46 1 NIL NIL NIL NIL)'
        ' "alternative" ("boundary" "alt") NIL NIL NIL)'
    )
    assert parsed.text == "Sortie au musée vendredi."
    assert parsed.subject == "Sortie au musée"  # 8-bit UTF-8 in the header
    assert parsed.has_attachments is False
    assert slice_of(raw, parsed, "2") == b"<p>Sortie au <b>mus&eacute;e</b> vendredi.</p>"


def test_html_only_alternative_is_converted_to_text() -> None:
    raw = crlf(
        'Content-Type: multipart/alternative; boundary="a"\n\n--a\n'
        "Content-Type: text/html; charset=utf-8\n\n"
        "<html><head><title>T</title><style>p {color: red}</style></head>"
        "<body><script>alert('x')</script><p>Conseil&nbsp;de classe</p><!-- note -->"
        "<p>Salle <b>12</b> &amp; 13</p><br>fin</body></html>\n--a--\n"
    )
    assert parse_message(raw).text == "Conseil de classe\nSalle 12 & 13\nfin"


def test_mixed_with_pdf_attachment() -> None:
    raw = fixture("mixed-pdf.eml")
    parsed = parse_message(raw)
    assert bodystructure(parsed.body_structure) == (
        "((("
        '"text" "plain" ("charset" "utf-8") NIL NIL "7bit" 12 1 NIL NIL NIL NIL)'
        '("text" "html" ("charset" "utf-8") NIL NIL "7bit" 19 1 NIL NIL NIL NIL)'
        ' "alternative" ("boundary" "==alt==") NIL NIL NIL)'
        '("application" "pdf" ("name" "compte-rendu.pdf") "<cr@ac-amiens.fr>" "Compte rendu"'
        ' "base64" 114 NIL'
        ' ("attachment" ("filename*" "utf-8\'\'compte-rendu%20r%C3%A9union%20du%203%20juin.pdf"))'
        ' ("fr" "en") "http://intranet.ac-amiens.fr/cr.pdf")'
        ' "mixed" ("boundary" "==mixed==") NIL NIL NIL)'
    )
    assert parsed.has_attachments is True
    assert parsed.text == "Voir le PDF."  # the PDF is never decoded as text
    pdf = base64.b64decode(slice_of(raw, parsed, "2"))
    assert pdf.startswith(b"%PDF-1.4") and pdf.endswith(b"%%EOF\n")
    assert slice_of(raw, parsed, "1.1") == b"Voir le PDF."
    assert slice_of(raw, parsed, "1.2.MIME") == b"Content-Type: text/html; charset=utf-8\r\n\r\n"
    assert slice_of(raw, parsed, "2.MIME").startswith(b"Content-Type: application/pdf;\r\n name=")
    assert slice_of(raw, parsed, "1").startswith(b"--==alt==\r\n")
    assert slice_of(raw, parsed, "1").endswith(b"--==alt==--\r\n")
    assert slice_of(raw, parsed, "TEXT").startswith(b"This is a multi-part message")


def test_nested_message_rfc822_bodystructure_and_sections() -> None:
    raw = fixture("forwarded.eml")
    parsed = parse_message(raw)
    inner_envelope = (
        '("Thu, 5 Jun 2025 20:00:00 +0200" "Absence"'
        ' (("Paul Durand" NIL "paul.durand" "ac-amiens.fr"))'
        ' (("Paul Durand" NIL "paul.durand" "ac-amiens.fr"))'
        ' (("Paul Durand" NIL "paul.durand" "ac-amiens.fr"))'
        ' (("Jean Martin" NIL "jean.martin" "ac-amiens.fr")) NIL NIL NIL "<abs-1@ac-amiens.fr>")'
    )
    innermost = (
        '(NIL "Convocation" ((NIL NIL "rectorat" "ac-amiens.fr"))'
        ' ((NIL NIL "rectorat" "ac-amiens.fr")) ((NIL NIL "rectorat" "ac-amiens.fr"))'
        " NIL NIL NIL NIL NIL)"
    )
    assert bodystructure(parsed.body_structure) == (
        '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 17 1 NIL NIL NIL NIL)'
        f'("message" "rfc822" NIL NIL NIL "7bit" 488 {inner_envelope}'
        ' (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 23 1 NIL NIL NIL NIL)'
        f'("message" "rfc822" NIL NIL NIL "7bit" 77 {innermost}'
        ' ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 24 1 NIL NIL NIL NIL) 4'
        ' NIL ("inline" NIL) NIL NIL)'
        ' "mixed" ("boundary" "inner") NIL NIL NIL) 21 NIL NIL NIL NIL)'
        ' "mixed" ("boundary" "outer") NIL NIL NIL)'
    )
    expected = {
        "1": b"Pour information.",
        "1.MIME": b"Content-Type: text/plain; charset=us-ascii\r\n\r\n",
        "2.MIME": b"Content-Type: message/rfc822\r\n\r\n",
        "2.1": b"Je serai absent demain.",
        "2.2.HEADER": b"From: rectorat@ac-amiens.fr\r\nSubject: Convocation\r\n\r\n",
        "2.2.1.MIME": b"From: rectorat@ac-amiens.fr\r\nSubject: Convocation\r\n\r\n",
        "2.2.TEXT": b"Convocation au rectorat.",
        "2.2.1": b"Convocation au rectorat.",
        "2.2": (
            b"From: rectorat@ac-amiens.fr\r\nSubject: Convocation\r\n\r\nConvocation au rectorat."
        ),
    }
    for section, wanted in expected.items():
        assert slice_of(raw, parsed, section) == wanted, section
    assert slice_of(raw, parsed, "2").startswith(b"From: Paul Durand")
    assert slice_of(raw, parsed, "2").endswith(b"Convocation au rectorat.\r\n--inner--")
    assert slice_of(raw, parsed, "2.HEADER").endswith(b'boundary="inner"\r\n\r\n')
    assert slice_of(raw, parsed, "2.TEXT").startswith(b"--inner\r\n")
    assert slice_of(raw, parsed, "2.HEADER.FIELDS") == slice_of(raw, parsed, "2.HEADER")
    assert parsed.has_attachments is True
    assert parsed.text == "Pour information.\n\nJe serai absent demain.\n\nConvocation au rectorat."


@pytest.mark.parametrize(
    "section", ["0", "3", "1.1", "1.HEADER", "1.TEXT", "MIME", "2.3", "2.2.2", "X", "1.X", "01"]
)
def test_sections_that_do_not_exist(section: str) -> None:
    assert section_span(parse_message(fixture("forwarded.eml")).body_structure, section) is None


def test_single_part_message_has_part_one_only() -> None:
    raw = crlf("Subject: x\n\nbody\n")
    root = parse_message(raw).body_structure
    assert root["section"] == "1"
    assert section_span(root, "1") == section_span(root, "TEXT") == (14, len(raw))
    assert section_span(root, "1.MIME") == section_span(root, "HEADER") == (0, 14)
    assert section_span(root, "2") is None


def test_digest_parts_default_to_message_rfc822() -> None:
    parsed = parse_message(fixture("digest.eml"))
    first, second = parsed.body_structure["parts"]
    assert (first["type"], first["subtype"], first["params"]) == ("message", "rfc822", [])
    assert first["envelope"]["subject"] == "Premier" and second["envelope"]["subject"] == "Second"
    assert parsed.text == "Un.\n\nDeux."


# --- broken and unusual messages ----------------------------------------------------


@EOLS
def test_malformed_boundaries(eol: str) -> None:
    raw = fixture("malformed-boundary.eml", eol)
    parsed = parse_message(raw)
    e = eol.encode()
    parts = parsed.body_structure["parts"]
    assert len(parts) == 4
    assert slice_of(raw, parsed, "1") == b"one" + e + b"--frontierx" + e + b"still one"
    assert slice_of(raw, parsed, "1.MIME") == b"Content-Type: text/plain" + e + e
    assert slice_of(raw, parsed, "2") == b"no header two"
    assert slice_of(raw, parsed, "2.MIME") == e
    assert slice_of(raw, parsed, "3") == b"three without blank line"
    assert slice_of(raw, parsed, "3.MIME") == b""
    assert slice_of(raw, parsed, "4") == b""  # no close delimiter: the part runs to the end
    assert slice_of(raw, parsed, "4.MIME") == b"Content-Type: text/plain" + e
    assert parts[0]["lines"] == 3 and parts[3]["lines"] == 0


def test_delimiter_with_transport_padding_and_close_without_line_end() -> None:
    raw = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b \t\r\n\r\nA\r\n--b--'
    parsed = parse_message(raw)
    assert [slice_of(raw, parsed, "1")] == [b"A"]


def test_multipart_without_boundary_is_text() -> None:
    parsed = parse_message(crlf("Content-Type: multipart/mixed\n\n--x\nhello\n--x--\n"))
    assert bodystructure(parsed.body_structure) == (
        '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 19 3 NIL NIL NIL NIL)'
    )


def test_boundary_never_seen_gives_one_empty_part() -> None:
    raw = crlf('Content-Type: multipart/mixed; boundary="zz"\n\njust a preamble\n')
    parsed = parse_message(raw)
    (part,) = parsed.body_structure["parts"]
    assert bodystructure(part) == (
        '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)'
    )
    assert slice_of(raw, parsed, "1") == b""


def test_close_delimiter_first_and_content_after_close_is_epilogue() -> None:
    raw = crlf('Content-Type: multipart/mixed; boundary="b"\n\n--b--\n--b\nlate\n')
    assert parse_message(raw).body_structure["parts"][0]["size"] == 0


def test_outer_boundary_ends_an_unclosed_inner_multipart() -> None:
    raw = crlf(
        'Content-Type: multipart/mixed; boundary="out"\n\n--out\n'
        'Content-Type: multipart/alternative; boundary="in"\n\n--in\n\ninner\n'
        "--out\n\nsecond\n--out--\n"
    )
    parsed = parse_message(raw)
    assert slice_of(raw, parsed, "1.1") == b"inner"
    assert slice_of(raw, parsed, "2") == b"second"


def test_boundary_longer_than_rfc_2046_allows_is_not_used() -> None:
    boundary = "b" * 201
    raw = crlf(f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n--{boundary}\n\nx\n')
    assert parse_message(raw).body_structure["type"] == "text"
    ok = "b" * 200
    raw = crlf(f'Content-Type: multipart/mixed; boundary="{ok}"\n\n--{ok}\n\nx\n')
    assert slice_of(raw, parse_message(raw), "1") == b"x\r\n"


def test_long_section_strings_are_cheap() -> None:
    root = parse_message(fixture("forwarded.eml")).body_structure
    assert section_span(root, ".".join(["1"] * 200_000)) is None
    assert section_span(root, "1" * 5000) is None  # never handed to int()


def test_invalid_content_type_and_unknown_encoding() -> None:
    raw = crlf("Content-Type: texte\nContent-Transfer-Encoding: x-uuencode (vieux)\n\nA\n")
    node = parse_message(raw).body_structure
    assert (node["type"], node["subtype"], node["params"]) == (
        "text",
        "plain",
        [["charset", "us-ascii"]],
    )
    assert node["encoding"] == "x-uuencode"


def test_message_without_any_header() -> None:
    raw = b"Bonjour, ceci n'est pas un en-tete\r\nsecond line\r\n"
    parsed = parse_message(raw)
    assert parsed.body_structure["body_start"] == 0
    assert section_span(parsed.body_structure, "HEADER") == (0, 0)
    assert parsed.envelope == dict.fromkeys(ENVELOPE_FIELDS)
    assert (parsed.subject, parsed.message_id, parsed.sent_at) == ("", "", None)
    assert parsed.text.startswith("Bonjour")


def test_message_with_headers_and_no_body() -> None:
    raw = b"Subject: seul"
    parsed = parse_message(raw)
    assert parsed.body_structure["body_start"] == len(raw)
    assert parsed.subject == "seul" and parsed.text == ""


def test_missing_headers_give_nil_envelope_members() -> None:
    parsed = parse_message(fixture("missing-headers.eml"))
    assert envelope(parsed.envelope) == '(NIL "Sans expéditeur" NIL NIL NIL NIL NIL NIL NIL NIL)'
    assert (parsed.from_address, parsed.to_addresses, parsed.sent_at) == ("", "", None)


def test_mixed_line_endings() -> None:
    raw = (
        b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\n'
        b"Content-Type: text/plain\r\n\nLF body\r\n--m\r\n\nCRLF body\n--m--\n"
    )
    parsed = parse_message(raw)
    assert slice_of(raw, parsed, "1") == b"LF body"
    assert slice_of(raw, parsed, "1.MIME") == b"Content-Type: text/plain\r\n\n"
    assert slice_of(raw, parsed, "2") == b"CRLF body"


def test_empty_message_is_refused() -> None:
    with pytest.raises(InvalidInput):
        parse_message(b"")


def test_eight_bit_headers_utf8_and_latin1() -> None:
    parsed = parse_message(fixture("8bit-headers.eml"))
    assert parsed.subject == "Réunion à l’école"
    assert parsed.envelope["subject"] == "Réunion à l’école"
    assert parsed.from_address == "Renée François <renee@ac-amiens.fr>"
    assert parsed.to_addresses == "André <andre@ac-amiens.fr>"  # ISO-8859-1 byte 0xE9
    assert parsed.envelope["to"] == [["André", None, "andre", "ac-amiens.fr"]]


def test_nul_and_control_characters_never_reach_stored_strings() -> None:
    raw = b"Subject: a\x00b\x1b[31mc\r\nFrom: x\x00y <x@y.fr>\r\n\r\nte\x00xt\r\n"
    parsed = parse_message(raw)
    assert parsed.subject == "ab [31mc"
    assert parsed.envelope["subject"] == "ab\x1b[31mc"  # raw for IMAP, but storable
    assert parsed.text == "text\n"


def test_huge_headers() -> None:
    subject = b"Subject: " + b"r\xc3\xa9union " * 150_000 + b"\r\n"
    many = b"".join(b"X-Trace-%d: hop\r\n" % i for i in range(50_000))
    folded = b"To: " + b",\r\n ".join(b"agent%d@ac-amiens.fr" % i for i in range(20_000)) + b"\r\n"
    raw = subject + many + folded + b"\r\nbody\r\n"
    parsed = parse_message(raw)
    check_invariants(raw, parsed)
    assert parsed.body_structure["body_start"] == len(raw) - 6
    assert len(parsed.subject) == 1 << 16 and parsed.subject.startswith("réunion réunion")
    assert len(parsed.envelope["to"]) == 1000  # bounded, like the display string
    assert parsed.envelope["to"][999] == [None, None, "agent999", "ac-amiens.fr"]
    assert parsed.text == "body\n"


def test_nesting_beyond_the_limit_becomes_an_opaque_part() -> None:
    depth = MAX_DEPTH + 30
    head = "".join(
        f'--b{i}\nContent-Type: multipart/mixed; boundary="b{i + 1}"\n\n' for i in range(depth)
    )
    raw = crlf(f'Content-Type: multipart/mixed; boundary="b0"\n\n{head}--b{depth}\n\ndeep\n')
    parsed = parse_message(raw)
    check_invariants(raw, parsed)
    deepest = max(nodes(parsed.body_structure), key=lambda n: n["section"].count("."))
    assert (deepest["type"], deepest["subtype"]) == ("application", "octet-stream")
    assert deepest["section"].count(".") == MAX_DEPTH - 1


def test_nested_messages_beyond_the_limit() -> None:
    raw = b"Subject: leaf\r\n\r\nleaf"
    for _ in range(MAX_DEPTH + 10):
        raw = b"Content-Type: message/rfc822\r\n\r\n" + raw
    parsed = parse_message(raw)
    check_invariants(raw, parsed)
    kinds = {(n["type"], n["subtype"]) for n in nodes(parsed.body_structure)}
    assert kinds == {("message", "rfc822"), ("application", "octet-stream")}


def test_part_count_is_bounded_and_the_last_part_takes_the_rest() -> None:
    raw = crlf('Content-Type: multipart/mixed; boundary="p"\n\n' + "--p\n\nx\n" * 5000 + "--p--\n")
    parsed = parse_message(raw)
    check_invariants(raw, parsed)
    parts = parsed.body_structure["parts"]
    assert len(parts) == MAX_PARTS - 1  # the message itself is one of the bounded parts
    last = slice_of(raw, parsed, str(len(parts)))
    assert last.count(b"\r\n--p\r\n") == 5000 - len(parts) and last.endswith(b"x\r\n--p--\r\n")


# --- header field syntax ------------------------------------------------------------


def test_address_groups_routes_comments_and_quotes() -> None:
    raw = crlf(
        'To: =?UTF-8?Q?=C3=89quipe?=: a@b.fr, "Dupont, Jean" <jean@c.fr>;,'
        " <@relay.fr,@r2.fr:paul@d.fr>, x@y.fr (Xavier Yon), undisclosed-recipients:;,"
        ' "jean dupont"@e.fr, Sans Adresse <>, local\n'
        "Cc: ,,\nBcc: Anne <anne@f.fr\n\nb"
    )
    parsed = parse_message(raw)
    assert addresses(parsed.envelope["to"]) == (
        '((NIL NIL "=?UTF-8?Q?=C3=89quipe?=" NIL)(NIL NIL "a" "b.fr")'
        '("Dupont, Jean" NIL "jean" "c.fr")(NIL NIL NIL NIL)'
        '(NIL "@relay.fr,@r2.fr" "paul" "d.fr")("Xavier Yon" NIL "x" "y.fr")'
        '(NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)'
        '(NIL NIL "\\"jean dupont\\"" "e.fr")("Sans Adresse" NIL "" "")(NIL NIL "local" ""))'
    )
    assert parsed.envelope["cc"] is None  # present but empty: NIL
    assert parsed.envelope["bcc"] == [["Anne", None, "anne", "f.fr"]]  # unclosed angle
    assert parsed.to_addresses == (
        "Équipe: a@b.fr, Dupont, Jean <jean@c.fr>;, paul@d.fr, Xavier Yon <x@y.fr>,"
        ' undisclosed-recipients:;, "jean dupont"@e.fr, Sans Adresse, local'
    )


def test_sender_and_reply_to_default_to_from_even_when_empty() -> None:
    parsed = parse_message(crlf("From: a@b.fr\nSender:\nReply-To: r@b.fr\n\nx"))
    assert parsed.envelope["sender"] == [[None, None, "a", "b.fr"]]
    assert parsed.envelope["reply_to"] == [[None, None, "r", "b.fr"]]


def test_unterminated_group_is_closed() -> None:
    parsed = parse_message(crlf("To: liste: a@b.fr\n\nx"))
    assert parsed.envelope["to"][-1] == [None, None, None, None]


@pytest.mark.parametrize(
    ("header", "decoded"),
    [
        ("=?UTF-8?Q?R=C3=A9union_p=C3=A9dagogique?=", "Réunion pédagogique"),
        ("=?ISO-8859-1?B?Uul1bmlvbiBw6WRhZ29naXF1ZQ==?=", "Réunion pédagogique"),
        ("=?utf-8?b?UsOp?= =?utf-8?b?dW5pb24=?=", "Réunion"),  # whitespace between words dropped
        ("=?utf-8?b?UsO=?= =?utf-8?b?qXVuaW9u?=", "Réunion"),  # a character split over two words
        ("Re: =?utf-8?q?caf=C3=A9?= ok", "Re: café ok"),
        ("=?utf-8*fr?q?=C3=A9t=C3=A9?=", "été"),  # RFC 2231 language suffix
        ("=?x-inconnu?q?abc?=", "abc"),
        ("=?utf-8?b?***?= reste", "=?utf-8?b?***?= reste"),  # undecodable: left as written
        ("=?utf-8?q?a?=\tb", "a b"),  # a tab is shown as a space
        ("a\r\n  b", "a b"),  # unfolded, whitespace collapsed
        ("=?unicode-escape?q?\\u0041?=", "\\u0041"),  # never interpreted as an escape codec
    ],
)
def test_encoded_words(header: str, decoded: str) -> None:
    raw = b"Subject: " + header.encode() + b"\r\n\r\nx"
    assert parse_message(raw).subject == decoded


def test_rfc2231_parameters() -> None:
    raw = crlf(
        'Content-Type: application/octet-stream; name="a \\"b\\".txt" (commentaire);'
        ' title*0="Rapport "; title*1=annuel; NAME=dup\n'
        'Content-Disposition: ATTACHMENT; filename="resume.pdf";'
        " filename*=iso-8859-1'fr'r%E9sum%E9.pdf; size=12\n\nx"
    )
    node = parse_message(raw).body_structure
    assert node["params"] == [["name", 'a "b".txt'], ["title", "Rapport annuel"]]
    assert node["disposition"] == [
        "attachment",
        [
            ["filename", "resume.pdf"],
            ["filename*", "utf-8'fr'r%C3%A9sum%C3%A9.pdf"],
            ["size", "12"],
        ],
    ]


def test_rfc2231_gap_and_unknown_charset() -> None:
    raw = crlf("Content-Type: text/plain; a*0=x; a*2=z; b*=x-inconnu''%41%42\n\nx")
    assert parse_message(raw).body_structure["params"] == [["a", "x"], ["b*", "utf-8''AB"]]


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Mon, 2 Jun 2025 09:58:00 +0200", dt.datetime(2025, 6, 2, 7, 58, tzinfo=dt.UTC)),
        ("2 Jun 2025 09:58 -0000", dt.datetime(2025, 6, 2, 9, 58, tzinfo=dt.UTC)),
        ("Mon, 2 Jun 25 09:58:00 EST", dt.datetime(2025, 6, 2, 14, 58, tzinfo=dt.UTC)),
        ("lundi 2 juin", None),
        ("Mon, 2 Jun 99999 09:58:00 +0200", None),
        ("Mon, 2 Jun 2025 09:58:00 +9999", None),
        ("Fri, 31 Dec 9999 23:00:00 -0200", None),  # year 10000 in UTC
    ],
)
def test_sent_at(date: str, expected: dt.datetime | None) -> None:
    assert parse_message(f"Date: {date}\r\n\r\nx".encode()).sent_at == expected


def test_references_keep_the_root_and_the_nearest_ancestors() -> None:
    ids = [f"<message-{i:05d}@ac-amiens.fr>" for i in range(5000)]
    parsed = parse_message(("References: " + "\r\n ".join(ids) + "\r\n\r\nx").encode())
    kept = parsed.references.split()
    assert kept[0] == ids[0] and kept[-1] == ids[-1] and kept[1:] == ids[-len(kept) + 1 :]
    assert len(parsed.references) <= 1 << 16


def test_message_ids_without_brackets_and_folded() -> None:
    parsed = parse_message(crlf("Message-ID: <a@\n b>\nIn-Reply-To: nu-1@x (nu)\n\nx"))
    assert (parsed.message_id, parsed.in_reply_to) == ("<a@b>", "nu-1@x (nu)")


# --- attachments and text -----------------------------------------------------------


def part(headers: str, body: str) -> str:
    return f"{headers}\n\n{body}"


def multipart(subtype: str, *parts: str, boundary: str = "q") -> str:
    inner = "".join(f"--{boundary}\n{p}\n" for p in parts)
    return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n\n{inner}--{boundary}--\n'


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (multipart("mixed", part("Content-Type: text/plain", "a")), False),
        (multipart("mixed", part("Content-Type: image/png", "a")), True),
        (
            multipart(
                "mixed", part("Content-Type: text/csv\nContent-Disposition: attachment", "a")
            ),
            True,
        ),
        (multipart("alternative", part("Content-Type: image/png", "a")), False),
        (multipart("related", part("Content-Type: image/png\nContent-ID: <i@x>", "a")), False),
        (multipart("related", part("Content-Type: image/png", "a")), True),
        (
            multipart(
                "signed",
                part("Content-Type: text/plain", "a"),
                part("Content-Type: application/pgp-signature", "s"),
            ),
            False,
        ),
        (multipart("encrypted", part("Content-Type: application/octet-stream", "e")), False),
        (part("Content-Type: application/pdf", "%PDF"), True),
        (
            part("Content-Type: text/plain\nContent-Disposition: attachment; filename=a.txt", "a"),
            True,
        ),
    ],
)
def test_has_attachments(message: str, expected: bool) -> None:
    assert parse_message(crlf(message)).has_attachments is expected


def test_text_is_bounded_and_only_text_parts_are_decoded() -> None:
    big = base64.encodebytes(("é" * 1_500_000).encode()).decode()
    garbage = base64.encodebytes(b"texte cach\xc3\xa9 " * 1000).decode()
    raw = crlf(
        multipart(
            "mixed",
            part("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64", big),
            part(
                "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64", garbage
            ),
        )
    )
    parsed = parse_message(raw)
    assert len(parsed.text) == MAX_TEXT and set(parsed.text) == {"é"}


@pytest.mark.parametrize(
    ("charset", "data", "text"),
    [
        ("utf-16", b"A\x00B\x00", "AB"),
        ("utf-7", b"+AOk-", "é"),
        ("x-inconnu", "é".encode(), "é"),
        ("us-ascii", b"\xe9", "é"),  # 8-bit despite the label: Windows-1252
        ("utf-8", b"a\xc3b", "a\ufffdb"),
        ("iso-8859-1", b"l\x92\xe9t\xe9 \x9cuvre", "l’été œuvre"),  # read as Windows-1252
        ("idna", b"xn--bcher", "xn--bcher"),  # not a charset: never given to that codec
        ("utf-8", b"a\x00b", "ab"),
    ],
)
def test_text_charsets(charset: str, data: bytes, text: str) -> None:
    body = base64.b64encode(data).decode()
    headers = f"Content-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: base64"
    raw = crlf(f"{headers}\n\n{body}\n")
    assert parse_message(raw).text == text


def test_lone_surrogates_from_a_codec_never_reach_the_index() -> None:
    assert b"+2D0-".decode("utf-7", "replace") == "\ud83d"  # what the codec does
    raw = crlf("Content-Type: text/plain; charset=utf-7\n\nx+2D0-y\n")
    text = parse_message(raw).text
    text.encode("utf-8")
    assert text.startswith("x") and text.endswith("y\n") and "\ufffd" in text


def test_broken_base64_and_quoted_printable_text() -> None:
    raw = crlf(
        multipart(
            "mixed",
            part("Content-Type: text/plain\nContent-Transfer-Encoding: base64", "QUJD\nRE!!V"),
            part(
                "Content-Type: text/plain; charset=utf-8\n"
                "Content-Transfer-Encoding: quoted-printable",
                "caf=C3=A9=\nsoft =ZZ",
            ),
        )
    )
    assert parse_message(raw).text == "ABCDE\n\ncafésoft =ZZ"


# --- offsets: generated well-formed trees, checked by slicing ------------------------

LINE = st.text(alphabet="abcdefXYZ 0123456789éàç:;=.,!?", max_size=30).filter(
    lambda line: not line.startswith("-")
)


@st.composite
def entity(draw: st.DrawFn, depth: int = 0) -> tuple[str, dict[str, Any]]:
    """An entity (header + body) and what the parser must find in it."""
    kind = draw(
        st.sampled_from(["leaf", "leaf", "multipart", "message"] if depth < 3 else ["leaf"])
    )
    if kind == "leaf":
        header = draw(
            st.sampled_from(["Content-Type: text/plain; charset=utf-8\n", "X-Note: a\n", ""])
        )
        body = "\n".join(draw(st.lists(LINE, max_size=4)))
        return f"{header}\n{body}", {"type": "text/plain", "body": body}
    if kind == "message":
        inner, spec = draw(entity(depth + 1))
        inner = "Subject: inner\n" + inner
        return f"Content-Type: message/rfc822\n\n{inner}", {
            "type": "message/rfc822",
            "body": inner,
            "inner": spec,
        }
    boundary = f"=_{depth}_{draw(st.integers(0, 10**6))}"
    subtype = draw(st.sampled_from(["mixed", "alternative", "related"]))
    kids = draw(st.lists(entity(depth + 1), min_size=1, max_size=3))
    preamble = draw(st.sampled_from(["", "preamble\n", "préambule\n\n"]))
    epilogue = draw(st.sampled_from(["", "\n", "\nepilogue\n"]))
    body = (
        preamble
        + "".join(f"--{boundary}\n{text}\n" for text, _ in kids)
        + f"--{boundary}--{epilogue}"
    )
    header = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n'
    spec = {"type": f"multipart/{subtype}", "body": body, "parts": [s for _, s in kids]}
    return f"{header}\n{body}", spec


def matches(raw: bytes, node: dict[str, Any], spec: dict[str, Any], eol: bytes) -> None:
    assert f"{node['type']}/{node['subtype']}" == spec["type"]
    assert raw[node["body_start"] : node["end"]] == spec["body"].encode().replace(b"\n", eol)
    for kid, kid_spec in zip(node.get("parts", ()), spec.get("parts", ()), strict=True):
        matches(raw, kid, kid_spec, eol)
    if "inner" in spec:
        matches(raw, node["body"], spec["inner"], eol)


@HYPOTHESIS
@given(entity(), st.sampled_from([b"\r\n", b"\n"]))
def test_generated_trees_slice_back_to_their_parts(
    generated: tuple[str, dict[str, Any]], eol: bytes
) -> None:
    text, spec = generated
    raw = ("From: gen@ac-amiens.fr\n" + text).encode().replace(b"\n", eol)
    parsed = parse_message(raw)
    check_invariants(raw, parsed)
    root = parsed.body_structure
    matches(raw, root, spec, eol)
    same_as_stdlib(raw, root, stdlib(raw))


# --- hostile input ------------------------------------------------------------------

FRAGMENTS = [
    b"Content-Type: multipart/mixed; boundary=b\r\n",
    b'Content-Type: multipart/alternative; boundary="c"\n',
    b"Content-Type: multipart/digest; boundary=b\n",
    b"Content-Type: message/rfc822\r\n",
    b"Content-Type: text/html; charset=utf-7\n",
    b"Content-Type: text/plain; charset*0*=utf-8''%C3; charset*1*=%A9\n",
    b"Content-Transfer-Encoding: base64\n",
    b"Content-Transfer-Encoding: quoted-printable\n",
    b"Content-Disposition: attachment; filename*=utf-8''%FF\n",
    b"Subject: =?utf-8?b?w6k=?= =?utf-8?q?=C3?=\n",
    b"From: a <b@c>, d:;, (e) <@f:g@h>\n",
    b'To: "q\\" <\n',
    b"Date: Mon, 2 Jun 2025 09:58:00 +0200\n",
    b"--b\r\n",
    b"--b--\n",
    b"--c\n",
    b"--c--\r\n",
    b"\r\n",
    b"\n",
    b" folded\n",
    b"\x00",
    b"\xff\xfe",
    b"<script>",
    b"<!--",
    b"<p>caf&eacute;",
    b"=C3=A9=\r\n",
    b"w6k=\n",
]
HOSTILE = st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=12), max_size=60).map(b"".join)


@HYPOTHESIS
@given(st.binary(max_size=3000))
def test_random_bytes_yield_a_result_or_invalid_input(raw: bytes) -> None:
    try:
        parsed = parse_message(raw)
    except InvalidInput:
        assert raw == b""
        return
    check_invariants(raw, parsed)


@HYPOTHESIS
@given(HOSTILE)
def test_mime_shaped_garbage_yields_a_consistent_result(raw: bytes) -> None:
    if not raw:
        return
    check_invariants(raw, parse_message(raw))


@pytest.mark.parametrize(
    "raw",
    [
        b"Content-Type: text/html\r\n\r\n" + b"<" * 2_000_000,
        b"Content-Type: text/html\r\n\r\n" + b"<script" * 300_000,
        b"Content-Type: text/html\r\n\r\n" + b"<!--" * 500_000,
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + b"\n--bx" * 400_000,
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + b"\n--b" + b" " * 2_000_000 + b"x",
        b"Subject: " + b"=?utf-8?q?" * 200_000 + b"\r\n\r\n",
        b"To: " + b"<" * 500_000 + b"\r\n\r\n",
        b"To: " + b'"' + b"\\" * 1_000_001 + b"\r\n\r\n",
        b"Content-Type: text/plain; " + b"a*0=b; " * 100_000 + b"\r\n\r\n",
        b"Content-Type: text/plain; charset=" + b"x" * 1_000_000 + b"\r\n\r\nbody",
        b"Content-Type: multipart/mixed; boundary=" + b"b" * 1_000_000 + b"\r\n\r\n--b",
        b"X: y\r\n" + b" \r\n" * 500_000 + b"\r\nbody",
    ],
    ids=[
        "html-lt",
        "html-script",
        "html-comment",
        "near-delimiters",
        "delimiter-padding",
        "encoded-word-starts",
        "angle-brackets",
        "backslashes",
        "rfc2231-sections",
        "charset-label",
        "boundary-length",
        "blank-continuations",
    ],
)
def test_pathological_inputs_stay_linear(raw: bytes) -> None:
    """No time is asserted; a quadratic regression shows as a suite that never ends."""
    check_invariants(raw, parse_message(raw))


def slice_of(raw: bytes, parsed: ParsedMessage, section: str) -> bytes:
    span = section_span(parsed.body_structure, section)
    assert span is not None, section
    return raw[span[0] : span[1]]


def test_exported_names() -> None:
    from academail.mail import parse

    assert sorted(parse.__all__) == sorted(
        [
            "ENVELOPE_FIELDS",
            "MAX_DEPTH",
            "MAX_PARTS",
            "MAX_TEXT",
            "parse_message",
            "section_span",
            "with_fields_prepended",
        ]
    )
    assert ENVELOPE_FIELDS[:3] == ("date", "subject", "from")


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.eml")))
def test_prepended_fields_shift_the_parse_exactly(name: str) -> None:
    """Delivery stages add fields on top without re-parsing: same result as a parse."""
    from academail.mail.parse import with_fields_prepended

    raw = (FIXTURES / name).read_bytes()
    fields = b"Return-Path: <a@b.fr>\r\nReceived: from x by y; Mon, 23 Nov 2026 10:00:00 +0100\r\n"
    shifted = with_fields_prepended(parse_message(raw), fields)
    again = parse_message(fields + raw)
    assert shifted.body_structure == again.body_structure
    assert shifted.size == again.size
    assert shifted.received_count == again.received_count == parse_message(raw).received_count + 1
