"""The password policy: which passwords an agent may choose, and when they expire.

A pure module: no database, no clock, no I/O except reading the French word lists
once at first use (:mod:`academail.identity.french_words`). The caller passes the
policy, the agent's facts, the current time and a ``history_check`` that verifies
the previous hashes itself; :func:`check_password` returns every rule that failed
as a typed :class:`Violation` (stable code, French message), so the page that
shows the rules while the agent types and the form that finally accepts the
password give the same answers.

Two profiles (:data:`PROFILES`).

* ``academie`` (the default, what the académie's security charter asks for): at
  least 12 characters, 3 of the 4 character classes, printable ASCII only, a
  zxcvbn score of at least 3 with French words counted, no personal data, none of
  the last 5 passwords, expiry after 180 days with a warning from 15 days before.
* ``anssi``: what the current guidance asks for instead — at least 15 characters,
  the same strength, personal-data and history checks, no composition rule and no
  periodic expiry. ANSSI, *Recommandations relatives à l'authentification
  multifacteur et aux mots de passe* (guide v2.0, October 2021, with the CNIL),
  sizes the password to a risk analysis and its context of use (throttling,
  second factor) and no longer asks ordinary users to renew it periodically;
  NIST SP 800-63B-4 (2025) §3.1.1.2
  says a verifier SHALL NOT impose composition rules nor periodic changes and
  asks 15 characters when the password is the only factor (as for IMAP/SMTP
  here). Composition rules push users to ``Motdepasse1!`` and rotation to
  ``…2026!`` → ``…2027!``, which is why the strength estimate, not the classes,
  does the real work in both profiles. The académie default goes against both
  texts and is kept because it is the charter in force: it is a setting, and
  switching profile is a configuration change, not a code change.

Printable ASCII only (spaces allowed) is kept in both profiles for a different
reason: IMAP ``LOGIN``, SASL ``PLAIN`` and older mail clients disagree on how to
encode non-ASCII passwords (Latin-1, UTF-8, NFC or NFD), so an accented password
that works in the webmail fails in a phone's mail app and locks the account
(dependencies.md, pitfall 7). A deployment that sets ``ascii_only=False`` must
NFKC-normalise passwords before hashing (NIST SP 800-63B-4 §3.1.1.2); control
characters are refused in every case.

Strength. zxcvbn 4.5 knows only English, and its default score gives any
three-piece password (word + digits + symbol) at least 10^8 guesses, i.e. score 3,
whatever the pieces: ``Azerty123456!`` and ``Bonjour2024!!`` pass. So the estimate
here (a) adds our French list, Debian's French words and the agent's own data as
dictionaries, (b) counts years up to 2099 as years (zxcvbn's regex stops at 2019),
and (c) takes the product of the pieces' guesses without zxcvbn's additive
``10^(4·(pieces-1))`` term (its own ``_exclude_additive`` mode), so that a password
is only as strong as its parts.

Cost. Only the first :data:`ZXCVBN_WINDOW` (64) characters are analysed: zxcvbn's
matching and scoring grow with the square of the length, and a longer password is
at least as strong as its prefix, so the cut only makes the estimate stricter.
zxcvbn's l33t matcher re-scans the dictionaries once per substitution set it can
form from the whole password (736 sets, 600 ms, for 64 digits and symbols), and its
repeat matcher calls it again; both are replaced here by bounded versions, which
brings the worst case found by fuzzing to about 30 ms and a typical check to well
under 1 ms. zxcvbn's other matchers and its scoring are called directly with our
dictionary mapping rather than through ``zxcvbn.zxcvbn()``: that function writes
the caller's ``user_inputs`` into a module-level dict (one agent's data visible to
another thread's check) and ``add_frequency_lists`` would mutate the library's
globals; passing the mapping keeps this module free of hidden shared state. These
are zxcvbn 4.5 internals: pin the minor version, and the tests here fail if they
move.

Threats. A stolen hash database cracked offline (strength, no personal data),
the return of a previous, possibly leaked password (history), and a colleague
guessing from what they know (name, login, NUMEN, date of birth). Messages never
echo the password nor the NUMEN; :class:`AgentFacts` keeps the NUMEN and the date
of birth out of its ``repr`` so that they do not reach logs.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from zxcvbn import matching, scoring, time_estimates

from academail.core.text import fold_ascii
from academail.identity.french_words import DEBIAN_FRENCH, fold_word, ranked_words

__all__ = [
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

ZXCVBN_WINDOW = 64
# Distinct substituted characters a l33t word may have (``1nf0rm@t1qu3`` has 4).
_MAX_L33T_CHARS = 4
_MIN_FACT_LENGTH = 3
_YEAR = re.compile(r"(?:19|20)[0-9][0-9]")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_DATE_SEPARATORS = re.compile(r"[\s./_-]+")
_DIGIT_RUN = re.compile(r"[0-9]+")
_LEET_I = str.maketrans("013457@$", "oieastas")
_LEET_L = str.maketrans("013457@$", "oleastas")
_PARTICLES = frozenset({"de", "du", "des", "la", "le", "les", "van", "von", "der", "den", "del"})
_DATE_FORMATS = ("%d%m%Y", "%Y%m%d", "%d%m%y", "%Y")
_GREEDY_REPEAT = re.compile(r"(.+)\1+")
_LAZY_REPEAT = re.compile(r"(.+?)\1+")
_ANCHORED_REPEAT = re.compile(r"^(.+?)\1+$")
# zxcvbn's matchers that take the dictionaries as a parameter and stay cheap.
_ZXCVBN_MATCHERS = (
    matching.dictionary_match,
    matching.reverse_dictionary_match,
    matching.spatial_match,
    matching.sequence_match,
    matching.regex_match,
    matching.date_match,
)


def _unleet_table(table: Mapping[str, list[str]]) -> dict[str, tuple[str, ...]]:
    """zxcvbn's ``letter → symbols`` turned into ``symbol → letters`` (``1`` → i, l)."""
    unleet: dict[str, tuple[str, ...]] = {}
    for letter, symbols in table.items():
        for symbol in symbols:
            unleet[symbol] = (*unleet.get(symbol, ()), letter)
    return unleet


_UNLEET = _unleet_table(matching.L33T_TABLE)


class ViolationCode(enum.StrEnum):
    """Why a password was refused; the values are stable (forms, audit, tests)."""

    TOO_SHORT = "too_short"
    FEW_CLASSES = "few_classes"
    NON_ASCII = "non_ascii"
    TOO_WEAK = "too_weak"
    PERSONAL_DATA = "personal_data"
    REUSED = "reused"


@dataclass(frozen=True)
class Violation:
    """One failed rule; ``message`` is French and never contains the password."""

    code: ViolationCode
    message: str


@dataclass(frozen=True)
class PasswordPolicy:
    """The settings of the policy; the defaults are the académie's charter.

    ``min_classes=0`` disables the composition rule, ``min_score=0`` the strength
    rule, ``history=0`` the reuse rule and ``expiry_days=0`` expiry.
    """

    min_length: int = 12
    min_classes: int = 3
    ascii_only: bool = True
    min_score: int = 3
    history: int = 5
    expiry_days: int = 180
    warn_days: int = 15

    def __post_init__(self) -> None:
        if self.min_length < 1:
            raise ValueError("min_length must be at least 1")
        if not 0 <= self.min_classes <= 4:
            raise ValueError("min_classes must be between 0 and 4")
        if not 0 <= self.min_score <= 4:
            raise ValueError("min_score must be between 0 and 4 (zxcvbn scores)")
        if self.history < 0 or self.expiry_days < 0 or self.warn_days < 0:
            raise ValueError("history, expiry_days and warn_days cannot be negative")

    @classmethod
    def academie(cls) -> PasswordPolicy:
        """The académie's charter: composition rule and 180-day expiry."""
        return cls()

    @classmethod
    def anssi(cls) -> PasswordPolicy:
        """Length and strength, no composition rule, no periodic expiry."""
        return cls(min_length=15, min_classes=0, expiry_days=0, warn_days=0)


PROFILES: Mapping[str, PasswordPolicy] = MappingProxyType(
    {"academie": PasswordPolicy.academie(), "anssi": PasswordPolicy.anssi()}
)


@dataclass(frozen=True, kw_only=True)
class AgentFacts:
    """What a colleague may know about the agent; empty strings are ignored."""

    first_name: str
    usage_name: str
    birth_name: str
    login: str
    numen: str | None = field(default=None, repr=False)
    birth_date: dt.date | None = field(default=None, repr=False)


class ExpiryStatus(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    EXPIRED = "expired"


@dataclass(frozen=True)
class ExpiryState:
    """``days_left`` is None when the password never expires, 0 once expired."""

    status: ExpiryStatus
    days_left: int | None
    expires_at: dt.datetime | None


# --- messages: one catalogue for the rules page and the refusals ---------------


def _message(code: ViolationCode, policy: PasswordPolicy) -> str:
    if code is ViolationCode.TOO_SHORT:
        return f"au moins {policy.min_length} caractères"
    if code is ViolationCode.FEW_CLASSES:
        kinds = "type" if policy.min_classes == 1 else "types"
        return (
            f"au moins {policy.min_classes} {kinds} de caractères parmi : "
            "minuscules, majuscules, chiffres, symboles"
        )
    if code is ViolationCode.NON_ASCII:
        if policy.ascii_only:
            return "pas de caractères accentués ni spéciaux hors ASCII"
        return "pas de caractères de contrôle ni invisibles"
    if code is ViolationCode.TOO_WEAK:
        return "trop facile à deviner (mot courant, suite, date…)"
    if code is ViolationCode.PERSONAL_DATA:
        return "ne doit pas contenir votre nom, identifiant, NUMEN ou date de naissance"
    return f"ne doit pas être l'un de vos {policy.history} derniers mots de passe"


def _active_codes(policy: PasswordPolicy) -> list[ViolationCode]:
    active = {
        ViolationCode.FEW_CLASSES: policy.min_classes > 0,
        ViolationCode.TOO_WEAK: policy.min_score > 0,
        ViolationCode.REUSED: policy.history > 0,
    }
    return [code for code in ViolationCode if active.get(code, True)]


def rules_for_display(policy: PasswordPolicy) -> list[tuple[ViolationCode, str]]:
    """The rules in force, in the order :func:`check_password` reports them."""
    return [(code, _message(code, policy)) for code in _active_codes(policy)]


# --- the rules ------------------------------------------------------------------


def _class_count(password: str) -> int:
    lower = any(char.islower() for char in password)
    upper = any(char.isupper() for char in password)
    digit = any("0" <= char <= "9" for char in password)
    symbol = any(not (char.isalpha() or "0" <= char <= "9") for char in password)
    return lower + upper + digit + symbol


def _allowed_characters(password: str, ascii_only: bool) -> bool:
    if ascii_only:
        return all(" " <= char <= "~" for char in password)
    return all(char.isprintable() or char == " " for char in password)


def _name_needles(facts: AgentFacts) -> set[str]:
    """Name parts of at least three letters, plus each name and the login glued."""
    needles: set[str] = set()
    for name in (facts.first_name, facts.usage_name, facts.birth_name):
        parts = [part for part in _NOT_ALNUM.split(fold_word(name)) if part]
        kept = [part for part in parts if part not in _PARTICLES or len(parts) == 1]
        needles.update(part for part in kept if len(part) >= _MIN_FACT_LENGTH)
        glued = "".join(parts)
        if len(glued) >= _MIN_FACT_LENGTH:
            needles.add(glued)
    login = _NOT_ALNUM.sub("", fold_word(facts.login))
    for form in (login, login.rstrip("0123456789")):
        if len(form) >= _MIN_FACT_LENGTH:
            needles.add(form)
    return needles


def _date_needles(birth_date: dt.date | None) -> set[str]:
    if birth_date is None:
        return set()
    return {birth_date.strftime(form) for form in _DATE_FORMATS}


def _numen_needles(numen: str | None) -> set[str]:
    value = _NOT_ALNUM.sub("", (numen or "").lower())
    # The whole NUMEN, and its last 8 characters: the agent's own serial.
    return {form for form in (value, value[-8:]) if len(form) >= 8}


def _has_personal_data(password: str, facts: AgentFacts) -> bool:
    """Names, login and NUMEN as substrings (case, accents, separators, l33t and
    reversal ignored); the date of birth in a run of digits, separators ignored."""
    folded = fold_word(password)
    glued = _NOT_ALNUM.sub("", folded)
    texts = {
        folded,
        glued,
        glued[::-1],
        _NOT_ALNUM.sub("", folded.translate(_LEET_I)),
        _NOT_ALNUM.sub("", folded.translate(_LEET_L)),
    }
    if any(needle in text for needle in _name_needles(facts) for text in texts):
        return True
    if any(needle in glued for needle in _numen_needles(facts.numen)):
        return True
    runs = _DIGIT_RUN.findall(_DATE_SEPARATORS.sub("", password))
    return any(needle in run for needle in _date_needles(facts.birth_date) for run in runs)


# --- strength ---------------------------------------------------------------------

_Match = dict[str, Any]  # zxcvbn's match records, as its scoring reads them


def warm_up(word_list: Path = DEBIAN_FRENCH) -> int:
    """Load the dictionaries now (about 0.5 s), not during the first agent's check.

    Returns the number of words known, for the startup log.
    """
    _longest(word_list)
    return len(ranked_words(word_list))


@functools.cache
def _longest(word_list: Path) -> int:
    return max(map(len, ranked_words(word_list)), default=0)


def _fact_inputs(facts: AgentFacts) -> list[str]:
    inputs = sorted(_name_needles(facts) | _numen_needles(facts.numen))
    return inputs + sorted(_date_needles(facts.birth_date))


def _year_matches(password: str) -> list[_Match]:
    """Years 1900–2099 as zxcvbn's ``recent_year`` (its own regex stops at 2019)."""
    return [
        {
            "pattern": "regex",
            "token": found.group(0),
            "i": found.start(),
            "j": found.end() - 1,
            "regex_name": "recent_year",
            "regex_match": found,
        }
        for found in _YEAR.finditer(password)
    ]


def _lookup(word: str, dictionaries: Sequence[Mapping[str, int]]) -> int | None:
    best = None
    for ranks in dictionaries:
        rank = ranks.get(word)
        if rank is not None and (best is None or rank < best):
            best = rank
    return best


def _l33t_matches(
    password: str, dictionaries: Sequence[Mapping[str, int]], longest: int
) -> list[_Match]:
    """Dictionary words written with substitutions (``p@ssw0rd``), bounded.

    zxcvbn's own l33t matcher re-scans every dictionary once per set of
    substitutions it can form from the whole password: 736 sets and 600 ms for 64
    characters of symbols and digits, a cheap way to burn CPU. Here each start
    position grows its candidate words one character at a time, no further than
    the longest word and with at most :data:`_MAX_L33T_CHARS` distinct substituted
    characters per word; a character is always substituted the same way within a
    word, as in zxcvbn, and the records are the ones zxcvbn's scoring expects.
    """
    lower = password.lower()
    found: list[_Match] = []
    for i in range(len(lower)):
        variants: list[tuple[dict[str, str], str]] = [({}, "")]
        for j in range(i, min(len(lower), i + longest)):
            variants = _extend(variants, lower[j])
            if not variants:
                break
            if j == i or not variants[0][0]:
                continue
            for sub, word in variants:
                rank = _lookup(word, dictionaries)
                if rank is not None:
                    found.append(_l33t_record(password, i, j, word, rank, sub))
    return found


def _extend(
    variants: list[tuple[dict[str, str], str]], char: str
) -> list[tuple[dict[str, str], str]]:
    letters = _UNLEET.get(char)
    if letters is None:
        return [(sub, word + char) for sub, word in variants]
    if char in variants[0][0]:  # every variant substitutes the same characters
        return [(sub, word + sub[char]) for sub, word in variants]
    if len(variants[0][0]) == _MAX_L33T_CHARS:
        return []
    return [({**sub, char: letter}, word + letter) for sub, word in variants for letter in letters]


def _l33t_record(
    password: str, i: int, j: int, word: str, rank: int, sub: dict[str, str]
) -> _Match:
    return {
        "pattern": "dictionary",
        "i": i,
        "j": j,
        "token": password[i : j + 1],
        "matched_word": word,
        "rank": rank,
        "dictionary_name": "words",
        "reversed": False,
        "l33t": True,
        "sub": dict(sub),
    }


def _repeat_matches(
    password: str, dictionaries: Sequence[Mapping[str, int]], longest: int
) -> list[_Match]:
    """zxcvbn's repeat matcher, scoring the repeated unit with our dictionaries.

    zxcvbn's version analyses the unit with its global English dictionaries and
    its unbounded l33t matcher; the logic is otherwise the same.
    """
    found: list[_Match] = []
    start = 0
    while start < len(password):
        greedy = _GREEDY_REPEAT.search(password, start)
        lazy = _LAZY_REPEAT.search(password, start)
        if greedy is None or lazy is None:
            break
        if len(greedy.group(0)) > len(lazy.group(0)):
            found_repeat, base = greedy, _anchored_unit(greedy.group(0))
        else:
            found_repeat, base = lazy, lazy.group(1)
        analysis = scoring.most_guessable_match_sequence(
            base, _matches(base, dictionaries, longest), _exclude_additive=True
        )
        i, end = found_repeat.span()
        found.append(
            {
                "pattern": "repeat",
                "i": i,
                "j": end - 1,
                "token": found_repeat.group(0),
                "base_token": base,
                "base_guesses": analysis["guesses"],
                "base_matches": analysis["sequence"],
                "repeat_count": (end - i) / len(base),
            }
        )
        start = end
    return found


def _anchored_unit(repeated: str) -> str:
    unit = _ANCHORED_REPEAT.search(repeated)
    return unit.group(1) if unit else repeated


def _matches(
    password: str, dictionaries: Sequence[Mapping[str, int]], longest: int
) -> list[_Match]:
    """zxcvbn's ``omnimatch`` with our dictionaries, l33t, repeat and year matchers."""
    named = {f"d{index}": ranks for index, ranks in enumerate(dictionaries)}
    found: list[_Match] = []
    for matcher in _ZXCVBN_MATCHERS:
        found += matcher(password, _ranked_dictionaries=named)
    found += _l33t_matches(password, dictionaries, longest)
    found += _repeat_matches(password, dictionaries, longest)
    found += _year_matches(password)
    return found


def strength_score(
    password: str, user_inputs: Iterable[str] = (), word_list: Path = DEBIAN_FRENCH
) -> int:
    """The zxcvbn score (0–4) of ``password``'s first :data:`ZXCVBN_WINDOW` characters.

    Accents are folded first (``Hélène`` is guessed as ``Helene``); ``user_inputs``
    are extra words ranked 1, 2… in the order given.
    """
    # Fold a bounded head: ligatures only lengthen it, dropped symbols only make it stricter.
    head = password[: 2 * ZXCVBN_WINDOW]
    window = (head if head.isascii() else fold_ascii(head))[:ZXCVBN_WINDOW]
    if not window:  # zxcvbn's scoring fails on an empty string; nothing is guessed faster
        return 0
    inputs = matching.build_ranked_dict([word.lower() for word in user_inputs])
    dictionaries = (ranked_words(word_list), inputs)
    matches = _matches(window, dictionaries, max(_longest(word_list), *map(len, inputs), 0))
    result = scoring.most_guessable_match_sequence(window, matches, _exclude_additive=True)
    return int(time_estimates.guesses_to_score(result["guesses"]))


# --- the check ----------------------------------------------------------------------


def _failed_rules(password: str, policy: PasswordPolicy, facts: AgentFacts) -> list[ViolationCode]:
    failed = {
        ViolationCode.TOO_SHORT: len(password) < policy.min_length,
        ViolationCode.FEW_CLASSES: _class_count(password) < policy.min_classes,
        ViolationCode.NON_ASCII: not _allowed_characters(password, policy.ascii_only),
        ViolationCode.TOO_WEAK: policy.min_score > 0
        and strength_score(password, _fact_inputs(facts)) < policy.min_score,
        ViolationCode.PERSONAL_DATA: _has_personal_data(password, facts),
    }
    return [code for code, did_fail in failed.items() if did_fail]


def check_password(
    password: str,
    policy: PasswordPolicy,
    facts: AgentFacts,
    history_check: Callable[[str], bool] | None = None,
) -> list[Violation]:
    """Every rule ``password`` breaks, in display order; an empty list means accepted.

    ``history_check(password)`` answers True when the password matches one of the
    agent's last ``policy.history`` passwords; the caller verifies the hashes. It is
    called only when every other rule passed (it costs one argon2 verification per
    remembered hash, about 150 ms each), and not at all when it is None, as on the
    page that checks while the agent types. Such a callable makes this function
    CPU-heavy: callers on the event loop go through ``core.offload``. Without it a
    check takes under a millisecond for usual passwords and about 30 ms at worst
    (64 characters of ambiguous l33t symbols), plus a linear pass over longer input.
    """
    failed = _failed_rules(password, policy, facts)
    if not failed and policy.history > 0 and history_check is not None:
        if history_check(password):
            failed.append(ViolationCode.REUSED)
    return [Violation(code, _message(code, policy)) for code in failed]


# --- expiry ---------------------------------------------------------------------------


def expiry_state(changed_at: dt.datetime, now: dt.datetime, policy: PasswordPolicy) -> ExpiryState:
    """Where the password stands: ``WARN`` from ``warn_days`` before the end.

    Both times must be aware (the :class:`~academail.core.clock.Clock` gives UTC).
    ``days_left`` is rounded up, so that three hours before the deadline the page
    says one day rather than zero.
    """
    if changed_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("expiry_state needs aware datetimes")
    if policy.expiry_days == 0:
        return ExpiryState(ExpiryStatus.OK, None, None)
    expires_at = changed_at + dt.timedelta(days=policy.expiry_days)
    remaining = expires_at - now
    if remaining <= dt.timedelta(0):
        return ExpiryState(ExpiryStatus.EXPIRED, 0, expires_at)
    days_left = math.ceil(remaining / dt.timedelta(days=1))
    if remaining <= dt.timedelta(days=policy.warn_days):
        return ExpiryState(ExpiryStatus.WARN, days_left, expires_at)
    return ExpiryState(ExpiryStatus.OK, days_left, expires_at)
