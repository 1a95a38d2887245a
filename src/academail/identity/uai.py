"""UAI (unité administrative immatriculée): the national code of an establishment.

Shape: 7 digits then a check letter, e.g. ``0801948P``. The first three digits are
the département (``080`` Somme, ``060`` Oise, ``002`` Aisne; Corsica uses
``620``/``720`` for 2A/2B). The letter is the 7-digit number modulo 23, read in the
23-letter alphabet that leaves out I, O and Q (easily misread); a code whose
letter does not match is a typing error and is refused.
"""

from __future__ import annotations

import re

from academail.core.errors import InvalidInput

__all__ = ["UAI_LETTERS", "departement_of", "normalise_uai", "uai_check_letter"]

UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_UAI = re.compile(r"^(\d{7})([A-Z])$")


def uai_check_letter(digits: str) -> str:
    """The check letter of seven digits."""
    if len(digits) != 7 or not digits.isascii() or not digits.isdigit():
        raise InvalidInput("un code UAI commence par 7 chiffres")
    return UAI_LETTERS[int(digits) % 23]


def normalise_uai(raw: str) -> str:
    """Uppercases, strips spaces and checks the shape and the letter."""
    value = raw.strip().replace(" ", "").upper()
    match = _UAI.match(value)
    if match is None:
        raise InvalidInput(
            f"code UAI mal formé : « {raw.strip()[:20]} » (7 chiffres et une lettre)"
        )
    digits, letter = match.groups()
    if uai_check_letter(digits) != letter:
        raise InvalidInput(
            f"code UAI invalide : « {value} » (la lettre de contrôle ne correspond pas)"
        )
    return value


def departement_of(uai: str) -> str:
    """The département code ("80", "60", "02", "2A"…) of a normalised UAI."""
    prefix = uai[:3]
    if prefix == "620":
        return "2A"
    if prefix == "720":
        return "2B"
    if prefix.startswith("0"):
        return prefix[1:]
    return prefix  # overseas: 971, 972…
