"""Second factor: TOTP codes (RFC 6238) and single-use recovery codes.

Pure functions: no I/O, no clock of their own (the time is an argument, so tests move
a :class:`~academail.core.clock.FakeClock`; style.md §14), nothing stored here.

Standards:

* RFC 6238 §4 (TOTP = HOTP over ``T = floor((unix_time - T0) / X)``, ``T0 = 0``,
  ``X = 30 s``), on RFC 4226 §5.3 (HMAC + dynamic truncation), computed by pyotp.
* RFC 6238 §3 and §5.1: one random secret per account, as long as the HMAC output
  (160 bits for SHA-1, also RFC 4226 §4 R6), from :mod:`secrets`; §4.2: steps past
  2038 work (Python integers; the Appendix B vector at 20000000000 is tested).
* RFC 6238 §5.2 and §6: the verifier accepts ``window`` steps either side of the
  current one for clock drift and typing delay (default 1: at most about 30 s early
  or late, the one backward step the RFC recommends, plus one forward), and
  refuses a second use of a step ("the verifier MUST NOT accept the second attempt
  of the OTP after the successful validation has been issued for the first OTP").
* The Key URI format of Google Authenticator (``otpauth://totp/Issuer:account``).

Why SHA-1, 6 digits and 30 s: that is the only profile every authenticator app
(Google Authenticator, Microsoft Authenticator, FreeOTP, Aegis, andOTP…) honours;
several silently ignore ``algorithm``/``digits``/``period`` in the URI and would
show wrong codes. SHA-1 is the RFC's base (§1.2 makes SHA-256/512 a MAY), and HMAC
relies on the keyed function being pseudo-random, not on collision resistance, so
SHA-1 collisions do not weaken it (RFC 4226 Appendix A).

Replay rule: :func:`verify_totp` returns the matched time step; the caller stores it
with the account and passes it back as ``last_used_step``. A step lower than or
equal to it is refused, so a code that was seen (shoulder-surfing, phishing relay,
a log) can never be used twice, nor an older code once a newer one has been used.

Recovery codes are random and high-entropy (about 59 bits each), so they are
stored as a *keyed* HMAC-SHA-256 with a key from the data directory rather than
argon2: a stretched hash defends low-entropy passwords against guessing, which
these are not, and they are checked rarely but against up to ten hashes at once,
which argon2 would make cost over a second. A stolen table without the key gives
nothing to try offline. Comparisons are constant-time (:func:`hmac.compare_digest`)
and always scan every candidate.

Security posture: inputs come from an authenticated-by-password but untrusted user;
failures are returned as ``None``, never explained (which part was wrong, which step).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence

import pyotp
import segno

__all__ = [
    "DIGITS",
    "MAX_WINDOW",
    "RECOVERY_ALPHABET",
    "STEP_SECONDS",
    "hash_recovery_code",
    "match_recovery_code",
    "new_recovery_codes",
    "new_secret",
    "provisioning_uri",
    "qr_svg",
    "time_step",
    "verify_totp",
]

DIGITS = 6
STEP_SECONDS = 30
MAX_WINDOW = 10
_SECRET_BYTES = 20  # 160 bits, RFC 4226 §4 R6

# Lowercase letters and digits without the look-alikes 0/o, 1/l/i: 31 symbols,
# 12 of them per code = 59.4 bits, shown as xxxx-xxxx-xxxx.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_RECOVERY_LENGTH = 12
_RECOVERY_GROUP = 4
_MAX_INPUT = 64
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"  # what a copy-paste may turn "-" into

_QR_TITLE = "Code QR à scanner avec votre application d'authentification"


def new_secret() -> str:
    """A fresh shared secret: 160 random bits, base32 without padding (32 characters)."""
    return pyotp.random_base32(length=_SECRET_BYTES * 8 // 5)


def provisioning_uri(secret: str, account_name: str, issuer: str) -> str:
    """The ``otpauth://totp/Issuer:account?secret=…&issuer=…`` URI the apps import.

    The Key URI format forbids a colon in the issuer or the account (it separates the
    two in the label), so one is refused rather than silently misread by the app.
    """
    if ":" in issuer or ":" in account_name:
        raise ValueError("the TOTP issuer and account name cannot contain ':'")
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=issuer)


def qr_svg(uri: str, title: str = _QR_TITLE) -> str:
    """The URI as an inline SVG QR code (no XML declaration), for an HTML page.

    It carries a ``<title>`` and ``role="img"``, its text alternative (RGAA 4.1
    criterion 1.1); the page must still print the secret as text for people who
    cannot scan. The background is painted white so the code stays readable in a
    dark theme.
    """
    qr = segno.make(uri, error="m", micro=False)
    markup: str = qr.svg_inline(scale=4, title=title, dark="#000", light="#fff")
    return markup.replace("<svg ", '<svg role="img" ', 1)


def time_step(at: dt.datetime) -> int:
    """The RFC 6238 §4.2 time step ``T`` of an aware datetime (``T0 = 0``, ``X = 30``)."""
    if at.tzinfo is None:
        raise ValueError("TOTP needs an aware datetime, not local time")
    return int(at.timestamp()) // STEP_SECONDS


def verify_totp(
    secret: str,
    code: str,
    at: dt.datetime,
    last_used_step: int | None,
    window: int = 1,
) -> int | None:
    """The time step ``code`` belongs to, or None when wrong, out of window or replayed.

    Spaces in the code are ignored ("123 456" as apps display it). Every step in
    ``[T - window, T + window]`` above ``last_used_step`` is computed and compared
    in constant time, without stopping at the first match, so the timing says
    nothing about which step (if any) matched. The caller stores the result as the
    new ``last_used_step`` with a compare-and-set (``… WHERE last_step < :step``),
    so two concurrent logins with one code cannot both win.

    Raises :class:`ValueError` for a naive ``at``, a window outside 0–10 or a
    secret that is not base32 of at least 112 bits: programming or storage errors,
    never the user's input.
    """
    if not 0 <= window <= MAX_WINDOW:
        raise ValueError(f"the TOTP window must be between 0 and {MAX_WINDOW} steps")
    given = _normalise_code(code)
    if given is None:
        return None
    return _matching_step(
        pyotp.TOTP(secret, digits=DIGITS), given, time_step(at), last_used_step, window
    )


def _normalise_code(code: str) -> bytes | None:
    """The code without whitespace, if it is exactly six ASCII digits."""
    if len(code) > _MAX_INPUT:
        return None
    compact = "".join(code.split())
    if len(compact) != DIGITS or not (compact.isascii() and compact.isdigit()):
        return None
    return compact.encode("ascii")


def _matching_step(
    totp: pyotp.TOTP, given: bytes, current: int, last_used: int | None, window: int
) -> int | None:
    floor = -1 if last_used is None else max(last_used, -1)  # steps start at 0
    found: int | None = None
    for step in range(current - window, current + window + 1):
        if step <= floor:
            continue
        expected = totp.generate_otp(step).encode("ascii")
        if hmac.compare_digest(expected, given) and found is None:
            found = step
    return found


def new_recovery_codes(n: int = 10) -> list[str]:
    """``n`` distinct recovery codes like ``k7pm-x3ed-q9wa`` (59 bits each), shown once."""
    codes: set[str] = set()
    while len(codes) < n:
        codes.add(_new_recovery_code())
    return sorted(codes)


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    groups = [raw[i : i + _RECOVERY_GROUP] for i in range(0, _RECOVERY_LENGTH, _RECOVERY_GROUP)]
    return "-".join(groups)


def _normalise_recovery(code: str) -> str:
    """Lowercase, without spaces or dashes: how the code is typed is not part of it."""
    compact = "".join(code.split()).lower()
    return compact.translate({ord(dash): None for dash in _DASHES})


def hash_recovery_code(code: str, key: bytes) -> str:
    """The keyed HMAC-SHA-256 (hex) of the normalised code, which is what is stored."""
    if len(key) < 32:
        raise ValueError("the recovery-code HMAC key must be at least 32 bytes")
    message = _normalise_recovery(code).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def match_recovery_code(code: str, hashes: Sequence[str], key: bytes) -> int | None:
    """The index in ``hashes`` of the code's hash, or None.

    ``hashes`` are the account's unused codes; a used one is removed by the caller or
    blanked to ``""`` (which never matches) to keep the other indexes stable. Every
    hash is compared, in constant time, whatever matched earlier.
    """
    if len(code) > _MAX_INPUT:
        return None
    candidate = hash_recovery_code(code, key).encode("ascii")
    found: int | None = None
    for index, stored in enumerate(hashes):
        same = hmac.compare_digest(candidate, stored.encode("ascii"))
        if same and stored and found is None:
            found = index
    return found
