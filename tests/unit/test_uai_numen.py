"""UAI check letters and the NUMEN shape, HMACs and sealing."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from academail.core.errors import InvalidInput
from academail.identity import numen
from academail.identity.uai import UAI_LETTERS, departement_of, normalise_uai, uai_check_letter


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0750654D", "0750654D"),  # lycée Louis-le-Grand, Paris
        ("0750654d", "0750654D"),
        (" 0750 654D ", "0750654D"),
    ],
)
def test_uai_valid(raw, expected):
    assert normalise_uai(raw) == expected


@pytest.mark.parametrize("raw", ["0750654E", "075065D", "07506541", "A750654D", "", "0750654DD"])
def test_uai_invalid(raw):
    with pytest.raises(InvalidInput):
        normalise_uai(raw)


@given(st.integers(min_value=0, max_value=9_999_999))
def test_uai_letter_is_one_of_23_and_only_it_validates(number):
    digits = f"{number:07d}"
    letter = uai_check_letter(digits)
    assert letter in UAI_LETTERS and letter not in "IOQ"
    assert normalise_uai(digits + letter) == digits + letter
    wrong = next(c for c in UAI_LETTERS if c != letter)
    with pytest.raises(InvalidInput):
        normalise_uai(digits + wrong)


@pytest.mark.parametrize(
    ("uai", "dep"),
    [
        ("0801234X", "80"),
        ("0600001A", "60"),
        ("0020001A", "02"),
        ("6200001A", "2A"),
        ("9710001A", "971"),
    ],
)
def test_departement_of(uai, dep):
    assert departement_of(uai) == dep


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20E0712345ABC", "20E0712345ABC"),
        ("20 e07 1234 5abc", "20E0712345ABC"),
        ("08A9900000001", "08A9900000001"),
    ],
)
def test_numen_valid(raw, expected):
    assert numen.normalise_numen(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "20E0712345AB",
        "20E0712345ABCD",
        "2XE0712345ABC",
        "20707123456AB",
        "20E0X12345ABC",
        "20É0712345ABC",
    ],
)
def test_numen_invalid_and_not_echoed(raw):
    with pytest.raises(InvalidInput) as caught:
        numen.normalise_numen(raw)
    if len(raw) > 4:
        assert raw.replace(" ", "").upper() not in caught.value.message


KEY = os.urandom(32)
BIRTH = dt.date(1984, 3, 9)


def test_keys_are_stable_keyed_and_distinct():
    a = numen.lookup_key("20E0712345ABC", BIRTH, KEY)
    assert a == numen.lookup_key(" 20e07 12345abc", BIRTH, KEY)
    assert a != numen.lookup_key("20E0712345ABC", dt.date(1984, 3, 10), KEY)
    assert a != numen.lookup_key("20E0712345ABC", BIRTH, os.urandom(32))
    assert numen.numen_key("20E0712345ABC", KEY) != a
    assert "20E0712345ABC" not in a


def test_short_key_refused():
    with pytest.raises(ValueError):
        numen.numen_key("20E0712345ABC", b"short")


def test_seal_is_bound_to_the_row_and_key():
    sealed = numen.seal("20E0712345ABC", "agent-1", KEY)
    assert b"20E0712345ABC" not in sealed
    assert numen.unseal(sealed, "agent-1", KEY) == "20E0712345ABC"
    with pytest.raises(InvalidInput):
        numen.unseal(sealed, "agent-2", KEY)
    with pytest.raises(InvalidInput):
        numen.unseal(sealed, "agent-1", os.urandom(32))
    assert numen.seal("20E0712345ABC", "agent-1", KEY) != sealed  # fresh nonce


def test_mask_shows_only_the_academie_and_category():
    assert numen.mask("20E0712345ABC") == "20E" + "•" * 10
