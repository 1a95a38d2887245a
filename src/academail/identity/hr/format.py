"""The academail HR export format (dialect ``academail_csv``): columns and value rules.

The file
--------

* CSV text, separator ``;``, fields may be quoted with ``"`` (a quote inside a
  quoted field is doubled; a quoted field may span several lines).
* Encoding: UTF-8, with or without a byte-order mark, or Windows-1252 (what Excel
  writes with "CSV (séparateur : point-virgule)"). The encoding is detected: strict
  UTF-8 is tried first, Windows-1252 otherwise; the import report says which one
  was used. A file containing a NUL byte, or bytes that are valid in neither, is
  refused as a whole.
* The first line is the header: the column names below, in any order. Names are
  compared without surrounding spaces and without case (``NUMEN`` is ``numen``).
  Columns that are not listed here are ignored. A required column missing from the
  header refuses the whole file, naming the missing columns. A column named twice
  refuses the whole file.
* One agent per line. Blank lines are skipped. Surrounding spaces are removed from
  every value; an empty optional value means "not known".
* Each line is either accepted or refused with its line number in the file (the
  header is line 1; a line is numbered where it starts). A line is *malformed* when
  a value is missing or wrong (the reason names the column); it is *ineligible*
  when the ``fonction`` code is a pupil, a student, a parent or a code academail
  does not know: such people get no account.
* The same NUMEN twice in one file: the second line is refused as malformed.

Columns
-------

=========================  ==========  ===================================================
column                     required    content
=========================  ==========  ===================================================
``numen``                  yes         NUMEN, 13 characters: 2 digits (académie), 1
                                       letter (category), 2 digits (year), 8 letters or
                                       digits. Spaces are ignored, case is not
                                       significant. Unique in the file.
``civilite``               no          ``M.`` or ``Mme``; ``M``, ``MR``, ``Monsieur``,
                                       ``MME``, ``Madame`` (and ``Mlle``, ``Mademoiselle``,
                                       read as ``Mme``) are accepted.
``nom_usage``              yes         Family name in use (the one in the e-mail
                                       address). Letters (accents allowed), spaces,
                                       hyphens, apostrophes and dots; 120 characters
                                       at most.
``nom_naissance``          no          Birth name, same rules; defaults to
                                       ``nom_usage``.
``prenom``                 yes         First name (compound first names with a hyphen:
                                       ``Jean-Pierre``), same rules as the names.
``date_naissance``         yes         ``JJ/MM/AAAA`` or ``AAAA-MM-JJ``. Not in the future;
                                       the agent is 16 to 80 years old at
                                       ``date_entree``.
``fonction``               yes         HR function code: ``ENS1D``, ``ENS2D``, ``CPE``,
                                       ``PSYEN``, ``DIR_ECOLE``, ``PERDIR``, ``IEN``,
                                       ``IA_IPR``, ``ADM``, ``TECH``, ``AESH``,
                                       ``CONTRACTUEL``. ``ELEVE``, ``ETUDIANT``,
                                       ``PARENT`` and unknown codes are refused as
                                       ineligible.
``corps``                  no          Free label of the statutory body (``certifié``,
                                       ``agrégé``…), 120 characters at most.
``uai``                    yes         UAI of the establishment of assignment: 7 digits
                                       and the check letter (``0801948P``).
``etablissement``          yes         Name of the establishment, 200 characters at most.
``commune_etablissement``  no          Town of the establishment.
``date_entree``            yes         Start of duty, ``JJ/MM/AAAA`` or ``AAAA-MM-JJ``.
``date_sortie``            no          End of duty (same formats), not before
                                       ``date_entree``. A past end of duty disables the
                                       account.
``adresse``                no          Postal address; ``|`` (or a line break inside a
                                       quoted field) separates the lines, 4 lines at
                                       most.
``code_postal``            no          5 digits. Four digits are read with a leading
                                       ``0`` (``2100`` → ``02100``: Excel drops it).
``commune``                no          Town of the postal address.
``email_perso``            no          Personal e-mail address (recovery), checked for
                                       a plausible shape: ``nom@domaine.fr``.
``mobile``                 no          French mobile number, ``06``/``07`` or
                                       ``+33 6``/``+33 7``; spaces, dots and dashes are
                                       ignored. Stored as ``+336…``/``+337…``. Nine
                                       digits starting with 6 or 7 (Excel dropped the
                                       ``0``) are accepted.
=========================  ==========  ===================================================

Example: ``docs/examples/export-rh-exemple.csv``.

The value functions below are pure: they return the normalised value or raise
:class:`FieldError` with a French reason that never repeats a NUMEN, a date of birth,
an e-mail address or a phone number.
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = [
    "ALL_COLUMNS",
    "FieldError",
    "MAX_ADDRESS_LINES",
    "MAX_LENGTHS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "SEPARATOR",
    "normalise_civility",
    "normalise_email",
    "normalise_mobile",
    "normalise_postal_code",
    "parse_date",
    "split_address",
]

SEPARATOR = ";"

REQUIRED_COLUMNS: tuple[str, ...] = (
    "numen",
    "nom_usage",
    "prenom",
    "date_naissance",
    "fonction",
    "uai",
    "etablissement",
    "date_entree",
)
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "civilite",
    "nom_naissance",
    "corps",
    "commune_etablissement",
    "date_sortie",
    "adresse",
    "code_postal",
    "commune",
    "email_perso",
    "mobile",
)
# The order the generator and the example file write.
ALL_COLUMNS: tuple[str, ...] = (
    "numen",
    "civilite",
    "nom_usage",
    "nom_naissance",
    "prenom",
    "date_naissance",
    "fonction",
    "corps",
    "uai",
    "etablissement",
    "commune_etablissement",
    "date_entree",
    "date_sortie",
    "adresse",
    "code_postal",
    "commune",
    "email_perso",
    "mobile",
)

# Limits of the directory columns (store/tables.py), checked here so that a long
# value is a refused line, not a database error half-way through an import.
MAX_LENGTHS: dict[str, int] = {
    "nom_usage": 120,
    "nom_naissance": 120,
    "prenom": 120,
    "corps": 120,
    "etablissement": 200,
    "commune_etablissement": 120,
    "commune": 120,
    "adresse": 500,
}
MAX_ADDRESS_LINES = 4


class FieldError(ValueError):
    """A value that does not follow the format; ``reason`` is French and safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_FRENCH = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_date(raw: str, *, echo: bool = True) -> dt.date:
    """``JJ/MM/AAAA`` or ``AAAA-MM-JJ``; ``echo=False`` keeps the value out of the reason."""
    shown = f" « {raw[:20]} »" if echo else ""
    match = _FRENCH.fullmatch(raw)
    if match is not None:
        day, month, year = (int(part) for part in match.groups())
    else:
        match = _ISO.fullmatch(raw)
        if match is None:
            raise FieldError(f"date mal formée{shown} (attendu JJ/MM/AAAA ou AAAA-MM-JJ)")
        year, month, day = (int(part) for part in match.groups())
    if year < 1900:
        raise FieldError(f"date impossible{shown}")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise FieldError(f"date impossible{shown}") from None


_CIVILITIES = {
    "M": "M.",
    "MR": "M.",
    "MONSIEUR": "M.",
    "MME": "Mme",
    "MADAME": "Mme",
    "MLLE": "Mme",
    "MELLE": "Mme",
    "MADEMOISELLE": "Mme",
}


def normalise_civility(raw: str) -> str:
    """``M.`` or ``Mme`` (empty stays empty)."""
    if not raw:
        return ""
    civility = _CIVILITIES.get(raw.upper().rstrip(".").strip())
    if civility is None:
        raise FieldError(f"civilité inconnue « {raw[:20]} » (attendu M. ou Mme)")
    return civility


_POSTAL = re.compile(r"\d{4,5}")


def normalise_postal_code(raw: str) -> str:
    """Five digits; four digits get back the leading zero a spreadsheet removed."""
    value = raw.replace(" ", "")
    if not value:
        return ""
    if _POSTAL.fullmatch(value) is None or not value.isascii():
        raise FieldError(f"code postal invalide « {raw[:20]} » (5 chiffres)")
    return value.zfill(5)


_PHONE_NOISE = str.maketrans("", "", " .-/\u00a0\u202f\t")
_MOBILE = re.compile(r"(?:\+33|0033|33|0)?([67]\d{8})")


def normalise_mobile(raw: str) -> str | None:
    """A French mobile number in E.164 (``+33612345678``), or ``None`` when empty."""
    value = raw.replace("(0)", "").translate(_PHONE_NOISE)
    if not value:
        return None
    match = _MOBILE.fullmatch(value) if value.isascii() else None
    if match is None:
        raise FieldError("numéro de mobile français attendu (06, 07, +33 6 ou +33 7 et 8 chiffres)")
    return "+33" + match.group(1)


_LOCAL = re.compile(r"[^\s@\"(),:;<>\[\]\\]+")
_LABEL = re.compile(r"[^\W_](?:[\w-]{0,61}[^\W_])?")


def normalise_email(raw: str) -> str | None:
    """A plausible ``local@domain`` address (domain lowercased), or ``None`` when empty.

    Not RFC 5322 in full: quoted local parts and address literals are refused, as
    no personal mailbox provider hands them out; UTF-8 local parts and
    internationalised domains are accepted (RFC 6531).
    """
    value = raw.strip()
    if not value:
        return None
    local, at, domain = value.rpartition("@")
    bad = FieldError("adresse électronique invalide (attendu nom@domaine.fr)")
    if not at or not local or not domain or len(value) > 254 or len(local) > 64:
        raise bad
    if _LOCAL.fullmatch(local) is None or local.startswith(".") or local.endswith("."):
        raise bad
    if ".." in local:
        raise bad
    labels = domain.lower().split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise bad
    tld = labels[-1]
    if len(tld) < 2 or not (tld.isalpha() or tld.startswith("xn--")):
        raise bad
    return f"{local}@{'.'.join(labels)}"


def split_address(raw: str) -> tuple[str, ...]:
    """The lines of a postal address, split on ``|`` and line breaks."""
    if not raw:
        return ()
    if "|" not in raw and "\n" not in raw and "\r" not in raw:
        return (" ".join(raw.split()),)
    lines = tuple(" ".join(part.split()) for part in re.split(r"[|\r\n]", raw) if part.strip())
    if len(lines) > MAX_ADDRESS_LINES:
        raise FieldError(f"adresse trop longue : {len(lines)} lignes (4 au plus)")
    return lines
