"""The SMTP listeners' pure parts: header split, sender checks, replies, trace fields."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import aiosmtpd.smtp
import pytest

from academail.delivery import LocalOutcome, Routed
from academail.smtp.message import (
    HeaderField,
    MalformedHeader,
    canonical_line_endings,
    missing_fields,
    protocol_name,
    received_field,
    top_header,
)
from academail.smtp.replies import (
    FROM_NOT_YOURS,
    MAILBOX_FULL,
    SENDER_FIELD_REQUIRED,
    SENDER_NOT_YOURS,
    UTF8_REQUIRED,
    completed,
    rejection,
)
from academail.smtp.sender import check_envelope_sender, check_header_senders
from academail.smtp.session import delivery_reply, ehlo_lines
from academail.smtp.submission import prepare_submission

ME = "jeanne.dupont@ac-amiens.fr"
ALLOWED = frozenset({ME, "vie.scolaire@ac-amiens.fr"})
WHEN = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC)


def test_line_endings_become_crlf() -> None:
    assert canonical_line_endings(b"a\nb\rc\r\nd\n\r") == b"a\r\nb\r\nc\r\nd\r\n\r\n"


def test_top_header_unfolds_and_stops_at_the_blank_line() -> None:
    raw = b"From: J\r\n <j@x.fr>\r\nSubject : a\r\n\tb\r\n\r\nFrom: body@x.fr\r\n"
    assert top_header(raw) == [
        HeaderField("from", b" J <j@x.fr>"),
        HeaderField("subject", b" a\tb"),
    ]
    assert top_header(b"\r\nFrom: body@x.fr\r\n") == []
    assert top_header(b"From: j@x.fr\r\n") == [HeaderField("from", b" j@x.fr")]
    assert top_header(b"From: j@x.fr") == [HeaderField("from", b" j@x.fr")]


@pytest.mark.parametrize(
    "raw",
    [b" continued\r\nFrom: j@x.fr\r\n\r\n", b"From j@x.fr Mon Sep  7\r\n\r\n", b"F\xe9: x\r\n\r\n"],
)
def test_malformed_headers(raw: bytes) -> None:
    with pytest.raises(MalformedHeader):
        top_header(raw)


def _fields(*lines: str) -> list[HeaderField]:
    return top_header(("\r\n".join(lines) + "\r\n\r\n").encode())


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([f"From: {ME}"], None),
        ([f"From: Jeanne <{ME.upper()}>"], None),
        ([f"From: {ME}, vie.scolaire@ac-amiens.fr", f"Sender: {ME}"], None),
        ([f"From: {ME}, vie.scolaire@ac-amiens.fr"], SENDER_FIELD_REQUIRED),
        ([f"From: {ME}", "Sender: autre@ac-amiens.fr"], FROM_NOT_YOURS),
        ([f"From: {ME}", f"Sender: {ME}", f"Sender: {ME}"], FROM_NOT_YOURS),
        ([f"From: {ME}", f"From: {ME}"], FROM_NOT_YOURS),
        (["Subject: sans expéditeur"], FROM_NOT_YOURS),
        ([f'From: "{ME}" <evil@x.org>'], FROM_NOT_YOURS),
        ([f"From: {ME} <evil@x.org>"], FROM_NOT_YOURS),
        ([f"From: {ME}, evil@x.org"], FROM_NOT_YOURS),
    ],
)
def test_header_senders(lines: list[str], expected: object) -> None:
    assert check_header_senders(_fields(*lines), ALLOWED) == expected


def test_header_senders_refuse_bytes_that_are_not_utf8() -> None:
    fields = top_header(b"From: J\xe9r\xf4me <" + ME.encode() + b">\r\n\r\n")
    assert check_header_senders(fields, ALLOWED) == FROM_NOT_YOURS


def test_envelope_sender() -> None:
    assert check_envelope_sender(ME.upper(), utf8=False, allowed=ALLOWED) == (ME.upper(), None)
    assert check_envelope_sender("<>", utf8=False, allowed=ALLOWED)[1] == SENDER_NOT_YOURS
    assert check_envelope_sender("a@x.fr", utf8=False, allowed=ALLOWED)[1] == SENDER_NOT_YOURS
    assert check_envelope_sender("é@x.fr", utf8=False, allowed=ALLOWED)[1] == UTF8_REQUIRED
    assert check_envelope_sender("a..b@x.fr", utf8=False, allowed=ALLOWED)[1] is not None


def test_prepare_submission_adds_missing_fields_after_the_trace() -> None:
    content = f"From: {ME}\nSubject: x\n\nCorps\n".encode()
    prepared = prepare_submission(content, b"Received: x\r\n", ALLOWED, "ac-amiens.fr", WHEN)
    assert not isinstance(prepared, type(MAILBOX_FULL))
    raw, parsed = prepared
    lines = raw.split(b"\r\n")
    assert lines[0] == b"Received: x"
    assert lines[1] == b"Date: Tue, 01 Sep 2026 10:00:00 +0200"
    assert re.fullmatch(rb"Message-ID: <[0-9a-f]{32}@ac-amiens\.fr>", lines[2])
    assert raw.endswith(b"Subject: x\r\n\r\nCorps\r\n")
    assert parsed.size == len(raw)
    refused = prepare_submission(b"From: evil@x.org\r\n\r\n", b"", ALLOWED, "x", WHEN)
    assert refused == FROM_NOT_YOURS


def test_missing_fields_only_when_missing() -> None:
    assert missing_fields(_fields("Date: x", "Message-Id: <a@b>"), "x.fr", WHEN) == b""


def test_received_field() -> None:
    field = received_field(
        helo="poste\r\nBcc: x",
        client_ip="2001:db8::1",
        hostname="mx.ac-amiens.fr",
        protocol="ESMTPSA",
        recipient="j@x.fr",
        when=WHEN,
    ).decode()
    assert field.startswith("Received: from posteBcc:x ([2001:db8::1])\r\n\tby mx.ac-amiens.fr ")
    assert " with ESMTPSA id " in field
    assert field.endswith("\tfor <j@x.fr>; Tue, 01 Sep 2026 10:00:00 +0200\r\n")


def test_protocol_names() -> None:
    assert protocol_name(extended=False, utf8=False, tls=True, authenticated=True) == "SMTP"
    assert protocol_name(extended=True, utf8=False, tls=False, authenticated=False) == "ESMTP"
    assert protocol_name(extended=True, utf8=False, tls=True, authenticated=False) == "ESMTPS"
    assert protocol_name(extended=True, utf8=False, tls=True, authenticated=True) == "ESMTPSA"
    assert protocol_name(extended=True, utf8=True, tls=True, authenticated=True) == "UTF8SMTPSA"


def test_aiosmtpd_lines_get_enhanced_codes() -> None:
    assert completed("250 OK") == "250 2.0.0 Ok"
    assert completed("501 Syntax: MAIL FROM: <address>") == "501 5.5.4 Syntax: MAIL FROM: <address>"
    assert completed("553 5.1.3 Error: malformed address") == "553 5.1.3 Error: malformed address"
    assert completed("250-SIZE 1000") == "250-SIZE 1000"  # EHLO lines carry none
    assert completed("220 mx.ac-amiens.fr ESMTP") == "220 mx.ac-amiens.fr ESMTP"


def test_the_completed_lines_exist_in_aiosmtpd() -> None:
    """A new aiosmtpd that rewords its replies must be noticed here."""
    from academail.smtp import replies

    source = Path(aiosmtpd.smtp.__file__).read_text()
    source = re.sub(r"['\"]\s*\n\s*['\"]", "", source)  # adjacent literals joined
    for line in replies._EXACT:  # noqa: SLF001 - the table under test
        text = re.sub(r"send (?:HELO|EHLO) first", "send {helo} first", line.split(" ", 1)[1])
        assert text in source, line


def test_stage_reasons_become_safe_replies() -> None:
    assert str(rejection("5.4.6 Routing loop detected (boucle)")) == (
        "550 5.4.6 Routing loop detected (boucle)"
    )
    assert str(rejection("Refusé\r\n250 ok")) == "550 5.7.1 Refus???250 ok"
    assert str(rejection("")) == "550 5.7.1 Message refused (message refuse)"


def test_delivery_replies() -> None:
    assert delivery_reply(Routed(LocalOutcome(delivered=["a"]))).code == 250
    assert delivery_reply(Routed(LocalOutcome(), queued=["x@y.fr"])).code == 250
    assert delivery_reply(Routed(LocalOutcome(over_quota={"a": "full"}))) == MAILBOX_FULL
    refused = delivery_reply(Routed(LocalOutcome(rejected={"a": "5.7.1 Non (non)"})))
    assert str(refused) == "550 5.7.1 Non (non)"


def test_ehlo_lines() -> None:
    lines = ["250-mx", "250-SIZE 10", "250-AUTH LOGIN PLAIN", "250 HELP"]
    assert ehlo_lines(list(lines), auth=False) == [
        "250-mx",
        "250-SIZE 10",
        "250-PIPELINING",
        "250-ENHANCEDSTATUSCODES",
        "250 HELP",
    ]
    assert "250-AUTH LOGIN PLAIN" in ehlo_lines(list(lines), auth=True)
