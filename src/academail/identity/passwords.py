"""Temporary passwords and argon2id hashing.

Temporary passwords (printed on credential letters) are drawn with ``secrets`` from
an alphabet without look-alikes (no 0/O, 1/l/I), so that an agent copying from
paper does not fail and lock the account. Only their argon2id hash is stored.

argon2 is CPU- and memory-heavy by design, so callers hash and verify through
:func:`hash_off_loop` / :func:`verify_off_loop`, never on the event loop. The cost
parameters are passed in (settings in production, the cheapest in tests).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from academail.core.offload import off_loop

__all__ = [
    "READABLE_ALPHABET",
    "HashCost",
    "generate_temporary_password",
    "hash_off_loop",
    "hasher",
    "verify_off_loop",
]

READABLE_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class HashCost:
    time_cost: int
    memory_kib: int
    parallelism: int


_HASHERS: dict[HashCost, PasswordHasher] = {}


def hasher(cost: HashCost) -> PasswordHasher:
    """An argon2id hasher for ``cost`` (cached: building one is not free)."""
    if cost not in _HASHERS:
        _HASHERS[cost] = PasswordHasher(
            time_cost=cost.time_cost,
            memory_cost=cost.memory_kib,
            parallelism=cost.parallelism,
            type=Type.ID,
        )
    return _HASHERS[cost]


def generate_temporary_password(length: int) -> str:
    """A random password with at least one lowercase, one uppercase and one digit."""
    while True:
        candidate = "".join(secrets.choice(READABLE_ALPHABET) for _ in range(length))
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
        ):
            return candidate


async def hash_off_loop(password: str, cost: HashCost) -> str:
    return await off_loop(hasher(cost).hash, password)


def _verify(encoded: str, password: str) -> bool:
    try:
        return PasswordHasher().verify(encoded, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_off_loop(encoded: str, password: str) -> bool:
    """Checks a password against a stored hash (parameters are read from the hash)."""
    return await off_loop(_verify, encoded, password)
