"""The platform's secret keys, generated once into the data directory.

Each key is a file of random bytes with mode 0600 in ``<data>/keys/``. They are
created by ``academail init`` and never overwritten: losing the NUMEN keys makes
the self-service lookup and the sealed NUMENs unreadable, so an existing key file
is always kept (and backed up with the data directory).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KEY_NAMES", "Keys", "ensure_keys", "load_keys"]

KEY_NAMES = ("numen_hmac", "numen_seal", "session", "tokens")
_SIZE = 32


@dataclass(frozen=True)
class Keys:
    """HMAC key for NUMEN lookups, AES key sealing NUMENs, web session and token keys."""

    numen_hmac: bytes
    numen_seal: bytes
    session: bytes
    tokens: bytes

    def __repr__(self) -> str:  # never print key material
        return "Keys(<redacted>)"


def ensure_keys(data_dir: Path) -> list[str]:
    """Creates the missing key files (mode 0600); returns the names created."""
    folder = data_dir / "keys"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    created = []
    for name in KEY_NAMES:
        path = folder / f"{name}.key"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(_SIZE))
            handle.flush()
            os.fsync(handle.fileno())
        created.append(name)
    return created


def load_keys(data_dir: Path) -> Keys:
    """Reads the keys; a missing or short key file is an error that says to run init."""
    values: dict[str, bytes] = {}
    for name in KEY_NAMES:
        path = data_dir / "keys" / f"{name}.key"
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise FileNotFoundError(
                f"clé manquante {path} : lancez d'abord « academail init »"
            ) from exc
        if len(data) < _SIZE:
            raise ValueError(f"clé trop courte : {path}")
        values[name] = data
    return Keys(**values)
