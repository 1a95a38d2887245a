"""Sealing small secrets that must be read back (TOTP seeds): AES-256-GCM.

Each value is bound to its owner's id as associated data, so a sealed value copied
to another row does not open. Keys for separate purposes are derived from one
master key with HMAC (a label per purpose), so one key file serves several uses
without two uses ever sharing a key.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["derive_key", "keyed_hash", "open_sealed", "seal"]

_NONCE = 12


def derive_key(master: bytes, label: str) -> bytes:
    return hmac.new(master, f"academail:{label}".encode(), hashlib.sha256).digest()


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA-256 hex: how high-entropy secrets (app passwords, codes) are stored."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def seal(clear: bytes, owner: str, key: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(key).encrypt(nonce, clear, owner.encode("utf-8"))


def open_sealed(sealed: bytes, owner: str, key: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], owner.encode("utf-8"))
    except InvalidTag as exc:
        raise ValueError("sealed value does not open with this key and owner") from exc
