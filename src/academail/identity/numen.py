"""The NUMEN: the confidential 13-character national staff number.

Security posture: the NUMEN is the key of self-service (with the date of birth), so
it is treated like a secret.

* Only this module reads clear NUMEN values. Everything else holds
  :func:`lookup_key`, a keyed HMAC-SHA-256 of the NUMEN *and* the date of birth:
  matching works, reading back does not, and a stolen table cannot be brute-forced
  without the key from the data directory (13 characters of which 8 are free is
  enumerable without a key).
* The clear value is kept only because the credential letter prints it; it is
  sealed with AES-256-GCM under a key from the data directory (:func:`seal`), and
  bound to the agent's row id as associated data so that a sealed value cannot be
  swapped between rows.
* The shape is checked (two digits for the académie — Amiens is ``20`` —, one letter
  for the staff category, two digits for the year of entry, eight characters); no
  public check digit exists, so nothing more can be verified.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from academail.core.errors import InvalidInput

__all__ = ["NUMEN_LENGTH", "lookup_key", "mask", "normalise_numen", "numen_key", "seal", "unseal"]

NUMEN_LENGTH = 13
_SHAPE = re.compile(r"^\d{2}[A-Z]\d{2}[A-Z0-9]{8}$")
_NONCE = 12


def normalise_numen(raw: str) -> str:
    """Removes spaces, uppercases and checks the shape; the error never echoes the value."""
    value = "".join(raw.split()).upper()
    if len(value) != NUMEN_LENGTH:
        raise InvalidInput(f"NUMEN invalide : {len(value)} caractères au lieu de 13")
    if not value.isascii() or _SHAPE.match(value) is None:
        raise InvalidInput(
            "NUMEN invalide : attendu 2 chiffres (académie), 1 lettre (catégorie), "
            "2 chiffres (année), puis 8 caractères"
        )
    return value


def _hmac(key: bytes, message: str) -> str:
    if len(key) < 32:
        raise ValueError("the NUMEN HMAC key must be at least 32 bytes")
    return hmac.new(key, message.encode("ascii"), hashlib.sha256).hexdigest()


def numen_key(numen: str, key: bytes) -> str:
    """The keyed HMAC of the NUMEN alone: how an HR row finds its agent again.

    Separate from :func:`lookup_key` so that a corrected date of birth in the HR
    export updates the agent instead of creating a second one.
    """
    return _hmac(key, f"numen|{normalise_numen(numen)}")


def lookup_key(numen: str, birth_date: dt.date, key: bytes) -> str:
    """The keyed HMAC of (NUMEN, date of birth): the self-service lookup."""
    return _hmac(key, f"identity|{normalise_numen(numen)}|{birth_date.isoformat()}")


def seal(numen: str, row_id: str, key: bytes) -> bytes:
    """Encrypts a NUMEN for the letters, bound to its agent's id."""
    nonce = os.urandom(_NONCE)
    clear = normalise_numen(numen).encode("ascii")
    return nonce + AESGCM(key).encrypt(nonce, clear, row_id.encode("utf-8"))


def unseal(sealed: bytes, row_id: str, key: bytes) -> str:
    """Decrypts a sealed NUMEN; a wrong key, row or a tampered value is an error."""
    try:
        clear = AESGCM(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], row_id.encode("utf-8"))
    except InvalidTag as exc:
        raise InvalidInput("NUMEN scellé illisible (clé ou ligne incorrecte)") from exc
    return clear.decode("ascii")


def mask(numen: str) -> str:
    """What support screens may show: the académie and category only."""
    return numen[:3] + "•" * (NUMEN_LENGTH - 3)
