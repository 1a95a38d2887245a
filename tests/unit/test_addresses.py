"""The strict address parser: RFC 5321 paths, RFC 5322 mailboxes, and CVE-2023-27043.

Golden tables for the grammar, then properties (hypothesis): formatting and parsing
agree, no display name can change the address, and any input either parses or
raises :class:`AddressError` — never anything else.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from academail.mail.addresses import (
    Address,
    AddressError,
    Mailbox,
    format_mailbox,
    parse_mailbox,
    parse_mailbox_list,
    parse_path,
)

ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"


@pytest.mark.parametrize(
    ("text", "utf8", "expected"),
    [
        ("jeanne.dupont@ac-amiens.fr", False, "jeanne.dupont@ac-amiens.fr"),
        ("Jeanne.Dupont@AC-Amiens.FR", False, "Jeanne.Dupont@AC-Amiens.FR"),
        ("o'neil+ce1@ac-amiens.fr", False, "o'neil+ce1@ac-amiens.fr"),
        ('"jeanne dupont"@ac-amiens.fr', False, '"jeanne dupont"@ac-amiens.fr'),
        ('"jeanne.dupont"@ac-amiens.fr', False, "jeanne.dupont@ac-amiens.fr"),  # needless quotes
        ('"a\\"b"@x.fr', False, '"a\\"b"@x.fr'),
        ("postmaster@[192.0.2.1]", False, "postmaster@[192.0.2.1]"),
        ("postmaster@[IPv6:2001:db8::1]", False, "postmaster@[IPv6:2001:db8::1]"),
        ("hélène@exemple.fr", True, "hélène@exemple.fr"),
        ("eleve@lycée-thuillier.fr", True, "eleve@lycée-thuillier.fr"),
        ("a@xn--lyce-thuillier-fmb.fr", False, "a@xn--lyce-thuillier-fmb.fr"),
    ],
)
def test_paths_that_parse(text: str, utf8: bool, expected: str) -> None:
    assert str(parse_path(text, utf8=utf8)) == expected


@pytest.mark.parametrize(
    ("text", "utf8"),
    [
        ("", False),
        ("jeanne", False),
        ("@ac-amiens.fr", False),
        ("jeanne@", False),
        (".jeanne@x.fr", False),
        ("jeanne.@x.fr", False),
        ("jea..nne@x.fr", False),
        ("a b@x.fr", False),
        ("a@b@x.fr", False),
        ("a@-x.fr", False),
        ("a@x-.fr", False),
        ("a@x_y.fr", False),
        ("a@x..fr", False),
        ("a@x.fr.", False),
        ('"open@x.fr', False),
        ('"a\x01"@x.fr', False),
        ('"a\tb"@x.fr', False),  # no tab in an RFC 5321 quoted string
        ("a@[300.1.1.1]", False),
        ("a@[IPv6:zz::1]", False),
        ("a@[x-tag:foo]", False),  # general address literals are not supported
        ("hélène@exemple.fr", False),  # non-ASCII without SMTPUTF8
        ("a@exémple.fr", False),
        ("a@☃.fr", True),  # not a letter or digit
        ("a\u202e@x.fr", True),  # bidi override
        ("a\u200b@x.fr", True),  # zero-width space
        ("a\udcff@x.fr", True),  # undecodable byte from the wire
        ("x" * 65 + "@x.fr", False),
        ("a@" + ".".join(["x" * 63] * 4), False),  # longer than 255
        ("a@" + "x" * 64 + ".fr", False),  # label over 63
        ("<a@x.fr>", False),
        ("a@x.fr (comment)", False),  # no CFWS in an envelope
        ("@r.fr:a@x.fr", False),
    ],
)
def test_paths_that_do_not(text: str, utf8: bool) -> None:
    with pytest.raises(AddressError):
        parse_path(text, utf8=utf8)


def test_the_local_part_limit_is_a_parameter() -> None:
    long = "srs0=hhh=tt=exemple.org=" + "x" * 60 + "@relais.fr"
    with pytest.raises(AddressError):
        parse_path(long)
    assert str(parse_path(long, max_local=223)) == long


def _addresses(value: str) -> list[str]:
    return [str(m.address) for m in parse_mailbox_list(value)]


@pytest.mark.parametrize(
    ("value", "expected", "name"),
    [
        ("jeanne.dupont@ac-amiens.fr", ["jeanne.dupont@ac-amiens.fr"], None),
        (
            " Jeanne Dupont <jeanne.dupont@ac-amiens.fr> ",
            ["jeanne.dupont@ac-amiens.fr"],
            "Jeanne Dupont",
        ),
        ('"Dupont, Jeanne" <j@x.fr>', ["j@x.fr"], "Dupont, Jeanne"),
        ('"boss@ac-amiens.fr" <evil@x.org>', ["evil@x.org"], "boss@ac-amiens.fr"),
        ("=?utf-8?q?H=C3=A9l=C3=A8ne?= <h@x.fr>", ["h@x.fr"], "=?utf-8?q?H=C3=A9l=C3=A8ne?="),
        ("Hélène Lefèvre <h@x.fr>", ["h@x.fr"], "Hélène Lefèvre"),
        ("John Q. Public <jqp@x.fr>", ["jqp@x.fr"], "John Q . Public"),  # obs-phrase
        ("j@x.fr (Jeanne (la (vraie)))", ["j@x.fr"], None),
        ("(a) j (b) @ (c) x.fr (d)", ["j@x.fr"], None),
        ('"j"@x.fr', ["j@x.fr"], None),
        ("<j@x.fr>", ["j@x.fr"], None),
        ("a@x.fr, B <b@y.fr>,c@z.fr", ["a@x.fr", "b@y.fr", "c@z.fr"], None),
        ("j@[192.0.2.1]", ["j@[192.0.2.1]"], None),
        ("hélène@exemple.fr", ["hélène@exemple.fr"], None),
        ("\tj@x.fr", ["j@x.fr"], None),
    ],
)
def test_mailbox_lists_that_parse(value: str, expected: list[str], name: str | None) -> None:
    assert _addresses(value) == expected
    assert parse_mailbox_list(value)[0].display_name == name


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "boss@ac-amiens.fr <evil@x.org>",  # an unquoted address as display name
        "alice@example.org)<bob@example.org>",  # CVE-2023-27043 examples
        "alice@example.org<bob@example.org>",
        "alice@example.org, <bob@example.org",
        "a@x.fr,,b@y.fr",  # obs-mbox-list empty member
        "a@x.fr,",
        ",a@x.fr",
        "Undisclosed recipients:;",  # groups are not mailboxes
        "G: a@x.fr;",
        "<@route.fr:a@x.fr>",  # obs-route
        "a . b@x.fr",  # obs-local-part
        "a@x . fr",  # obs-domain
        "a@x.fr (open comment",
        "a@x.fr (" + "(" * 40 + ")" * 40 + ")",  # nesting bound
        '"open <a@x.fr>',
        "Jeanne <a@x.fr",
        "Jeanne a@x.fr>",
        "<a@x.fr> <b@y.fr>",
        "Jeanne <> ",
        '"Jeanne\x00" <a@x.fr>',
        '"Jeanne\u202e" <a@x.fr>',
        "Jeanne\u200b <a@x.fr>",
        "a\u00a0b <a@x.fr>",  # no-break space is not white space here
        "x" * 70_000 + "@x.fr",
    ],
)
def test_mailbox_lists_that_do_not(value: str) -> None:
    with pytest.raises(AddressError):
        parse_mailbox_list(value)


def test_one_mailbox_for_sender() -> None:
    assert parse_mailbox("Secrétariat <s@x.fr>") == Mailbox(Address("s", "x.fr"), "Secrétariat")
    with pytest.raises(AddressError):
        parse_mailbox("a@x.fr, b@y.fr")


def test_keys_compare_without_case_or_needless_quotes() -> None:
    assert parse_path("Jeanne.Dupont@AC-Amiens.fr").key == "jeanne.dupont@ac-amiens.fr"
    assert parse_path('"jeanne.dupont"@ac-amiens.fr').key == "jeanne.dupont@ac-amiens.fr"
    assert parse_path('"jeanne dupont"@x.fr').key != parse_path("jeanne.dupont@x.fr").key


def test_format_mailbox_quotes_what_needs_it() -> None:
    address = Address("j", "x.fr")
    assert format_mailbox("Jeanne Dupont", address) == "Jeanne Dupont <j@x.fr>"
    assert format_mailbox('Dupont, "Jeanne"', address) == '"Dupont, \\"Jeanne\\"" <j@x.fr>'
    assert format_mailbox("Lefèvre\r\nBcc: x@y.fr", address) == '"Lefèvre Bcc: x@y.fr" <j@x.fr>'
    assert format_mailbox("", address) == "<j@x.fr>"


# -- properties --------------------------------------------------------------------------
atoms = st.text(alphabet=ATEXT, min_size=1, max_size=12)
dot_locals = st.lists(atoms, min_size=1, max_size=4).map(".".join).filter(lambda s: len(s) <= 64)
quoted_locals = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=40
)
labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?", fullmatch=True)
domains = st.lists(labels, min_size=1, max_size=4).map(".".join)
addresses = st.builds(Address, st.one_of(dot_locals, quoted_locals), domains)


@given(addresses)
def test_a_formatted_path_parses_back(address: Address) -> None:
    assert parse_path(str(address)) == address


@given(st.text(max_size=80), addresses)
def test_no_display_name_changes_the_address(name: str, address: Address) -> None:
    (mailbox,) = parse_mailbox_list(format_mailbox(name, address))
    assert mailbox.address == address


@given(st.lists(st.tuples(st.text(max_size=20), addresses), min_size=1, max_size=5))
def test_a_list_keeps_every_address_in_order(entries: list[tuple[str, Address]]) -> None:
    value = ", ".join(format_mailbox(name, address) for name, address in entries)
    assert [m.address for m in parse_mailbox_list(value)] == [a for _, a in entries]


@given(st.text(max_size=200))
def test_any_text_parses_or_is_refused(text: str) -> None:
    for parse in (parse_mailbox_list, lambda t: parse_path(t, utf8=True)):
        try:
            parse(text)
        except AddressError:
            pass


@given(st.text(alphabet=st.sampled_from(ATEXT + ' "\\()<>@,.:;[]\t'), max_size=60))
def test_what_parses_is_canonical(text: str) -> None:
    try:
        mailboxes = parse_mailbox_list(text)
    except AddressError:
        return
    for mailbox in mailboxes:
        assert parse_mailbox_list(str(mailbox.address))[0].address == mailbox.address
