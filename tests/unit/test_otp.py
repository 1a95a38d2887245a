"""TOTP (RFC 6238 Appendix B vectors, window, replay) and recovery codes."""

from __future__ import annotations

import base64
import datetime as dt
import math
import re
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
import pytest

from academail.core.clock import FakeClock
from academail.identity import otp

# RFC 6238 Appendix B: the SHA-1 seed is the 20 ASCII bytes "1234567890" twice.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode("ascii")
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),  # past 2038: RFC 6238 §4.2
]
KEY = bytes(range(32))


def at(unix: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(unix, dt.UTC)


def code_at(secret: str, when: dt.datetime) -> str:
    return pyotp.TOTP(secret).at(when)


@pytest.mark.parametrize(("unix", "expected"), RFC_VECTORS)
def test_rfc6238_appendix_b_vectors_with_eight_digits(unix, expected):
    assert pyotp.TOTP(RFC_SECRET, digits=8).at(unix) == expected


@pytest.mark.parametrize(("unix", "expected"), RFC_VECTORS)
def test_production_six_digits_accept_the_vectors_truncated(unix, expected):
    """Six digits are the same value modulo 10**6 (RFC 4226 §5.3), at the same step."""
    assert otp.verify_totp(RFC_SECRET, expected[-6:], at(unix), None, window=0) == unix // 30


def test_time_step_and_constants():
    assert (otp.DIGITS, otp.STEP_SECONDS) == (6, 30)
    assert otp.time_step(at(59)) == 1
    assert otp.time_step(at(1234567890)) == 41152263
    with pytest.raises(ValueError, match="aware"):
        otp.time_step(dt.datetime(2026, 9, 1, 8, 0))  # naive: refused


def test_new_secret_is_160_random_bits_in_base32():
    secret = otp.new_secret()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert len(base64.b32decode(secret)) == 20
    assert len({otp.new_secret() for _ in range(50)}) == 50


def test_window_accepts_previous_and_next_step_and_returns_it():
    clock = FakeClock()
    secret = otp.new_secret()
    now = clock.now()
    step = otp.time_step(now)
    for offset in (-1, 0, 1):
        code = code_at(secret, now + dt.timedelta(seconds=30 * offset))
        assert otp.verify_totp(secret, code, now, None) == step + offset


def test_codes_outside_the_window_are_refused():
    clock = FakeClock()
    secret = otp.new_secret()
    old = code_at(secret, clock.now())
    clock.advance(dt.timedelta(seconds=60))  # two steps later
    assert otp.verify_totp(secret, old, clock.now(), None) is None
    assert otp.verify_totp(secret, old, clock.now(), None, window=2) is not None
    future = code_at(secret, clock.now() + dt.timedelta(seconds=60))
    assert otp.verify_totp(secret, future, clock.now(), None) is None


def test_window_zero_is_exact_and_bounds_are_checked():
    clock = FakeClock()
    secret = otp.new_secret()
    previous = code_at(secret, clock.now() - dt.timedelta(seconds=30))
    assert otp.verify_totp(secret, previous, clock.now(), None, window=0) is None
    for window in (-1, otp.MAX_WINDOW + 1):
        with pytest.raises(ValueError, match="window"):
            otp.verify_totp(secret, previous, clock.now(), None, window=window)


def test_a_code_is_never_accepted_twice():
    clock = FakeClock()
    secret = otp.new_secret()
    code = code_at(secret, clock.now())
    step = otp.verify_totp(secret, code, clock.now(), None)
    assert step is not None
    assert otp.verify_totp(secret, code, clock.now(), step) is None
    clock.advance(dt.timedelta(seconds=29))  # still inside the window
    assert otp.verify_totp(secret, code, clock.now(), step) is None


def test_an_older_code_is_refused_once_a_newer_one_was_used():
    clock = FakeClock()
    secret = otp.new_secret()
    older = code_at(secret, clock.now() - dt.timedelta(seconds=30))
    newer = code_at(secret, clock.now())
    step = otp.verify_totp(secret, newer, clock.now(), None)
    assert step == otp.time_step(clock.now())
    assert older != newer and otp.verify_totp(secret, older, clock.now(), step) is None
    clock.advance(dt.timedelta(seconds=30))
    following = code_at(secret, clock.now())
    assert otp.verify_totp(secret, following, clock.now(), step) == step + 1


@pytest.mark.parametrize("shape", ["{a}{b}", "{a} {b}", " {a}  {b} ", "{a}\u00a0{b}", "{a}\t{b}\n"])
def test_spaces_in_the_code_are_ignored(shape):
    clock = FakeClock()
    secret = otp.new_secret()
    code = code_at(secret, clock.now())
    typed = shape.format(a=code[:3], b=code[3:])
    assert otp.verify_totp(secret, typed, clock.now(), None) == otp.time_step(clock.now())


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "12a456", "１２３４５６", "1" * 100])
def test_malformed_codes_are_refused(typed):
    assert otp.verify_totp(otp.new_secret(), typed, FakeClock().now(), None) is None


def test_wrong_code_is_refused():
    clock = FakeClock()
    secret = otp.new_secret()
    right = {code_at(secret, clock.now() + dt.timedelta(seconds=30 * k)) for k in (-1, 0, 1)}
    wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in right)
    assert otp.verify_totp(secret, wrong, clock.now(), None) is None


def test_provisioning_uri_has_issuer_label_secret_and_issuer_parameter():
    secret = otp.new_secret()
    uri = otp.provisioning_uri(secret, "jean.dupont@ac-amiens.fr", "Académie d'Amiens")
    parsed = urlparse(uri)
    assert (parsed.scheme, parsed.netloc) == ("otpauth", "totp")
    assert unquote(parsed.path) == "/Académie d'Amiens:jean.dupont@ac-amiens.fr"
    query = parse_qs(parsed.query)
    assert query["secret"] == [secret] and query["issuer"] == ["Académie d'Amiens"]
    assert pyotp.parse_uri(uri).at(59) == pyotp.TOTP(secret).at(59)  # defaults: SHA-1, 6, 30 s


def test_provisioning_uri_refuses_a_colon():
    with pytest.raises(ValueError, match=":"):
        otp.provisioning_uri(otp.new_secret(), "a:b", "Académie")


def test_qr_svg_is_inline_markup_with_a_title():
    uri = otp.provisioning_uri(otp.new_secret(), "jdupont", "Académie d'Amiens")
    svg = otp.qr_svg(uri)
    assert svg.startswith('<svg role="img" ') and svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg
    assert "<title>Code QR à scanner avec votre application d'authentification</title>" in svg
    assert "secret" not in svg.lower()
    assert "<title>Mon &lt;code&gt;</title>" in otp.qr_svg(uri, title="Mon <code>")


def test_recovery_codes_format_entropy_and_uniqueness():
    codes = otp.new_recovery_codes()
    assert len(codes) == 10 and len(set(codes)) == 10
    group = f"[{otp.RECOVERY_ALPHABET}]{{4}}"
    pattern = re.compile(f"{group}-{group}-{group}")
    assert all(pattern.fullmatch(code) for code in codes)
    assert not set("01ilo") & set(otp.RECOVERY_ALPHABET)
    assert 12 * math.log2(len(otp.RECOVERY_ALPHABET)) >= 50
    assert len(otp.new_recovery_codes(3)) == 3
    assert len(set(otp.new_recovery_codes(200))) == 200


def test_recovery_hash_is_keyed_and_normalised():
    code = "k7pm-x3ed-q9wa"
    stored = otp.hash_recovery_code(code, KEY)
    assert re.fullmatch(r"[0-9a-f]{64}", stored)
    for typed in ("K7PM-X3ED-Q9WA", "k7pm x3ed q9wa", "k7pmx3edq9wa", " k7pm\u2013x3ed-q9wa "):
        assert otp.hash_recovery_code(typed, KEY) == stored
    assert otp.hash_recovery_code(code, bytes(32)) != stored
    with pytest.raises(ValueError, match="32 bytes"):
        otp.hash_recovery_code(code, b"short")


def test_match_recovery_code_returns_the_one_index():
    codes = otp.new_recovery_codes()
    hashes = [otp.hash_recovery_code(code, KEY) for code in codes]
    assert otp.match_recovery_code(codes[3].upper(), hashes, KEY) == 3
    assert otp.match_recovery_code("2222-2222-2222", hashes, KEY) is None
    assert otp.match_recovery_code(codes[3], hashes, bytes(32)) is None
    used = [*hashes[:3], "", *hashes[4:]]  # code 3 consumed, the other indexes stay
    assert otp.match_recovery_code(codes[3], used, KEY) is None
    assert otp.match_recovery_code(codes[9], used, KEY) == 9
    assert otp.match_recovery_code(codes[0], [], KEY) is None
    assert otp.match_recovery_code("", hashes, KEY) is None
    assert otp.match_recovery_code("x" * 1000, hashes, KEY) is None
