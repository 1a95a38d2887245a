"""Text folding for identifiers: names as HR writes them, identifiers as SMTP needs them.

HR exports carry names in full Unicode (*Lefèvre*, *Œdipe*, *Ørsted*, *N’Diaye*),
but an address local part and a login must stay in lowercase ASCII so that every
mail client, LDAP directory and ministry application accepts them (mission.md,
part 2). Unicode NFKD removes accents and splits compatibility forms (``ﬁ``,
full-width letters), but it leaves ligatures and letters that are *not* an accented
base letter (``œ``, ``æ``, ``ß``, ``ø``, ``ł``…): those are spelled out here, the
way a French secretariat would type them. What has no Latin spelling (Cyrillic,
Greek, CJK, emoji) is dropped rather than guessed: transliteration is a decision
for a person, not for this module.

No dependency on any other academail package: this is ``core``.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold_ascii", "identifier_part"]

# Letters NFKD keeps whole, with the spelling a French keyboard user would use.
_SPELLED_OUT = {
    "œ": "oe",
    "Œ": "OE",
    "æ": "ae",
    "Æ": "AE",
    "ß": "ss",
    "ẞ": "SS",
    "ø": "o",
    "Ø": "O",
    "đ": "d",
    "Đ": "D",
    "ł": "l",
    "Ł": "L",
    "þ": "th",
    "Þ": "TH",
    "ð": "d",
    "Ð": "D",
    "ı": "i",
    "ħ": "h",
    "Ħ": "H",
    "ŧ": "t",
    "Ŧ": "T",
    "ŋ": "ng",
    "Ŋ": "NG",
}
# Word processors turn ' and - into typographic forms; they mean the same thing.
_APOSTROPHES = "\u2018\u2019\u201b\u02bc\u02bb\u2032\u00b4\uff07"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_TABLE = str.maketrans(
    {
        **_SPELLED_OUT,
        **dict.fromkeys(_APOSTROPHES, "'"),
        **dict.fromkeys(_DASHES, "-"),
        "\u00ad": "",  # soft hyphen: invisible, never part of the name
    }
)
_NOT_IDENTIFIER = re.compile(r"[^a-z0-9]+")


def fold_ascii(text: str) -> str:
    """Spell ``text`` in ASCII; what has no Latin spelling is dropped, not guessed.

    NFKD runs first so that a decorated special letter (``ǿ``) loses its accent
    before being spelled out. Case, spaces and ASCII punctuation are kept: callers
    such as letters and display names still need them.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.translate(_TABLE).encode("ascii", "ignore").decode("ascii")


def identifier_part(text: str) -> str:
    """The ``[a-z0-9]*`` form of a name; may be empty, which callers must refuse.

    Hyphens, spaces, apostrophes and particles' spaces are glued rather than kept,
    because the dot is the only separator an address has (``prenom.nom``).
    """
    return _NOT_IDENTIFIER.sub("", fold_ascii(text).lower())
