"""Image captcha with an audio alternative, for the NUMEN self-service page.

Security posture: served to anonymous visitors before any authentication. The
captcha only slows down scripted guessing of NUMEN + birth date (the real limit is
the rate limiting and lockout of the self-service service); it is not a secret.

Why digits only, for the image *and* the sound: RGAA 4.1 criterion 1.5 (WCAG
1.1.1) requires a non-visual alternative to an image captcha, and the audio
must speak exactly what the image shows. French digits are spoken unambiguously
("zéro" … "neuf"), whereas spelled letters collide in French (B/D/P/T/V all end in
"é", M/N, S/F), and letters would also need case and look-alike rules. Six digits
(about 20 bits) are plenty for a single-use challenge; the page should use
``inputmode="numeric"`` so phones show a keypad (on AZERTY keyboards digits need
Shift, the keypad does not).

Contract for the caller: keep the answer server-side (session), delete it at the
first check whatever the result (one attempt per challenge), never put it in the
image ``alt`` or the page. Everything here is CPU-bound and synchronous (PIL, the
pure-Python WAV mixing of ``captcha``, subprocesses): call it through
:func:`academail.core.offload.off_loop`. The audio mixing holds the GIL for about
a third of a second, so the audio endpoint deserves its own rate limit.

French voices (:func:`build_french_voices`) are generated once at ``academail
init`` with espeak-ng and sox; without them the package's bundled English digits
are used.
"""

from __future__ import annotations

import hmac
import io
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from captcha.audio import AudioCaptcha
from captcha.image import ImageCaptcha
from PIL import Image

__all__ = [
    "ALPHABET",
    "build_french_voices",
    "check_answer",
    "new_challenge",
    "render_audio",
    "render_image",
]

ALPHABET = "0123456789"
IMAGE_SIZE = (280, 90)
_MAX_ANSWER = 32
_TOOL_TIMEOUT = 30.0


def new_challenge(length: int = 6) -> str:
    """A random answer of ``length`` digits (see the module docstring for why digits)."""
    if not 4 <= length <= 12:
        raise ValueError("a captcha has between 4 and 12 digits")
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def _require_digits(answer: str) -> None:
    if not answer or len(answer) > _MAX_ANSWER or any(c not in ALPHABET for c in answer):
        raise ValueError("a captcha answer is made of digits only")


def _channels(low: int, high: int) -> tuple[int, int, int]:
    red, green, blue = (low + secrets.randbelow(high - low + 1) for _ in range(3))
    return red, green, blue


def render_image(answer: str) -> bytes:
    """The answer drawn as a distorted 280×90 PNG (4–10 KB, a few milliseconds).

    Ink with channels 0–90 on paper with channels 238–255: a contrast of at least
    5.9:1 (RGAA 3.2, WCAG 1.4.3 asks 4.5:1). ``captcha`` 0.7.1 does take
    ``fg_color``, but it pastes each glyph through a mask made from the glyph's
    *luminance*, so dark digits came out nearly transparent (light grey on the
    page) while only the noise dots stayed dark. The library therefore draws white
    on black here, which is a clean coverage mask (glyphs, dots, curve, smoothing),
    and the colours are laid through that mask.
    """
    _require_digits(answer)
    width, height = IMAGE_SIZE
    generator = ImageCaptcha(width=width, height=height)
    ink = generator.generate_image(answer, bg_color=(0, 0, 0), fg_color=(255, 255, 255, 255))
    mask = ink.convert("L")
    image = Image.composite(
        Image.new("RGB", IMAGE_SIZE, _channels(0, 90)),
        Image.new("RGB", IMAGE_SIZE, _channels(238, 255)),
        mask,
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def render_audio(answer: str, voice_dir: Path | None) -> bytes:
    """The answer spoken over noise, as an 8 kHz 8-bit mono WAV.

    ``voice_dir`` holds ``<digit>/*.wav`` (see :func:`build_french_voices`); None
    uses the English digits bundled with ``captcha``.
    """
    _require_digits(answer)
    if voice_dir is not None:
        _require_voices(voice_dir, answer)
    audio = AudioCaptcha(voicedir=None if voice_dir is None else str(voice_dir))
    return bytes(audio.generate(answer))


def _require_voices(voice_dir: Path, answer: str) -> None:
    missing = sorted(d for d in set(answer) if not any((voice_dir / d).glob("*.wav")))
    if missing:
        raise FileNotFoundError(f"no captcha voice for {', '.join(missing)} in {voice_dir}")


def check_answer(expected: str, given: str) -> bool:
    """Whether ``given`` is the answer: spaces and case ignored, constant time.

    An empty ``expected`` (no challenge in the session) never matches, not even an
    empty answer. Case is ignored so that the same check serves an alphanumeric
    challenge should one ever be used.
    """
    want = "".join(expected.split()).upper().encode("utf-8")
    if not want or len(given) > _MAX_ANSWER:
        return False
    got = "".join(given.split()).upper().encode("utf-8")
    return hmac.compare_digest(want, got)


def build_french_voices(target: Path) -> bool:
    """Writes ``target/<digit>/fr.wav`` for 0–9 spoken by espeak-ng in French.

    Returns False, writing nothing, when ``espeak-ng`` or ``sox`` is not installed
    (the caller then falls back to the bundled voices). Each file is converted by
    sox to what ``captcha.audio`` mixes: 8 kHz, mono, 8-bit unsigned; it is written
    under a temporary name then renamed, so a half-built directory never has a
    truncated file. A failing tool raises :class:`RuntimeError`.
    """
    espeak, sox = shutil.which("espeak-ng"), shutil.which("sox")
    if espeak is None or sox is None:
        return False
    with tempfile.TemporaryDirectory(prefix="academail-voices-") as scratch:
        for digit in ALPHABET:
            raw = Path(scratch) / f"{digit}.wav"
            _run([espeak, "-v", "fr", "-s", "130", "-w", str(raw), digit])
            _convert(sox, raw, target / digit / "fr.wav")
    return True


def _convert(sox: str, raw: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_suffix(".wav.tmp")
    args = ["-r", "8000", "-c", "1", "-b", "8", "-e", "unsigned-integer"]
    _run([sox, str(raw), "-t", "wav", *args, str(partial)])
    partial.replace(final)


def _run(command: list[str]) -> None:
    """Runs a tool found by :func:`shutil.which` with fixed arguments (no shell)."""
    try:
        subprocess.run(  # noqa: S603 - absolute tool path, constant arguments
            command, check=True, capture_output=True, timeout=_TOOL_TIMEOUT
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise RuntimeError(f"building the captcha voices failed: {Path(command[0]).name}") from exc
