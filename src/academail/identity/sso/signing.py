"""The OpenID provider's signing key: RS256, generated at ``init``, rotated by command.

ID tokens and back-channel logout tokens are JWS (RFC 7515) signed with RS256, the
algorithm every relying party must accept (OpenID Connect Core 1.0 §15.1). The key
is RSA 3072 (ANSSI RGS B1 asks for 3072 bits beyond 2030) in
``<data_dir>/keys/oidc-signing.pem``, PKCS#8, mode 0600, never in the database.

* ``kid`` is the RFC 7638 thumbprint, so a key names itself and relying parties pick
  the right key from the JWKS without a registry.
* Rotation (``academail sso rotate-key``) writes a new private key and keeps the
  *public* half of the previous one in ``oidc-signing-previous.pem``: tokens signed
  just before the rotation still verify against the JWKS (OIDC Core §10.1.1). Every
  node reads the files at start: restart the nodes after a rotation.

Threat: a stolen private key lets anyone mint ID tokens for any agent; the file is
0600 in a 0700 folder and is never printed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

__all__ = [
    "ALGORITHM",
    "SigningKeys",
    "ensure_signing_key",
    "load_signing_keys",
    "rotate_signing_key",
    "signing_key_path",
]

ALGORITHM = "RS256"
_BITS = 3072
_CURRENT = "oidc-signing.pem"
_PREVIOUS = "oidc-signing-previous.pem"


def signing_key_path(data_dir: Path) -> Path:
    return data_dir / "keys" / _CURRENT


def _write_private(path: Path, data: bytes) -> None:
    """Writes ``data`` 0600 next to ``path`` then renames it over (atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def _new_key() -> bytes:
    return RSAKey.generate_key(_BITS, private=True).as_pem(private=True)


def ensure_signing_key(data_dir: Path) -> bool:
    """Creates the signing key if missing (CPU: a few hundred ms); True if created."""
    path = signing_key_path(data_dir)
    if path.exists():
        return False
    _write_private(path, _new_key())
    return True


def rotate_signing_key(data_dir: Path) -> str:
    """A new current key; the old one's public half stays published. Returns the new kid."""
    path = signing_key_path(data_dir)
    if path.exists():
        old = RSAKey.import_key(path.read_bytes())
        _write_private(path.parent / _PREVIOUS, old.as_pem(private=False))
    _write_private(path, _new_key())
    return _with_kid(RSAKey.import_key(path.read_bytes())).kid or ""


def _with_kid(key: RSAKey) -> RSAKey:
    params = {"kid": key.thumbprint(), "use": "sig", "alg": ALGORITHM}
    return RSAKey.import_key(key.as_dict(private=key.is_private), parameters=params)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SigningKeys:
    """The current private key and the public keys that still verify."""

    current: RSAKey
    published: tuple[RSAKey, ...]

    def __repr__(self) -> str:  # never print key material
        return f"SigningKeys(kid={self.current.kid})"

    @property
    def kid(self) -> str:
        return self.current.kid or ""

    def jwks(self) -> dict[str, Any]:
        """The JWK Set document (RFC 7517 §5): public halves only."""
        return {"keys": [k.as_dict(private=False) for k in self.published]}

    def sign(self, claims: dict[str, Any], typ: str = "JWT") -> str:
        header = {"alg": ALGORITHM, "kid": self.kid, "typ": typ}
        return jwt.encode(header, claims, self.current, algorithms=[ALGORITHM])

    def verified_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a token we signed (signature only; the caller checks the rest)."""
        try:
            decoded = jwt.decode(token, KeySet(list(self.published)), algorithms=[ALGORITHM])
        except (JoseError, ValueError):
            return None
        return dict(decoded.claims)


def load_signing_keys(data_dir: Path) -> SigningKeys | None:
    """Reads the keys; None when ``academail init`` has not made them yet."""
    path = signing_key_path(data_dir)
    if not path.exists():
        return None
    current = _with_kid(RSAKey.import_key(path.read_bytes()))
    published = [current]
    previous = path.parent / _PREVIOUS
    if previous.exists():
        old = _with_kid(RSAKey.import_key(previous.read_bytes()))
        if old.kid != current.kid:
            published.append(old)
    public = tuple(_with_kid(RSAKey.import_key(k.as_dict(private=False))) for k in published)
    return SigningKeys(current, public)
