"""Image captcha, its audio alternative (bundled and French voices) and answer checking."""

from __future__ import annotations

import io
import os
import shutil
import struct
import wave
from pathlib import Path

import pytest
from PIL import Image

from academail.identity import captcha

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HAVE_TOOLS = shutil.which("espeak-ng") is not None and shutil.which("sox") is not None
IN_CI = os.environ.get("CI", "").lower() == "true"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which PNG requires first."""
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def wav_params(data: bytes):
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    with wave.open(io.BytesIO(data)) as reader:
        return reader.getparams()


@pytest.fixture(scope="module")
def french_voices(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # scripts/test installs espeak-ng and sox; under CI=true a missing tool fails.
    if not HAVE_TOOLS:
        if IN_CI:
            pytest.fail("CI=true and espeak-ng/sox not installed")
        pytest.skip("platform condition: espeak-ng/sox not installed")
    target = tmp_path_factory.mktemp("voices")
    assert captcha.build_french_voices(target) is True
    return target


def test_challenges_are_digits_of_the_asked_length():
    challenges = {captcha.new_challenge() for _ in range(200)}
    assert all(len(c) == 6 and c.isascii() and c.isdigit() for c in challenges)
    assert len(challenges) > 190
    assert len(captcha.new_challenge(4)) == 4
    for length in (3, 13):
        with pytest.raises(ValueError):
            captcha.new_challenge(length)


def test_image_is_a_png_of_the_expected_size():
    data = captcha.render_image("482913")
    assert data.startswith(PNG_SIGNATURE)
    assert png_size(data) == captcha.IMAGE_SIZE
    assert 2_000 < len(data) < 60_000


def _luminance(rgb: tuple[int, ...]) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = rgb[:3]
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


@pytest.mark.parametrize("attempt", range(5))
def test_image_digits_contrast_with_the_background(attempt):
    """RGAA 3.2 / WCAG 1.4.3: a real share of the image is ink at 4.5:1 or more.

    The noise dots and curve alone cover about 1 % of the image; six legible digits
    bring it well above 5 %. (captcha 0.7.1 blends dark glyphs almost away: ~1 %.)
    """
    with Image.open(io.BytesIO(captcha.render_image(captcha.new_challenge()))) as image:
        width, height = image.size
        colours = image.convert("RGB").getcolors(width * height)
    assert colours
    background = _luminance(max(colours)[1])
    strong = sum(n for n, rgb in colours if (background + 0.05) / (_luminance(rgb) + 0.05) >= 4.5)
    assert strong / (width * height) > 0.04


@pytest.mark.parametrize("answer", ["", "12a4", "１２３４", "1" * 40])
def test_only_digit_answers_are_rendered(answer, tmp_path):
    with pytest.raises(ValueError, match="digits"):
        captcha.render_image(answer)
    with pytest.raises(ValueError, match="digits"):
        captcha.render_audio(answer, None)


def test_audio_with_bundled_voices_is_a_wav_of_several_seconds():
    params = wav_params(captcha.render_audio("4829", None))
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 1, 8000)
    assert params.nframes > 4 * 8000  # 4 digits with 1–3 s gaps, beeps and noise


def test_french_voices_are_built_for_every_digit(french_voices):
    for digit in captcha.ALPHABET:
        voice = french_voices / digit / "fr.wav"
        with wave.open(str(voice)) as reader:
            params = reader.getparams()
        assert (params.nchannels, params.sampwidth, params.framerate) == (1, 1, 8000)
        assert 0.3 * 8000 < params.nframes < 3 * 8000  # one spoken word
    assert not list(french_voices.rglob("*.tmp"))


def test_audio_with_french_voices(french_voices):
    data = captcha.render_audio("048213", french_voices)
    params = wav_params(data)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 1, 8000)
    assert params.nframes > 6 * 8000


def test_audio_refuses_a_voice_directory_missing_a_digit(tmp_path):
    (tmp_path / "1").mkdir()
    with wave.open(str(tmp_path / "1" / "fr.wav"), "wb") as writer:
        writer.setparams((1, 1, 8000, 0, "NONE", "not compressed"))
        writer.writeframes(bytes([128]) * 800)
    (tmp_path / "2").mkdir()  # an empty digit directory is a missing voice too
    with pytest.raises(FileNotFoundError, match="for 0, 2 in"):
        captcha.render_audio("1020", tmp_path)


def test_build_french_voices_without_the_tools_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(captcha.shutil, "which", lambda name: None)
    assert captcha.build_french_voices(tmp_path / "voices") is False
    assert not (tmp_path / "voices").exists()


@pytest.mark.parametrize(
    ("given", "ok"),
    [
        ("482913", True),
        (" 482 913 ", True),
        ("482\u00a0913", True),
        ("48291", False),
        ("4829130", False),
        ("482914", False),
        ("", False),
        ("4" * 1000, False),
    ],
)
def test_check_answer(given, ok):
    assert captcha.check_answer("482913", given) is ok


def test_check_answer_ignores_case_and_never_matches_an_empty_challenge():
    assert captcha.check_answer("AB12", "ab 12")
    assert not captcha.check_answer("", "")
    assert not captcha.check_answer("   ", "")
    assert not captcha.check_answer("482913", "４８２９１３")  # full-width digits


def test_build_french_voices_reports_a_failing_tool(tmp_path, monkeypatch):
    false = shutil.which("false")
    assert false is not None
    monkeypatch.setattr(captcha.shutil, "which", lambda name: false)
    with pytest.raises(RuntimeError, match="voices failed: false"):
        captcha.build_french_voices(tmp_path / "voices")
