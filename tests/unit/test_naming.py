"""Naming rules: prenom.nom, logins, homonyms, reserved names and RFC 5321 limits."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from academail.core.errors import InvalidInput, LimitReached
from academail.core.text import identifier_part
from academail.identity import naming
from academail.identity.naming import (
    ADDRESS_MAX,
    LOCAL_PART_MAX,
    RESERVED_NAMES,
    address_local_part,
    choose_address_local,
    choose_login,
    fit,
    is_reserved,
    local_part_limit,
    login_base,
    normalise_identifier,
)

ADDRESS = re.compile(r"[a-z0-9]+\.[a-z0-9]+")
LOGIN = re.compile(r"[a-z0-9]+")


def never_taken(_: str) -> bool:
    return False


class Recorder:
    """An ``is_taken`` over a set that remembers what it was asked."""

    def __init__(self, taken: set[str] | None = None) -> None:
        self.taken = taken if taken is not None else set()
        self.calls: list[str] = []

    def __call__(self, candidate: str) -> bool:
        self.calls.append(candidate)
        return candidate in self.taken


def test_exported_names() -> None:
    assert sorted(naming.__all__) == [
        "ADDRESS_MAX",
        "LOCAL_PART_MAX",
        "RESERVED_NAMES",
        "address_local_part",
        "choose_address_local",
        "choose_login",
        "fit",
        "is_reserved",
        "local_part_limit",
        "login_base",
        "normalise_identifier",
    ]


def test_rfc_5321_limits() -> None:
    assert (LOCAL_PART_MAX, ADDRESS_MAX) == (64, 254)


# --- address local part ------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "local"),
    [
        ("Jean-Pierre", "Lefèvre", "jeanpierre.lefevre"),
        ("Anne-Sophie", "Le Goff", "annesophie.legoff"),
        ("Œdipe", "N'Diaye", "oedipe.ndiaye"),
        ("Marie-Thérèse", "de La Fontaine", "marietherese.delafontaine"),
        ("Ævar", "Ørsted", "aevar.orsted"),
        ("Jean-Loïc", "Le Bœuf", "jeanloic.leboeuf"),
        ("Zoë", "Martin", "zoe.martin"),
        ("François", "Dupré", "francois.dupre"),
        ("Hélène", "Crémieux", "helene.cremieux"),
        ("Éléonore", "d'Arc", "eleonore.darc"),
        ("Éléonore", "d’Arc", "eleonore.darc"),
        ("Ségolène", "Royal-Dupont", "segolene.royaldupont"),
        ("José María", "García-Márquez", "josemaria.garciamarquez"),
        ("Sean", "McDonald", "sean.mcdonald"),
        ("Ian", "MacLeod", "ian.macleod"),
        ("Ian", "Mac Leod", "ian.macleod"),
        ("Marie", "O'Connor", "marie.oconnor"),
        ("Noël", "Lœvenbruck", "noel.loevenbruck"),
        ("Jean‑Pierre", "L’Huillier", "jeanpierre.lhuillier"),
        ("Ángel", "Muñoz", "angel.munoz"),
        ("Łukasz", "Wałęsa", "lukasz.walesa"),
        ("Björn", "Þórsson", "bjorn.thorsson"),
        ("Heinz", "Groß", "heinz.gross"),
        ("Ivo", "Đukić", "ivo.dukic"),
        ("Ana", "Ştefănescu", "ana.stefanescu"),
        ("Çağla", "Yılmaz", "cagla.yilmaz"),
        ("Thị", "Nguyễn", "thi.nguyen"),
        ("Antoine", "de Saint-Exupéry", "antoine.desaintexupery"),
        ("Charles", "de Gaulle", "charles.degaulle"),
        ("Jean", "Dupont (née Martin)", "jean.dupontneemartin"),
        ("Jean", "Van der Berg", "jean.vanderberg"),
        ("  Jean  ", "  Dupont\t", "jean.dupont"),
        ("JEAN", "DUPONT", "jean.dupont"),
        ("jEaN", "dUpOnT", "jean.dupont"),
        ("Jean\tPierre", "Du\tPont", "jeanpierre.dupont"),
        ("Jean\u00a0Pierre", "Du\u00a0Pont", "jeanpierre.dupont"),
        ("Louis", "Dupont 2", "louis.dupont2"),
        ("Jean", "Li 李", "jean.li"),
        ("A", "B", "a.b"),
    ],
)
def test_address_local_part(first: str, last: str, local: str) -> None:
    assert address_local_part(first, last) == local


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        ("李", "Dupont", "prénom"),
        ("Ἀθηνᾶ", "Dupont", "prénom"),
        ("", "Dupont", "prénom"),
        ("   ", "Dupont", "prénom"),
        ("-'", "Dupont", "prénom"),
        ("🙂", "Dupont", "prénom"),
        ("Jean", "李小龙", "nom"),
        ("Jean", "Иванов", "nom"),
        ("Jean", "", "nom"),
        ("Jean", "\t", "nom"),
        ("Jean", "---", "nom"),
        ("Jean", "'", "nom"),
        ("李", "Иванов", "prénom"),
    ],
)
def test_names_without_latin_letters_are_refused(first: str, last: str, field: str) -> None:
    for build in (
        lambda: address_local_part(first, last),
        lambda: login_base(first, last, 20),
        lambda: choose_address_local(first, last, never_taken),
        lambda: choose_login(first, last, never_taken, 20),
    ):
        with pytest.raises(InvalidInput) as caught:
            build()
        assert caught.value.message.startswith(f"le {field} ")


def test_refusal_does_not_echo_the_value() -> None:
    long_name = "Иванов-Петров-Сидоров" * 10
    with pytest.raises(InvalidInput) as caught:
        address_local_part("Jean", long_name)
    assert "Иванов" not in caught.value.message
    assert len(caught.value.message) < 80


def test_address_local_part_respects_a_smaller_limit() -> None:
    assert address_local_part("Jean-Pierre", "Lefèvre", max_length=12) == "jeanpierre.l"


# --- login -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "max_length", "login"),
    [
        ("Jean-Pierre", "Lefèvre", 20, "jlefevre"),
        ("Anne-Sophie", "Le Goff", 20, "alegoff"),
        ("Œdipe", "N'Diaye", 20, "ondiaye"),
        ("Ævar", "Ørsted", 20, "aorsted"),
        ("Élodie", "Ézanno", 20, "eezanno"),
        ("Zoë", "Martin", 20, "zmartin"),
        ("  JEAN ", " DUPONT ", 20, "jdupont"),
        ("Marie-Thérèse", "de La Fontaine", 20, "mdelafontaine"),
        ("Marie-Thérèse", "de La Fontaine", 8, "mdelafon"),
        ("Jean", "Dupont", 7, "jdupont"),
        ("Jean", "Dupont", 6, "jdupon"),
        ("Jean", "Dupont", 2, "jd"),
        ("'Jean", "Dupont", 20, "jdupont"),
        ("李 Jean", "Dupont", 20, "jdupont"),
    ],
)
def test_login_base(first: str, last: str, max_length: int, login: str) -> None:
    assert login_base(first, last, max_length) == login


def test_login_needs_room_for_initial_and_one_letter() -> None:
    with pytest.raises(LimitReached):
        login_base("Jean", "Dupont", 1)


# --- fit: RFC 5321 limits --------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "suffix", "limit", "expected"),
    [
        ("jean", "dupont", "", 64, "jean.dupont"),
        ("jean", "dupont", "1", 64, "jean.dupont1"),
        ("jean", "dupont", "", 11, "jean.dupont"),
        ("jean", "dupont", "1", 11, "jean.dupon1"),
        ("jean", "dupont", "12", 9, "jean.du12"),
        # the last name gives way first, down to one character
        ("a" * 40, "b" * 40, "", 64, "a" * 40 + "." + "b" * 23),
        ("a" * 40, "b" * 40, "12", 64, "a" * 40 + "." + "b" * 21 + "12"),
        ("jean", "x" * 70, "1", 64, "jean." + "x" * 58 + "1"),
        # then the first name, down to one character
        ("a" * 70, "b" * 5, "1", 64, "a" * 61 + ".b1"),
        ("a" * 70, "b" * 70, "", 64, "a" * 62 + ".b"),
        ("jean", "dupont", "", 3, "j.d"),
        ("jean", "dupont", "7", 4, "j.d7"),
    ],
)
def test_fit_address(first: str, last: str, suffix: str, limit: int, expected: str) -> None:
    assert fit(first, last, suffix, limit) == expected
    assert len(expected) <= limit


@pytest.mark.parametrize(
    ("last", "suffix", "limit", "expected"),
    [
        ("dupont", "", 20, "jdupont"),
        ("dupont", "", 4, "jdup"),
        ("dupont", "1", 4, "jdu1"),
        ("dupont", "10", 4, "jd10"),
        ("dupont", "", 2, "jd"),
    ],
)
def test_fit_login(last: str, suffix: str, limit: int, expected: str) -> None:
    assert fit("j", last, suffix, limit, separator="") == expected


@pytest.mark.parametrize(
    ("suffix", "limit", "separator"),
    [("", 2, "."), ("1", 3, "."), ("", 1, ""), ("1", 2, ""), ("123", 4, "")],
)
def test_fit_refuses_to_drop_a_part_or_the_suffix(suffix: str, limit: int, separator: str) -> None:
    with pytest.raises(LimitReached):
        fit("jean", "dupont", suffix, limit, separator=separator)


def test_seventy_character_last_name_keeps_its_suffix_within_64() -> None:
    last = "Dupont-Durand-Lefèvre-de-La-Fontaine-Saint-Exupéry-Montmorency-Laval"
    assert len(last) >= 65
    taken = {address_local_part("Jean", last)}
    local = choose_address_local("Jean", last, taken.__contains__)
    assert len(local) == LOCAL_PART_MAX
    assert local.startswith("jean.dupontdurandlefevre")
    assert local.endswith("1")
    assert ADDRESS.fullmatch(local)


def test_long_homonyms_stay_distinct_and_within_limit() -> None:
    taken: set[str] = set()
    for _ in range(15):
        taken.add(choose_address_local("Jean", "x" * 70, taken.__contains__))
    assert len(taken) == 15
    assert all(len(local) <= LOCAL_PART_MAX for local in taken)
    assert "jean." + "x" * 57 + "14" in taken


@pytest.mark.parametrize(
    ("domain", "limit"),
    [("ac-amiens.fr", 64), ("a" * 189, 64), ("a" * 190, 63), ("a" * 200, 53), ("a" * 250, 3)],
)
def test_local_part_limit_keeps_the_address_within_254(domain: str, limit: int) -> None:
    assert local_part_limit(domain) == limit
    local = choose_address_local("Jean", "x" * 300, {"x"}.__contains__, max_length=limit)
    assert len(f"{local}@{domain}") <= ADDRESS_MAX


@pytest.mark.parametrize("domain", ["a" * 251, "a" * 300])
def test_local_part_limit_refuses_an_absurd_domain(domain: str) -> None:
    with pytest.raises(InvalidInput):
        local_part_limit(domain)


# --- homonyms --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("taken", "expected"),
    [
        (set(), "jean.dupont"),
        ({"jean.dupont"}, "jean.dupont1"),
        ({"jean.dupont", "jean.dupont1"}, "jean.dupont2"),
        ({"jean.dupont", "jean.dupont1", "jean.dupont2"}, "jean.dupont3"),
        ({"jean.dupont", "jean.dupont2"}, "jean.dupont1"),
        ({"jean.dupont1"}, "jean.dupont"),
        ({"jean.dupont", "jean.dupont0"}, "jean.dupont1"),
        ({"jeanne.dupont", "jdupont"}, "jean.dupont"),
    ],
)
def test_address_homonyms_get_the_lowest_free_suffix(taken: set[str], expected: str) -> None:
    assert choose_address_local("Jean", "Dupont", taken.__contains__) == expected


def test_a_chain_of_twelve_jean_dupont() -> None:
    taken: set[str] = set()
    given_out = []
    for _ in range(12):
        local = choose_address_local("Jean", "Dupont", taken.__contains__)
        taken.add(local)
        given_out.append(local)
    assert given_out == ["jean.dupont"] + [f"jean.dupont{n}" for n in range(1, 12)]


def test_first_suffix_two_never_proposes_one() -> None:
    is_taken = Recorder({"jean.dupont"})
    assert choose_address_local("Jean", "Dupont", is_taken, first_suffix=2) == "jean.dupont2"
    assert is_taken.calls == ["jean.dupont", "jean.dupont2"]


def test_first_suffix_two_chain() -> None:
    taken = {"jean.dupont", "jean.dupont2", "jean.dupont3"}
    assert choose_address_local("Jean", "Dupont", taken.__contains__, 2) == "jean.dupont4"


def test_first_suffix_zero() -> None:
    assert choose_address_local("Jean", "Dupont", {"jean.dupont"}.__contains__, 0) == (
        "jean.dupont0"
    )


def test_negative_first_suffix_is_refused() -> None:
    with pytest.raises(InvalidInput):
        choose_address_local("Jean", "Dupont", never_taken, first_suffix=-1)


def test_is_taken_is_asked_in_order_and_stops_at_the_first_free() -> None:
    is_taken = Recorder({"jean.dupont", "jean.dupont1", "jean.dupont2"})
    assert choose_address_local("Jean", "Dupont", is_taken) == "jean.dupont3"
    assert is_taken.calls == ["jean.dupont", "jean.dupont1", "jean.dupont2", "jean.dupont3"]


def test_is_taken_is_asked_lowercase_candidates() -> None:
    is_taken = Recorder({"jean.dupont", "jdupont"})
    choose_address_local("JEAN", "DUPONT", is_taken)
    choose_login("JEAN", "DUPONT", is_taken, 20)
    assert is_taken.calls == ["jean.dupont", "jean.dupont1", "jdupont", "jdupont1"]


def test_an_identifier_of_a_departed_agent_is_not_given_again() -> None:
    live: set[str] = set()
    history = {"jean.dupont", "jdupont"}  # Jean Dupont left; his account was deleted

    def ever_given(candidate: str) -> bool:
        return candidate in live or candidate in history

    assert choose_address_local("Jean", "Dupont", ever_given) == "jean.dupont1"
    assert choose_login("Jean", "Dupont", ever_given, 20) == "jdupont1"


def test_login_and_address_suffixes_are_independent() -> None:
    addresses: set[str] = set()
    logins: set[str] = set()
    people = [("Jean", "Dupont"), ("Jeanne", "Dupont"), ("Jeanne", "Dupont"), ("Julie", "Dupont")]
    given_out = []
    for first, last in people:
        address = choose_address_local(first, last, addresses.__contains__)
        login = choose_login(first, last, logins.__contains__, 20)
        addresses.add(address)
        logins.add(login)
        given_out.append((address, login))
    assert given_out == [
        ("jean.dupont", "jdupont"),
        ("jeanne.dupont", "jdupont1"),
        ("jeanne.dupont1", "jdupont2"),
        ("julie.dupont", "jdupont3"),
    ]


def test_login_homonyms_within_max_length() -> None:
    taken: set[str] = set()
    logins = []
    for _ in range(12):
        login = choose_login("Jean", "Dupont-Durand", taken.__contains__, 8)
        taken.add(login)
        logins.append(login)
    assert logins[:3] == ["jdupontd", "jdupont1", "jdupont2"]
    assert logins[10:] == ["jdupon10", "jdupon11"]
    assert all(len(login) <= 8 for login in logins)


def test_login_first_suffix_two() -> None:
    assert choose_login("Jean", "Dupont", {"jdupont"}.__contains__, 20, 2) == "jdupont2"


def test_a_broken_is_taken_ends_with_limit_reached() -> None:
    with pytest.raises(LimitReached):
        choose_address_local("Jean", "Dupont", lambda _: True)


def test_suffix_that_no_longer_fits_ends_with_limit_reached() -> None:
    with pytest.raises(LimitReached):
        choose_login("Jean", "Dupont", {"jd", "jd1"}.__contains__, 2)


# --- reserved names --------------------------------------------------------------

REQUIRED_RESERVED = [
    "postmaster",
    "abuse",
    "root",
    "admin",
    "administrateur",
    "administrator",
    "hostmaster",
    "webmaster",
    "mailer-daemon",
    "noreply",
    "no-reply",
    "nobody",
    "security",
    "securite",
    "support",
    "assistance",
    "helpdesk",
    "info",
    "contact",
    "rectorat",
    "dsden",
    "secretariat",
    "list",
    "listes",
    "daemon",
    "system",
    "test",
]


def test_reserved_names_hold_the_required_ones() -> None:
    assert set(REQUIRED_RESERVED) <= RESERVED_NAMES
    assert all(name == name.lower().strip() for name in RESERVED_NAMES)
    assert isinstance(RESERVED_NAMES, frozenset)


@pytest.mark.parametrize(
    "local",
    [
        *REQUIRED_RESERVED,
        "dsden80",
        "dsden02",
        "dsden60",
        "dsden.somme",
        "ce.0801234a",
        "ce.0600001a",
        "ce.rectorat",
        "ce.dsden80",
        "ce.anything",
        "ia80",
        "ia02",
        "ia60",
        "ia1",
        "Postmaster",
        " POSTMASTER ",
        "Ce.0801234A",
        "post.master",
        "mailer.daemon",
        "mailerdaemon",
        "no.reply",
        "web.master",
        "ad.min",
        "ne-pas-repondre",
    ],
)
def test_is_reserved(local: str) -> None:
    assert is_reserved(local)


@pytest.mark.parametrize(
    "local",
    [
        "jean.dupont",
        "jdupont",
        "ia",
        "iadupont",
        "ia80a",
        "ce",
        "cedric.martin",
        "celine.dupont",
        "jean.ce",
        "info.dupont",
        "jean.postmaster",
        "testard",
        "tests",
        "admin1",
        "post.master1",
        "ds.den1",
        "rootes",
        "lister",
        "",
    ],
)
def test_is_not_reserved(local: str) -> None:
    assert not is_reserved(local)


@pytest.mark.parametrize(
    ("first", "last", "login"),
    [
        ("Thomas", "Est", "test1"),
        ("Alice", "Dmin", "admin1"),
        ("Rémi", "Oot", "root1"),
        ("Inès", "Nfo", "info1"),
        ("Léa", "Ist", "list1"),
        ("Noé", "Obody", "nobody1"),
    ],
)
def test_reserved_login_is_skipped_as_if_taken(first: str, last: str, login: str) -> None:
    is_taken = Recorder()
    assert choose_login(first, last, is_taken, 20) == login
    assert is_taken.calls == [login]  # the reserved one is never even asked


@pytest.mark.parametrize(
    ("first", "last", "local"),
    [
        ("Post", "Master", "post.master1"),
        ("Web", "Master", "web.master1"),
        ("No", "Reply", "no.reply1"),
    ],
)
def test_reserved_address_is_skipped_as_if_taken(first: str, last: str, local: str) -> None:
    assert choose_address_local(first, last, never_taken) == local


def test_a_person_never_gets_an_establishment_address() -> None:
    # The whole ce.* namespace belongs to establishments: no suffix can help,
    # the account needs a manual decision; is_taken is never consulted.
    is_taken = Recorder()
    with pytest.raises(LimitReached):
        choose_address_local("Ce", "Rectorat", is_taken)
    with pytest.raises(LimitReached):
        choose_address_local("Cé", "0801234A", is_taken)
    assert is_taken.calls == []
    assert choose_login("Ce", "Rectorat", is_taken, 20) == "crectorat"


def test_login_swallowed_by_a_functional_namespace() -> None:
    assert choose_login("Isabelle", "A", never_taken, 20) == "ia"
    with pytest.raises(LimitReached):
        choose_login("Isabelle", "A", {"ia"}.__contains__, 20)
    with pytest.raises(LimitReached):
        choose_login("Dominique", "Sden", never_taken, 20)


# --- sign-in identifier ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Jean.Dupont@AC-AMIENS.FR ", "jean.dupont@ac-amiens.fr"),
        ("  JDupont\t", "jdupont"),
        ("jdupont", "jdupont"),
        ("\njean.dupont@ac-amiens.fr\r\n", "jean.dupont@ac-amiens.fr"),
        ("\u00a0jdupont\u00a0", "jdupont"),
        ("j dupont", "j dupont"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalise_identifier(raw: str, normalised: str) -> None:
    assert normalise_identifier(raw) == normalised


@given(st.text())
def test_normalise_identifier_is_idempotent(raw: str) -> None:
    once = normalise_identifier(raw)
    assert normalise_identifier(once) == once
    assert once == once.strip()


# --- properties ------------------------------------------------------------------


@given(st.text(), st.text(), st.integers(min_value=3, max_value=LOCAL_PART_MAX))
def test_address_is_refused_or_well_formed(first: str, last: str, limit: int) -> None:
    try:
        local = address_local_part(first, last, limit)
    except InvalidInput:
        assert not identifier_part(first) or not identifier_part(last)
        return
    assert ADDRESS.fullmatch(local)
    assert len(local) <= limit
    assert address_local_part(*local.split("."), max_length=limit) == local


@given(st.text(), st.text(), st.integers(min_value=2, max_value=40))
def test_login_is_refused_or_well_formed(first: str, last: str, limit: int) -> None:
    try:
        login = login_base(first, last, limit)
    except InvalidInput:
        assert not identifier_part(first) or not identifier_part(last)
        return
    assert LOGIN.fullmatch(login)
    assert len(login) <= limit
    assert login[0] == identifier_part(first)[0]


@given(
    st.text(min_size=1, max_size=80),
    st.text(min_size=1, max_size=80),
    st.integers(min_value=0, max_value=30),
    st.integers(min_value=0, max_value=2),
)
def test_choose_skips_every_refused_candidate(
    first: str, last: str, refusals: int, first_suffix: int
) -> None:
    refused: list[str] = []

    def is_taken(candidate: str) -> bool:
        if len(refused) < refusals:
            refused.append(candidate)
            return True
        return False

    try:
        local = choose_address_local(first, last, is_taken, first_suffix)
    except InvalidInput:
        return
    except LimitReached:
        assert address_local_part(first, last).startswith("ce.")
        return
    assert ADDRESS.fullmatch(local)
    assert len(local) <= LOCAL_PART_MAX
    assert local not in refused
    assert not is_reserved(local)
    assert len(set(refused)) == len(refused)


# Short names that never need truncating, so the expected order is easy to spell.
SAMPLE_NAMES = [
    ("Jean", "Dupont", "jean.dupont", "jdupont"),
    ("Ce", "Rectorat", "ce.rectorat", "crectorat"),
    ("Post", "Master", "post.master", "pmaster"),
    ("Thomas", "Est", "thomas.est", "test"),
    ("Alice", "Dmin", "alice.dmin", "admin"),
    ("Isabelle", "A", "isabelle.a", "ia"),
]


def _expected(base: str, taken: set[str], first_suffix: int) -> str | None:
    for suffix in ["", *map(str, range(first_suffix, first_suffix + 100))]:
        candidate = base + suffix
        if candidate not in taken and not is_reserved(candidate):
            return candidate
    return None  # a reserved namespace swallows every suffix


def _check_choice(
    choose: Callable[[Callable[[str], bool], int], str],
    base: str,
    suffixes: set[int],
    first_suffix: int,
) -> None:
    taken = {base if n < 0 else f"{base}{n}" for n in suffixes}
    expected = _expected(base, taken, first_suffix)
    if expected is None:
        with pytest.raises(LimitReached):
            choose(taken.__contains__, first_suffix)
        return
    chosen = choose(taken.__contains__, first_suffix)
    assert chosen == expected
    assert chosen not in taken
    assert not is_reserved(chosen)


@given(
    st.sampled_from(SAMPLE_NAMES),
    st.sets(st.integers(min_value=-1, max_value=25)),
    st.integers(min_value=0, max_value=3),
)
def test_choose_address_never_returns_taken_or_reserved(
    name: tuple[str, str, str, str], suffixes: set[int], first_suffix: int
) -> None:
    first, last, base, _ = name
    _check_choice(
        lambda is_taken, start: choose_address_local(first, last, is_taken, start),
        base,
        suffixes,
        first_suffix,
    )


@given(
    st.sampled_from(SAMPLE_NAMES),
    st.sets(st.integers(min_value=-1, max_value=25)),
    st.integers(min_value=0, max_value=3),
)
def test_choose_login_never_returns_taken_or_reserved(
    name: tuple[str, str, str, str], suffixes: set[int], first_suffix: int
) -> None:
    first, last, _, base = name
    _check_choice(
        lambda is_taken, start: choose_login(first, last, is_taken, 20, start),
        base,
        suffixes,
        first_suffix,
    )
