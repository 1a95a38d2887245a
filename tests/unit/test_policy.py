"""Password policy: French golden table, profiles, personal data, history, expiry."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import string
import time
from pathlib import Path
from typing import Any

import pytest
import zxcvbn
from hypothesis import given, settings
from hypothesis import strategies as st

from academail.identity import policy as policy_module
from academail.identity.french_words import (
    COMMON_WORDS,
    DICTIONARY_RANK,
    dictionary_words,
    fold_word,
    ranked_words,
)
from academail.identity.policy import (
    PROFILES,
    AgentFacts,
    ExpiryState,
    ExpiryStatus,
    PasswordPolicy,
    Violation,
    ViolationCode,
    check_password,
    expiry_state,
    rules_for_display,
    strength_score,
)

V = ViolationCode
ACADEMIE = PROFILES["academie"]
ANSSI = PROFILES["anssi"]
JEANNE = AgentFacts(
    first_name="Jeanne",
    usage_name="Dupont",
    birth_name="Martin-Lefèvre",
    login="jdupont",
    numen="12E9312345ABC",
    birth_date=dt.date(1980, 3, 12),
)
NOBODY = AgentFacts(
    first_name="Yvonne",
    usage_name="Quaresma",
    birth_name="Quaresma",
    login="yquaresma",
    numen="01A9987654XYZ",
    birth_date=dt.date(1961, 11, 27),
)
MISSING_LIST = Path("/nonexistent/academail/french")


def codes(password: str, policy: PasswordPolicy = ACADEMIE, facts: AgentFacts = JEANNE) -> list[V]:
    return [violation.code for violation in check_password(password, policy, facts)]


# --- profiles and settings ------------------------------------------------------------


def test_academie_defaults_are_the_charter() -> None:
    assert PasswordPolicy() == PasswordPolicy.academie() == ACADEMIE
    assert dataclasses.astuple(ACADEMIE) == (12, 3, True, 3, 5, 180, 15)


def test_anssi_profile_drops_composition_and_rotation_but_not_strength() -> None:
    assert ANSSI == PasswordPolicy.anssi()
    assert (ANSSI.min_classes, ANSSI.expiry_days) == (0, 0)
    assert ANSSI.min_length == 15
    assert ANSSI.min_score == ACADEMIE.min_score
    assert ANSSI.history == ACADEMIE.history
    assert ANSSI.ascii_only


@pytest.mark.parametrize(
    "changes",
    [
        {"min_length": 0},
        {"min_classes": 5},
        {"min_classes": -1},
        {"min_score": 5},
        {"history": -1},
        {"expiry_days": -1},
        {"warn_days": -3},
    ],
)
def test_impossible_settings_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        PasswordPolicy(**changes)


def test_policy_and_facts_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ACADEMIE.min_length = 4  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        JEANNE.numen = None  # type: ignore[misc]


def test_agent_facts_repr_hides_numen_and_birth_date() -> None:
    shown = repr(JEANNE)
    assert "12E9312345ABC" not in shown
    assert "1980" not in shown
    assert "Jeanne" in shown


# --- the golden table: French passwords under the académie default ---------------------

GOLDEN = [
    ("motdepasse", [V.TOO_SHORT, V.FEW_CLASSES, V.TOO_WEAK]),
    ("MotDePasse2026!", [V.TOO_WEAK]),
    ("Azerty123456!", [V.TOO_WEAK]),
    ("Bonjour2024!!", [V.TOO_WEAK]),
    ("Soleil2025!Xx", [V.TOO_WEAK]),
    ("Marseille13!!", [V.TOO_WEAK]),
    ("Academie2026!", [V.TOO_WEAK]),
    ("P@ssw0rd2026!", [V.TOO_WEAK]),
    ("Azertyuiop1!", [V.TOO_WEAK]),
    ("Chouchou2026?", [V.TOO_WEAK]),
    ("Hélène1985...", [V.NON_ASCII, V.TOO_WEAK]),
    ("Jeanne.Dupont1980", [V.TOO_WEAK, V.PERSONAL_DATA]),
    ("aaaaaaaaaaaaaaaa", [V.FEW_CLASSES, V.TOO_WEAK]),
    ("Abcdefgh1234!", [V.TOO_WEAK]),
    ("cheval-batterie-agrafe-correct", [V.FEW_CLASSES]),
    ("Cheval-Batterie-Agrafe-7", []),
    ("gT5%rW2!qZ8#", []),
    ("Zorglub!88-Blop", []),
    ("Brume.Tulipe.Orque.82", []),
    ("Le chat dort sur 3 coussins", []),
]


@pytest.mark.parametrize(("password", "expected"), GOLDEN, ids=[row[0] for row in GOLDEN])
def test_golden_table_academie(password: str, expected: list[V]) -> None:
    assert codes(password) == expected


def test_zxcvbn_alone_would_accept_what_the_french_estimate_refuses() -> None:
    """The premise of the French lists: plain zxcvbn rates these 3 or more."""
    for password in ("MotDePasse2026!", "Azerty123456!", "Bonjour2024!!", "Chouchou2026?"):
        assert zxcvbn.zxcvbn(password)["score"] >= 3, password
        assert strength_score(password) < 3, password


def test_empty_result_means_accepted_and_messages_are_french() -> None:
    refused = check_password("motdepasse", ACADEMIE, JEANNE)
    assert refused == [
        Violation(V.TOO_SHORT, "au moins 12 caractères"),
        Violation(
            V.FEW_CLASSES,
            "au moins 3 types de caractères parmi : minuscules, majuscules, chiffres, symboles",
        ),
        Violation(V.TOO_WEAK, "trop facile à deviner (mot courant, suite, date…)"),
    ]
    assert check_password("Cheval-Batterie-Agrafe-7", ACADEMIE, JEANNE) == []


def test_non_ascii_message_and_space_allowed() -> None:
    violations = check_password("Hélène1985...", ACADEMIE, NOBODY)
    assert violations[0] == Violation(
        V.NON_ASCII, "pas de caractères accentués ni spéciaux hors ASCII"
    )
    assert V.NON_ASCII not in codes("Le chat dort sur 3 coussins")
    for bad in ("Tab\there-Xq9!zz", "Ligne\nXq9!zzzzz", "Espace\u00a0Xq9!zz", "Œuvre-Xq9!zzzz"):
        assert V.NON_ASCII in codes(bad), repr(bad)


def test_control_characters_refused_even_when_unicode_is_allowed() -> None:
    unicode_ok = dataclasses.replace(ANSSI, ascii_only=False)
    assert V.NON_ASCII not in codes("Élève-Pivoine-Quartz-73", unicode_ok)
    assert V.NON_ASCII in codes("Élève-Pivoine\x00Quartz-73", unicode_ok)
    assert rules_for_display(unicode_ok)[1] == (
        V.NON_ASCII,
        "pas de caractères de contrôle ni invisibles",
    )


def test_accents_do_not_hide_a_common_word_when_unicode_is_allowed() -> None:
    unicode_ok = dataclasses.replace(ACADEMIE, ascii_only=False)
    assert codes("Éducation2026!", unicode_ok) == [V.TOO_WEAK]


@pytest.mark.parametrize(
    ("password", "classes"),
    [
        ("abcdefghijkl", 1),
        ("abcdefGHIJKL", 2),
        ("abcdef123456", 2),
        ("abc def ghij", 2),  # a space is a symbol
        ("abcDEF123456", 3),
        ("abcDEF123!!!", 4),
    ],
)
def test_class_counting(password: str, classes: int) -> None:
    for minimum in range(5):
        policy = PasswordPolicy(min_classes=minimum, min_score=0)
        assert (V.FEW_CLASSES in codes(password, policy, NOBODY)) == (classes < minimum)


# --- académie versus anssi --------------------------------------------------------------


def test_long_lowercase_passphrase_anssi_yes_academie_no() -> None:
    passphrase = "cheval-batterie-agrafe-correct"
    assert codes(passphrase, ANSSI) == []
    assert codes(passphrase, ACADEMIE) == [V.FEW_CLASSES]
    spaced = "lundi soleil sur la dune bleue"
    assert codes(spaced, ANSSI) == []
    assert codes(spaced, ACADEMIE) == [V.FEW_CLASSES]


def test_anssi_wants_fifteen_characters_and_still_strength() -> None:
    assert codes("gT5%rW2!qZ8#", ANSSI) == [V.TOO_SHORT]
    assert codes("motdepassemotdepasse", ANSSI) == [V.TOO_WEAK]
    assert codes("azertyuiopqsdfghjklm", ANSSI) == [V.TOO_WEAK]


def test_random_strong_passwords_are_accepted() -> None:
    rng = random.Random(2026)
    alphabet = string.ascii_letters + string.digits + "!#$%&*+-.:=?@_"
    for _ in range(40):
        password = "".join(rng.choice(alphabet) for _ in range(16))
        if policy_module._class_count(password) < 3:
            continue
        assert codes(password) == [], password


# --- personal data ----------------------------------------------------------------------

PERSONAL = [
    "Jeanne.Dupont1980",
    "jEaNnE-xq7!Tz9#",
    "Xq9!rT2#Lefevre",
    "Xq9!rT2#MARTIN",
    "J3anne!Zorglub88",
    "Dup0nt!Zorglub88",
    "Mart1n!Zorglub88",
    "Xq9!rT2#1efevre",
    "Xq9!tnopud#Tz",
    "Qx!jdupont#77",
    "Zx!12E9312345ABC",
    "zx!12e93-12345abc",
    "Zorglub!12345ABC",
    "Tr4vail-12/03/80",
    "Zorglub!12031980",
    "Zorglub!19800312",
    "Zorglub!1980-Bx",
    "Zorglub!120380",
    "Zorglub!12.03.1980",
]


@pytest.mark.parametrize("password", PERSONAL)
def test_personal_data_refused_for_its_owner_only(password: str) -> None:
    assert V.PERSONAL_DATA in codes(password, ANSSI, JEANNE)
    assert V.PERSONAL_DATA not in codes(password, ANSSI, NOBODY)


def test_personal_data_message_names_no_datum() -> None:
    found = [
        v for v in check_password("Zx!12E9312345ABC", ACADEMIE, JEANNE) if v.code is V.PERSONAL_DATA
    ]
    assert found == [
        Violation(
            V.PERSONAL_DATA,
            "ne doit pas contenir votre nom, identifiant, NUMEN ou date de naissance",
        )
    ]


def test_digits_far_apart_are_not_a_birth_date() -> None:
    assert V.PERSONAL_DATA not in codes("Tr4vail-19-Lundi-80", ANSSI, JEANNE)
    assert V.PERSONAL_DATA not in codes("Zorglub!1981-Bx", ANSSI, JEANNE)


def test_short_names_and_particles_are_not_checked() -> None:
    facts = AgentFacts(
        first_name="Li", usage_name="Van der Berg", birth_name="des Lauriers", login="lvanderberg"
    )
    assert V.PERSONAL_DATA not in codes("Caravane-Wonder-des-Li-42", ANSSI, facts)
    assert V.PERSONAL_DATA in codes("Xq9!Lauriers#Tz", ANSSI, facts)
    assert V.PERSONAL_DATA in codes("Xq9!Berg#Tz-Zorglub", ANSSI, facts)
    assert V.PERSONAL_DATA in codes("Xq9!VanDerBerg#Tz", ANSSI, facts)
    single = AgentFacts(first_name="Des", usage_name="", birth_name="", login="")
    assert V.PERSONAL_DATA in codes("Caravane-des-Mers-42", ANSSI, single)


def test_missing_facts_are_ignored() -> None:
    facts = AgentFacts(first_name="", usage_name="", birth_name="", login="")
    assert codes("Cheval-Batterie-Agrafe-7", ACADEMIE, facts) == []


# --- history --------------------------------------------------------------------------


class History:
    def __init__(self, *previous: str) -> None:
        self.previous = set(previous)
        self.asked: list[str] = []

    def __call__(self, password: str) -> bool:
        self.asked.append(password)
        return password in self.previous


def test_reused_password_refused_with_count_in_message() -> None:
    history = History("Cheval-Batterie-Agrafe-7")
    assert check_password("Cheval-Batterie-Agrafe-7", ACADEMIE, JEANNE, history) == [
        Violation(V.REUSED, "ne doit pas être l'un de vos 5 derniers mots de passe")
    ]
    three = dataclasses.replace(ACADEMIE, history=3)
    (reused,) = check_password("Cheval-Batterie-Agrafe-7", three, JEANNE, history)
    assert reused.message == "ne doit pas être l'un de vos 3 derniers mots de passe"


def test_new_password_passes_history() -> None:
    history = History("Cheval-Batterie-Agrafe-7")
    assert check_password("Zorglub!88-Blop", ACADEMIE, JEANNE, history) == []
    assert history.asked == ["Zorglub!88-Blop"]


def test_history_is_asked_only_when_everything_else_passed() -> None:
    history = History("motdepasse")
    assert V.REUSED not in codes_with(history, "motdepasse")
    assert history.asked == []


def test_history_zero_never_asks() -> None:
    history = History("Cheval-Batterie-Agrafe-7")
    policy = dataclasses.replace(ACADEMIE, history=0)
    assert check_password("Cheval-Batterie-Agrafe-7", policy, JEANNE, history) == []
    assert history.asked == []


def codes_with(history: History, password: str) -> list[V]:
    return [v.code for v in check_password(password, ACADEMIE, JEANNE, history)]


# --- rules for display ------------------------------------------------------------------


def test_rules_for_display_academie() -> None:
    assert rules_for_display(ACADEMIE) == [
        (V.TOO_SHORT, "au moins 12 caractères"),
        (
            V.FEW_CLASSES,
            "au moins 3 types de caractères parmi : minuscules, majuscules, chiffres, symboles",
        ),
        (V.NON_ASCII, "pas de caractères accentués ni spéciaux hors ASCII"),
        (V.TOO_WEAK, "trop facile à deviner (mot courant, suite, date…)"),
        (
            V.PERSONAL_DATA,
            "ne doit pas contenir votre nom, identifiant, NUMEN ou date de naissance",
        ),
        (V.REUSED, "ne doit pas être l'un de vos 5 derniers mots de passe"),
    ]


def test_rules_for_display_follows_the_settings() -> None:
    anssi = dict(rules_for_display(ANSSI))
    assert V.FEW_CLASSES not in anssi
    assert anssi[V.TOO_SHORT] == "au moins 15 caractères"
    bare = PasswordPolicy(min_classes=1, min_score=0, history=0)
    assert [code for code, _ in rules_for_display(bare)] == [
        V.TOO_SHORT,
        V.FEW_CLASSES,
        V.NON_ASCII,
        V.PERSONAL_DATA,
    ]
    assert dict(rules_for_display(bare))[V.FEW_CLASSES].startswith("au moins 1 type de ")


def test_violation_codes_are_stable_strings() -> None:
    assert [code.value for code in V] == [
        "too_short",
        "few_classes",
        "non_ascii",
        "too_weak",
        "personal_data",
        "reused",
    ]


# --- properties -------------------------------------------------------------------------

POLICIES = st.builds(
    PasswordPolicy,
    min_length=st.integers(1, 40),
    min_classes=st.integers(0, 4),
    ascii_only=st.booleans(),
    min_score=st.integers(0, 4),
    history=st.integers(0, 10),
)


@settings(max_examples=150, deadline=None)
@given(password=st.text(max_size=90), policy=POLICIES)
def test_check_never_raises_and_messages_come_from_the_catalogue(
    password: str, policy: PasswordPolicy
) -> None:
    violations = check_password(password, policy, JEANNE, lambda _: True)
    catalogue = dict(rules_for_display(policy))
    assert [v.code for v in violations] == sorted({v.code for v in violations}, key=list(V).index)
    for violation in violations:
        assert catalogue[violation.code] == violation.message
        assert "12E9312345ABC" not in violation.message
        if len(password) >= 4 and password not in " ".join(catalogue.values()):
            assert password not in violation.message


@settings(max_examples=60, deadline=None)
@given(password=st.text(alphabet=string.printable, min_size=12, max_size=64))
def test_ascii_policy_verdict_matches_its_rules(password: str) -> None:
    found = codes(password, ACADEMIE, NOBODY)
    assert (V.TOO_SHORT in found) == (len(password) < 12)
    assert (V.NON_ASCII in found) == any(c not in string.printable[:95] for c in password)


# --- cost bounds ------------------------------------------------------------------------


def test_only_the_first_64_characters_reach_zxcvbn(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    original = policy_module._matches

    def spy(password: str, *args: object) -> object:
        seen.append(password)
        return original(password, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(policy_module, "_matches", spy)
    strength_score("Zorglub!88-Blop" * 20)
    assert len(seen[0]) == 64


def test_adversarial_l33t_input_stays_cheap() -> None:
    """zxcvbn's own l33t matcher takes about 600 ms on this string."""
    policy_module.warm_up()
    adversarial = ("!$%(+0123456789<@[{|" * 4)[:64]
    ambiguous = ("7|7|77771|17111||1|7171171||1|11177|11111111||17771171||1||11|1|" * 2)[:64]
    for password in (adversarial, ambiguous, "x" * 100_000):
        started = time.perf_counter()
        check_password(password, ACADEMIE, JEANNE)
        assert time.perf_counter() - started < 0.25


def test_typical_check_is_fast() -> None:
    policy_module.warm_up()
    started = time.perf_counter()
    for password, _ in GOLDEN:
        check_password(password, ACADEMIE, JEANNE)
    assert (time.perf_counter() - started) / len(GOLDEN) < 0.02


def test_l33t_and_reversed_words_are_seen() -> None:
    assert strength_score("P@$$w0rd") == 0
    assert strength_score("M0td3p@ss3") <= 1
    assert strength_score("essapedtom") <= 1  # motdepasse reversed


# --- French word lists ------------------------------------------------------------------


def test_common_words_are_ours_folded_and_unique() -> None:
    assert 200 <= len(COMMON_WORDS) <= 400
    assert len(set(COMMON_WORDS)) == len(COMMON_WORDS)
    assert all(word == fold_word(word) and word.isalnum() for word in COMMON_WORDS)
    for word in ("motdepasse", "azerty", "soleil", "bonjour", "amiens", "picardie", "lycee"):
        assert word in COMMON_WORDS


def test_debian_list_is_optional() -> None:
    assert dictionary_words(MISSING_LIST) == frozenset()
    assert strength_score("MotDePasse2026!", word_list=MISSING_LIST) < 3
    assert strength_score("Cheval-Batterie-Agrafe-7", word_list=MISSING_LIST) >= 3


def test_word_list_is_folded_and_filtered(tmp_path: Path) -> None:
    words = tmp_path / "french"
    words.write_text("Élève\nle\nchat\nabaissâmes\nl'eau\nœuvre\n", encoding="utf-8")
    assert dictionary_words(words) == {"eleve", "chat", "abaissames", "oeuvre"}
    ranks = ranked_words(words)
    assert ranks["abaissames"] == DICTIONARY_RANK
    assert ranks["azerty"] == 1
    assert ranks["motdepasse"] == COMMON_WORDS.index("motdepasse") + 1
    assert ranks["chat"] < DICTIONARY_RANK  # also an English word, with a better rank


def test_a_french_list_lowers_the_score_of_french_words(tmp_path: Path) -> None:
    words = tmp_path / "french"
    words.write_text("pivoine\nbrouette\nardoise\n", encoding="utf-8")
    phrase = "pivoinebrouette"
    assert strength_score(phrase, word_list=words) < strength_score(phrase, word_list=MISSING_LIST)


# --- expiry -----------------------------------------------------------------------------

CHANGED = dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("elapsed", "status", "days_left"),
    [
        (dt.timedelta(0), ExpiryStatus.OK, 180),
        (dt.timedelta(days=100), ExpiryStatus.OK, 80),
        (dt.timedelta(days=165) - dt.timedelta(seconds=1), ExpiryStatus.OK, 16),
        (dt.timedelta(days=165), ExpiryStatus.WARN, 15),
        (dt.timedelta(days=170, hours=12), ExpiryStatus.WARN, 10),
        (dt.timedelta(days=179, hours=21), ExpiryStatus.WARN, 1),
        (dt.timedelta(days=180), ExpiryStatus.EXPIRED, 0),
        (dt.timedelta(days=400), ExpiryStatus.EXPIRED, 0),
    ],
)
def test_expiry_academie(elapsed: dt.timedelta, status: ExpiryStatus, days_left: int) -> None:
    state = expiry_state(CHANGED, CHANGED + elapsed, ACADEMIE)
    assert state == ExpiryState(status, days_left, dt.datetime(2026, 6, 30, 8, 0, tzinfo=dt.UTC))


def test_anssi_passwords_never_expire() -> None:
    much_later = CHANGED + dt.timedelta(days=3650)
    assert expiry_state(CHANGED, much_later, ANSSI) == ExpiryState(ExpiryStatus.OK, None, None)


def test_expiry_in_paris_time_is_the_same_instant() -> None:
    paris = dt.timezone(dt.timedelta(hours=2))
    now = (CHANGED + dt.timedelta(days=170)).astimezone(paris)
    assert expiry_state(CHANGED, now, ACADEMIE).days_left == 10


def test_expiry_needs_aware_times() -> None:
    with pytest.raises(ValueError):
        expiry_state(CHANGED.replace(tzinfo=None), CHANGED, ACADEMIE)


def test_module_exports() -> None:
    assert sorted(policy_module.__all__) == sorted(
        [
            "PROFILES",
            "ZXCVBN_WINDOW",
            "AgentFacts",
            "ExpiryState",
            "ExpiryStatus",
            "PasswordPolicy",
            "Violation",
            "ViolationCode",
            "check_password",
            "expiry_state",
            "rules_for_display",
            "strength_score",
            "warm_up",
        ]
    )
