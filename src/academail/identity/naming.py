"""Naming rules: the address local part (``prenom.nom``) and the login (``pnom``).

Shape (mission.md, part 2). Both are lowercase ASCII built from the HR names by
:func:`academail.core.text.identifier_part`: accents removed, ligatures spelled
out, hyphens, spaces and apostrophes glued, particles kept
(*Marie-Thérèse de La Fontaine* → ``marietherese.delafontaine``, login
``mdelafontaine``). A name that folds to nothing is refused, never invented.

Homonyms. A homonym gets a digit at the end of the identifier: the bare one if
free, else the lowest free suffix from ``first_suffix`` on (a setting, because
académies differ: Caen's first homonym is ``prenom.nom1``). The address and the
login are chosen *independently*, each with its own lowest free suffix: they do
not collide on the same names (``jean.dupont`` and ``jeanne.dupont`` share the
login ``jdupont``), so forcing one suffix on both would skip free identifiers and
hand out needlessly high digits. An identifier once given is never silently given
to someone else: ``is_taken`` answers from the history (quarantine included), not
only from the live accounts, so a departed agent's address cannot reach a newcomer.

Reserved names. Role mailboxes (RFC 2142: postmaster, abuse…), functional
addresses of the académie (``ce.<UAI>``, ``dsden80``, ``ia80``) and service names
are never given to a person: mail meant for a role must not land in someone's
inbox, and an agent must not be able to impersonate a service. A reserved
candidate is skipped as if taken.

Limits (RFC 5321 §4.5.3.1). A local part is at most 64 octets and a whole address
at most 254 (a 256-octet path minus the angle brackets). When a name plus its
suffix does not fit, the last name part is shortened first, then the first name
part, never below one character each, so that a suffix digit always fits.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

from academail.core.errors import InvalidInput, LimitReached
from academail.core.text import identifier_part

__all__ = [
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

LOCAL_PART_MAX = 64
ADDRESS_MAX = 254
# Far beyond any real homonym count; only a name swallowed by a reserved
# namespace (login ``ia`` + digits) or a broken ``is_taken`` reaches it.
_MAX_SUFFIXES = 10_000

RESERVED_NAMES: frozenset[str] = frozenset(
    {
        # RFC 2142 role and service mailboxes, RFC 5321 §4.5.1
        "postmaster", "abuse", "hostmaster", "webmaster", "security", "noc",
        "info", "support", "marketing", "sales", "usenet", "news", "www", "ftp", "uucp",
        # system accounts and robots
        "root", "admin", "administrateur", "administrator", "mailer-daemon", "mailer",
        "daemon", "system", "nobody", "noreply", "no-reply", "nepasrepondre",
        "ne-pas-repondre", "test",
        # services of the académie
        "securite", "assistance", "helpdesk", "contact", "rectorat", "dsden",
        "secretariat", "list", "liste", "listes", "rssi", "dpo",
    }
)  # fmt: skip
# The same names without separators: ``post.master`` must not pass as a person.
_COMPACT_RESERVED = frozenset(re.sub(r"[.\-_]", "", name) for name in RESERVED_NAMES)
# Functional namespaces: ce.0801234a, ce.rectorat, dsden80, ia80.
_RESERVED_NAMESPACE = re.compile(r"^(?:ce\.|dsden|ia[0-9]+$)")


def is_reserved(local: str) -> bool:
    """Whether ``local`` belongs to a role or a service rather than to a person."""
    key = local.strip().lower()
    compact = re.sub(r"[.\-_]", "", key)
    return (
        key in RESERVED_NAMES
        or compact in _COMPACT_RESERVED
        or _RESERVED_NAMESPACE.match(key) is not None
    )


def local_part_limit(domain: str) -> int:
    """The longest local part that keeps ``local@domain`` within 254 octets."""
    limit = min(LOCAL_PART_MAX, ADDRESS_MAX - 1 - len(domain.encode("utf-8")))
    if limit < 3:
        raise InvalidInput("nom de domaine trop long pour former des adresses")
    return limit


def fit(first_part: str, last_part: str, suffix: str, limit: int, separator: str = ".") -> str:
    """Join normalised parts and ``suffix`` within ``limit`` characters.

    The last name part gives way first: the first name is what colleagues read
    first in an address, and the suffix must survive or homonyms would collide.
    Parts are ASCII already, so characters are octets.
    """
    budget = limit - len(suffix) - len(separator)
    if budget < 2:
        raise LimitReached("identifiant trop long : le suffixe ne tient plus dans la limite")
    last_len = max(1, min(len(last_part), budget - len(first_part)))
    first_len = min(len(first_part), budget - last_len)
    return f"{first_part[:first_len]}{separator}{last_part[:last_len]}{suffix}"


def _parts(first_name: str, last_name: str) -> tuple[str, str]:
    """Both normalised parts; the message names the field but never echoes it."""
    first = identifier_part(first_name)
    if not first:
        raise InvalidInput("le prénom ne contient aucune lettre latine utilisable")
    last = identifier_part(last_name)
    if not last:
        raise InvalidInput("le nom ne contient aucune lettre latine utilisable")
    return first, last


def address_local_part(first_name: str, last_name: str, max_length: int = LOCAL_PART_MAX) -> str:
    """``prenom.nom`` without homonym suffix."""
    first, last = _parts(first_name, last_name)
    return fit(first, last, "", max_length)


def login_base(first_name: str, last_name: str, max_length: int) -> str:
    """Initial of the first name + last name, without homonym suffix."""
    first, last = _parts(first_name, last_name)
    return fit(first[0], last, "", max_length, separator="")


def _choose(build: Callable[[str], str], is_taken: Callable[[str], bool], first_suffix: int) -> str:
    """The bare candidate if free, else the lowest free suffix from ``first_suffix``."""
    if first_suffix < 0:
        raise InvalidInput("le premier suffixe d'homonyme doit être positif ou nul")
    # Lazily: nearly every name is free bare or at its first suffix.
    suffixes = map(str, range(first_suffix, first_suffix + _MAX_SUFFIXES))
    for suffix in itertools.chain(("",), suffixes):
        candidate = build(suffix)
        if not is_reserved(candidate) and not is_taken(candidate):
            return candidate
    raise LimitReached("aucun identifiant libre pour ce nom : attribution manuelle nécessaire")


def choose_address_local(
    first_name: str,
    last_name: str,
    is_taken: Callable[[str], bool],
    first_suffix: int = 1,
    *,
    max_length: int = LOCAL_PART_MAX,
) -> str:
    """The local part to give; ``is_taken`` must answer True for any ever given."""
    first, last = _parts(first_name, last_name)
    return _choose(lambda suffix: fit(first, last, suffix, max_length), is_taken, first_suffix)


def choose_login(
    first_name: str,
    last_name: str,
    is_taken: Callable[[str], bool],
    max_length: int,
    first_suffix: int = 1,
) -> str:
    """The login to give, chosen independently of the address (see module doc)."""
    first, last = _parts(first_name, last_name)
    initial = first[0]
    return _choose(
        lambda suffix: fit(initial, last, suffix, max_length, separator=""),
        is_taken,
        first_suffix,
    )


def normalise_identifier(raw: str) -> str:
    """The form a sign-in identifier is looked up by: login or whole address.

    Case and surrounding blanks are what phones and copy-paste add; they never
    distinguish two accounts. The domain is kept so that ``Jean.Dupont@AC-AMIENS.FR``
    and the login ``jdupont`` both stay recognisable. An empty result is returned,
    not refused, so the caller fails it like any unknown identifier.
    """
    return raw.strip().lower()
