"""Credential letters: one printed A4 page per new account, in French.

For each new account the rectorat posts a letter with the login, the address, a
temporary password, the NUMEN, the portal address, the activation deadline and the
support contacts (mission.md, part 3). This module only renders: data in, PDF bytes
out, no database, no clock (the issue date comes with the batch).

What a caller must know:

- **Posting order.** :func:`sort_for_posting` orders letters by département, then
  establishment (UAI), then name, so that one printed batch splits into one bundle per
  DSDEN and per establishment without sorting paper by hand.
- **Window envelope.** The recipient block sits where a French DL window envelope
  (window 100 × 45 mm, about 100 mm from the left edge and 50 mm from the top, letter
  folded in three at 99 mm) shows it, with a few millimetres of play all round. It
  follows La Poste's address rules (NF Z10-011): six lines at most, nothing blank,
  postcode and town in capitals without accents on the last line. Nothing else
  shows through the window but the mention "Personnel et confidentiel".
- **Confidentiality.** The temporary password, the NUMEN and the activation link are
  drawn on the page and nowhere else: not in the PDF metadata, not in error messages
  (:class:`~academail.core.errors.InvalidInput` names the login at most), not in the
  ``repr`` of :class:`LetterContent`. The PDF itself is therefore a secret; callers
  store it encrypted or not at all.
- **Speed.** Rendering is CPU-bound: callers run it through
  :func:`academail.core.offload.off_loop` (style.md §10). The text shared by every
  letter of a batch is drawn once as a PDF form XObject that each page references;
  TrueType fonts are parsed once per process; the QR code is drawn as raw PDF
  rectangles, one per horizontal run of dark modules.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

import segno
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from academail.core.errors import InvalidInput
from academail.core.text import fold_ascii, identifier_part

__all__ = [
    "DEFAULT_FONT_PATHS",
    "LetterContent",
    "LetterLayout",
    "find_font",
    "french_date",
    "qr_matrix",
    "render_letters",
    "sort_for_posting",
]

DEFAULT_FONT_PATHS: Final[tuple[str, str]] = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)
"""Regular and bold fonts of Debian's ``fonts-dejavu-core``: every French glyph."""

_MONTHS: Final = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_FRENCH_GLYPHS: Final = "éèêëàâçîïôùûüÿœŒæÆÉÈÊÀÂÇÎÔÙÛ«»’–…"
_MAX_ADDRESS_LINES: Final = 4  # + name line + postcode line = La Poste's six.
_MIN_WINDOW_SIZE: Final = 8.5  # below, a line of the address block is wrapped if room
_MM: Final = 72 / 25.4
_PAGE_H: Final[float] = A4[1]
_LEFT: Final = 20 * _MM
_RIGHT: Final = 190 * _MM
_WINDOW_X: Final = 110 * _MM
_WINDOW_W: Final = 85 * _MM
_VALUE_X: Final = 72 * _MM
_QR_X: Final = 164 * _MM
_QR_TOP_MM: Final = 204.5
_QR_SIZE: Final = 26 * _MM
_SECURITY_TOP_MM: Final = 271
_FORM: Final = "academailLetterBackground"
_GREY: Final = 0.35
_NO_BREAK_BEFORE = re.compile(r" (?=[:;!?»])")
_NO_BREAK_AFTER = re.compile(r"(?<=«) ")

# ASCII85 stream wrapping is a relic of 7-bit transports: it makes the file 25 %
# bigger and reportlab 4+ runs it in pure Python (a sixth of the rendering time).
# This is a process-wide reportlab setting; the letters are its only user here.
rl_config.useA85 = 0

_QR_MASK: Final = 4
"""ISO/IEC 18004 §7.8.3 has the encoder try the eight data masks and keep the one
with the lowest penalty. segno does it in pure Python: 3 ms a code, twice the rest
of a page, which would cap a batch at about 210 pages/s. Every reader accepts any
mask (the format information says which one is used) and a laser-printed page is
the easy case for a reader, so the mask is fixed. Mask 4 has the lowest mean
penalty on 300 activation URLs of the platform's shape (segno picks it or mask 3
most often); its penalty is on average 5 % above the best mask's (22 % at worst).
Rasterised at 75 dpi, zbarimg decoded 97 to 99 % of such codes, with mask 4 as with
segno's choice (two runs of 100 codes each); at 100 dpi, all of them."""


@dataclass(frozen=True, slots=True)
class LetterContent:
    """What one agent's letter says. Secrets are kept out of ``repr``."""

    civility: str
    first_name: str
    usage_name: str
    address_lines: tuple[str, ...]
    postal_code: str
    city: str
    login: str
    address: str
    temporary_password: str = field(repr=False)
    numen: str = field(repr=False)
    activation_url: str = field(repr=False)
    activation_deadline: date
    departement_code: str
    establishment_uai: str
    establishment_name: str


@dataclass(frozen=True, slots=True)
class LetterLayout:
    """What every letter of a batch shares: sender, portal, support, fonts, date."""

    academie_name: str
    sender_lines: tuple[str, ...]
    portal_url: str
    support_lines: tuple[str, ...]
    font_path: str
    font_bold_path: str
    issued_on: date
    sender_city: str = "Amiens"


@dataclass(frozen=True, slots=True)
class _Fonts:
    regular: str
    bold: str


def french_date(day: date) -> str:
    """``23 novembre 2026``, ``1er mai 2027``: French months without the locale."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {_MONTHS[day.month - 1]} {day.year}"


def find_font(paths: Iterable[str]) -> str:
    """The first existing file among ``paths``, e.g. a configured one then a default.

    Raises :class:`InvalidInput` naming the Debian package when none exists.
    """
    candidates = list(paths)
    for path in candidates:
        if Path(path).is_file():
            return path
    tried = ", ".join(candidates) or "aucun chemin"
    raise InvalidInput(
        "Police TrueType introuvable pour les courriers d'identifiants "
        f"(chemins essayés : {tried}). Installez le paquet Debian fonts-dejavu-core "
        "ou indiquez le chemin d'une police TTF couvrant les accents français."
    )


def _sort_name(text: str) -> tuple[str, str]:
    """Accent-, case- and punctuation-blind first, then exact, for a stable order."""
    return identifier_part(text), unicodedata.normalize("NFC", text).casefold()


def sort_for_posting(letters: Iterable[LetterContent]) -> list[LetterContent]:
    """Letters in posting order: département, establishment UAI, usage name, first name."""
    return sorted(
        letters,
        key=lambda letter: (
            letter.departement_code,
            letter.establishment_uai.upper(),
            _sort_name(letter.usage_name),
            _sort_name(letter.first_name),
            letter.login,
        ),
    )


# --- fonts ----------------------------------------------------------------------

_FONT_NAMES: dict[str, str] = {}
_FONT_GLYPHS: dict[str, frozenset[int]] = {}
_FONT_LOCK = threading.Lock()


def _register_font(path: str) -> str:
    """Registers the TTF at ``path`` once per process; returns its reportlab name."""
    with _FONT_LOCK:
        name = _FONT_NAMES.get(path)
        if name is not None:
            return name
        find_font([path])
        name = "academail-" + hashlib.sha256(path.encode()).hexdigest()[:12]
        try:
            font = TTFont(name, path)
        except (OSError, TTFError) as exc:
            raise InvalidInput(f"Police TrueType illisible : {path}") from exc
        glyphs = frozenset(font.face.charToGlyph)
        missing = "".join(ch for ch in _FRENCH_GLYPHS if ord(ch) not in glyphs)
        if missing:
            raise InvalidInput(f"La police {path} n'a pas les caractères français {missing}.")
        pdfmetrics.registerFont(font)
        _FONT_GLYPHS[name] = glyphs
        _FONT_NAMES[path] = name
        return name


def _unprintable(texts: Iterable[str], glyphs: frozenset[int]) -> str:
    """The characters of ``texts`` the font has no glyph for (drawn as empty boxes)."""
    return "".join(sorted({ch for text in texts for ch in text if ord(ch) not in glyphs}))


def _check_layout(layout: LetterLayout, glyphs: frozenset[int]) -> None:
    texts = (
        layout.academie_name,
        layout.sender_city,
        layout.portal_url,
        *layout.sender_lines,
        *layout.support_lines,
    )
    missing = _unprintable(texts, glyphs)
    if missing:
        raise InvalidInput(f"L'en-tête des courriers contient des caractères absents : {missing}.")


def _check_letter(letter: LetterContent, glyphs: frozenset[int]) -> None:
    """Refuses, naming only the login, what would print wrong or miss the window."""
    if len(_street_lines(letter)) > _MAX_ADDRESS_LINES:
        raise InvalidInput(
            f"Adresse postale de {letter.login} trop longue pour la fenêtre de "
            f"l'enveloppe ({_MAX_ADDRESS_LINES} lignes au plus avant le code postal)."
        )
    texts = (
        letter.civility,
        letter.first_name,
        letter.usage_name,
        *letter.address_lines,
        letter.city,
        letter.establishment_name,
    )
    missing = _unprintable(texts, glyphs)
    if missing:
        raise InvalidInput(
            f"Le courrier de {letter.login} contient des caractères absents de la "
            f"police : {missing}."
        )
    for secret in (letter.temporary_password, letter.numen):
        if not secret or any(ord(ch) not in glyphs for ch in secret):
            raise InvalidInput(f"Mot de passe provisoire ou NUMEN non imprimable : {letter.login}.")


# --- drawing helpers ------------------------------------------------------------


def _y(top_mm: float) -> float:
    """Page coordinate of a baseline given in millimetres from the top edge."""
    return _PAGE_H - top_mm * _MM


def _fit(text: str, font: str, size: float, width: float, char_space: float = 0) -> float:
    """``size``, reduced so that ``text`` fits in ``width`` points."""
    natural: float = pdfmetrics.stringWidth(text, font, size) + char_space * len(text)
    return size if natural <= width else size * width / natural


@functools.lru_cache(maxsize=1024)
def _wrap(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    """Greedy word wrap measured with the real font metrics.

    Cached: consecutive letters of a sorted batch share their establishment.
    """
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        if not word:
            continue
        candidate = f"{current} {word}" if current else word
        if current and pdfmetrics.stringWidth(candidate, font, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return (*lines, current) if current else tuple(lines)


def _paragraph(
    canv: Canvas, text: str, font: str, size: float, x: float, top_mm: float, width: float
) -> float:
    """Draws wrapped ``text``; returns the top (mm) of the next line.

    French spacing: no line starts with ``:``, ``?`` or ``»``, none ends with ``«``.
    """
    text = _NO_BREAK_AFTER.sub("\u00a0", _NO_BREAK_BEFORE.sub("\u00a0", text))
    leading_mm = size * 1.3 / _MM
    canv.setFont(font, size)
    for line in _wrap(text, font, size, width):
        canv.drawString(x, _y(top_mm), line)
        top_mm += leading_mm
    return top_mm


def qr_matrix(url: str) -> tuple[bytearray, ...]:
    """The QR code of ``url`` as segno builds it: rows of 0/1, no quiet zone.

    Level M (15 % of the code may be lost to a fold or a stain). Never a Micro QR,
    which phone readers often ignore. The mask is fixed (:data:`_QR_MASK`): see there.
    """
    matrix: tuple[bytearray, ...] = segno.make(url, error="m", micro=False, mask=_QR_MASK).matrix
    return matrix


def _qr_operators(url: str, x: float, top: float, size: float) -> str:
    """Raw PDF operators filling one rectangle per run of dark QR modules.

    ``top`` is the page coordinate of the code's top edge; the quiet zone is left
    blank on the page. Drawing runs instead of modules keeps a version-5 code to
    about 300 rectangles.
    """
    matrix = qr_matrix(url)
    module = size / len(matrix)
    ops = [f"q 0 g {module:.4f} 0 0 {-module:.4f} {x:.2f} {top:.2f} cm"]
    for row, cells in enumerate(matrix):
        column = 0
        for run in bytes(cells).split(b"\x00"):
            if run:
                ops.append(f"{column} {row} {len(run)} 1 re")
            column += len(run) + 1
    ops.append("f Q")
    return "\n".join(ops)


def _new_canvas(buffer: io.BytesIO, layout: LetterLayout) -> Canvas:
    canv = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1, lang="fr-FR")
    canv.setTitle(f"Identifiants de messagerie – {layout.academie_name}")
    canv.setSubject("Courriers d'identifiants de messagerie académique")
    canv.setAuthor(layout.sender_lines[0] if layout.sender_lines else layout.academie_name)
    canv.setCreator("academail")
    return canv


# --- what every page shares (drawn once, as a form) -----------------------------


def _draw_sender(canv: Canvas, layout: LetterLayout, fonts: _Fonts) -> None:
    canv.setFont(fonts.bold, 12)
    canv.drawString(_LEFT, _y(20), layout.academie_name)
    canv.setFont(fonts.regular, 9)
    for index, line in enumerate(layout.sender_lines):
        canv.drawString(_LEFT, _y(26 + 4.2 * index), line)


def _draw_marks(canv: Canvas, fonts: _Fonts, layout: LetterLayout) -> None:
    """Fold marks (thirds of 99 mm), the window mention and the place and date."""
    canv.setStrokeGray(0.6)
    canv.setLineWidth(0.4)
    for top_mm in (99, 198):
        canv.line(4 * _MM, _y(top_mm), 9 * _MM, _y(top_mm))
    canv.setFillGray(_GREY)
    canv.setFont(fonts.bold, 7.5)
    canv.drawString(_WINDOW_X, _y(55), "PERSONNEL ET CONFIDENTIEL")
    canv.setFillGray(0)
    canv.setFont(fonts.regular, 10)
    issued = f"{layout.sender_city}, le {french_date(layout.issued_on)}"
    canv.drawRightString(_RIGHT, _y(101), issued)


def _draw_credentials_frame(canv: Canvas, fonts: _Fonts, academie: str) -> None:
    canv.setFont(fonts.bold, 14)
    canv.drawString(_LEFT, _y(109), "Vos identifiants de messagerie académique")
    text = (
        f"Un compte de messagerie de l'{_lower_first(academie)} a été créé à votre nom. "
        "Voici vos identifiants personnels : conservez ce courrier en lieu sûr et ne "
        "le communiquez à personne."
    )
    _paragraph(canv, text, fonts.regular, 10, _LEFT, 123, _RIGHT - _LEFT)
    canv.setFillGray(0.94)
    canv.setStrokeGray(0.7)
    canv.roundRect(_LEFT, _y(183), _RIGHT - _LEFT, 52 * _MM, 2 * _MM, stroke=1, fill=1)
    canv.setFillGray(1)
    canv.setStrokeGray(0.2)
    canv.rect(_VALUE_X, _y(163), 113 * _MM, 12 * _MM, stroke=1, fill=1)
    canv.setFillGray(0)
    canv.setFont(fonts.regular, 10)
    labels = (("Identifiant", 139), ("Adresse électronique", 146), ("NUMEN", 170.5))
    for label, top_mm in (*labels, ("Mot de passe provisoire", 157.5)):
        canv.drawString(25 * _MM, _y(top_mm), label)
    canv.setFillGray(_GREY)
    canv.setFont(fonts.regular, 7.5)
    canv.drawString(25 * _MM, _y(161.5), "(attention aux majuscules)")
    canv.setFillGray(0)
    warning = (
        "Votre NUMEN est strictement confidentiel : il vous permet de retrouver vos "
        "identifiants. L'académie ne vous le demandera jamais, ni par courriel ni par "
        "téléphone."
    )
    _paragraph(canv, warning, fonts.regular, 8.5, 25 * _MM, 176, 160 * _MM)


def _lower_first(text: str) -> str:
    """``Académie d'Amiens`` → ``académie d'Amiens``, for use inside a sentence."""
    return text[:1].lower() + text[1:]


def _draw_after_deadline(canv: Canvas, fonts: _Fonts) -> None:
    text = (
        "Passé ce délai, le mot de passe provisoire ne fonctionne plus : utilisez votre "
        "NUMEN sur le portail (« Identifiant ou mot de passe oublié ») ou contactez "
        "l'assistance."
    )
    _paragraph(canv, text, fonts.regular, 9, _LEFT, 195, _RIGHT - _LEFT)


def _draw_steps(canv: Canvas, fonts: _Fonts, portal_url: str) -> float:
    """The five steps of the first login, beside the QR code; returns the next top."""
    canv.setFont(fonts.bold, 11)
    canv.drawString(_LEFT, _y(208), "Première connexion")
    steps = (
        f"Rendez-vous sur {portal_url} ou scannez le code ci-contre.",
        "Connectez-vous avec votre identifiant et votre mot de passe provisoire.",
        "Choisissez votre nouveau mot de passe, selon les règles affichées.",
        "Indiquez un mobile et une adresse électronique personnelle de secours.",
        "Confirmez-les avec le code reçu par SMS ou courriel : le compte est actif.",
    )
    top_mm = 214.0
    for number, step in enumerate(steps, start=1):
        canv.setFont(fonts.bold, 9.5)
        canv.drawString(_LEFT, _y(top_mm), f"{number}.")
        top_mm = _paragraph(canv, step, fonts.regular, 9.5, _LEFT + 5 * _MM, top_mm, 134 * _MM)
        top_mm += 0.6
    canv.setFont(fonts.regular, 7.5)
    caption_x = _QR_X + _QR_SIZE / 2
    canv.drawCentredString(caption_x, _y(_QR_TOP_MM + 29.5), "Scannez pour activer")
    return max(top_mm + 3, _QR_TOP_MM + 38)


def _draw_support(canv: Canvas, fonts: _Fonts, lines: Sequence[str], top_mm: float) -> None:
    canv.setFont(fonts.bold, 11)
    canv.drawString(_LEFT, _y(top_mm), "Besoin d'aide ?")
    top_mm += 5.5
    for line in lines:
        top_mm = _paragraph(canv, line, fonts.regular, 9, _LEFT, top_mm, _RIGHT - _LEFT)
    if top_mm - 3 > _SECURITY_TOP_MM:
        raise InvalidInput("Trop de lignes de contacts d'assistance pour tenir sur la page.")


def _draw_security(canv: Canvas, fonts: _Fonts, academie: str) -> None:
    canv.setStrokeGray(0.2)
    canv.setLineWidth(0.8)
    canv.rect(_LEFT, _y(287), _RIGHT - _LEFT, 16 * _MM, stroke=1, fill=0)
    canv.setFont(fonts.bold, 9)
    canv.drawString(23 * _MM, _y(276.5), "Sécurité")
    text = (
        f"L'{_lower_first(academie)} ne vous demandera jamais votre mot de passe, "
        "ni par courriel, ni par téléphone, ni par SMS. Tout message qui le demande "
        "est une tentative d'hameçonnage : ne répondez pas et signalez-le à l'assistance."
    )
    _paragraph(canv, text, fonts.regular, 8.5, 40 * _MM, 276.5, 147 * _MM)


def _draw_background(canv: Canvas, layout: LetterLayout, fonts: _Fonts) -> None:
    """Everything identical on every page of the batch, as one form XObject."""
    canv.beginForm(_FORM)
    _draw_sender(canv, layout, fonts)
    _draw_marks(canv, fonts, layout)
    _draw_credentials_frame(canv, fonts, layout.academie_name)
    _draw_after_deadline(canv, fonts)
    next_top = _draw_steps(canv, fonts, layout.portal_url)
    _draw_support(canv, fonts, layout.support_lines, next_top)
    _draw_security(canv, fonts, layout.academie_name)
    canv.endForm()


# --- what each page says --------------------------------------------------------


def _salutation(civility: str) -> str:
    key = civility.strip().rstrip(".").casefold()
    if key in {"mme", "madame", "mlle", "mademoiselle"}:
        return "Madame,"
    if key in {"m", "monsieur", "mr"}:
        return "Monsieur,"
    return "Madame, Monsieur,"


def _street_lines(letter: LetterContent) -> tuple[str, ...]:
    """Postal lines without blanks: La Poste wants no empty line in the block."""
    return tuple(line.strip() for line in letter.address_lines if line.strip())


def _split_for_window(line: str, font: str, spare: int) -> tuple[str, ...]:
    """A too-long address line on at most ``1 + spare`` lines; the last takes the rest."""
    parts = _wrap(line, font, 9, _WINDOW_W)
    if len(parts) <= spare + 1:
        return parts
    return (*parts[:spare], " ".join(parts[spare:]))


def _draw_recipient(canv: Canvas, letter: LetterContent, fonts: _Fonts) -> None:
    """The window block: name, street lines, then ``80000 AMIENS`` (NF Z10-011)."""
    name = " ".join(p for p in (letter.civility, letter.first_name, letter.usage_name) if p)
    city_line = f"{letter.postal_code} {fold_ascii(letter.city).upper()}"
    lines = (name, *_street_lines(letter), city_line)
    spare = _MAX_ADDRESS_LINES + 2 - len(lines)
    top_mm = 61.0
    for index, line in enumerate(lines):
        font = fonts.bold if index == 0 else fonts.regular
        parts: tuple[str, ...] = (line,)
        if spare and _fit(line, font, 10, _WINDOW_W) < _MIN_WINDOW_SIZE:
            parts = _split_for_window(line, font, spare)
            spare -= len(parts) - 1
        for part in parts:
            canv.setFont(font, _fit(part, font, 10, _WINDOW_W))
            canv.drawString(_WINDOW_X, _y(top_mm), part)
            top_mm += 4.6


def _draw_reference(canv: Canvas, letter: LetterContent, fonts: _Fonts) -> None:
    """Left of the window, hidden by the envelope: which bundle this letter goes to."""
    canv.setFillGray(_GREY)
    uai = letter.establishment_uai
    establishment = f"{letter.establishment_name} ({uai})" if uai else letter.establishment_name
    lines = _wrap(establishment, fonts.regular, 8.5, 75 * _MM)
    if len(lines) > 2:
        lines = (lines[0], lines[1] + " …")
    canv.setFont(fonts.regular, 8.5)
    canv.drawString(_LEFT, _y(52), f"Département {letter.departement_code}")
    for index, line in enumerate(lines):
        canv.drawString(_LEFT, _y(56 + 4 * index), line)
    canv.setFillGray(0)


def _draw_secrets(canv: Canvas, letter: LetterContent, fonts: _Fonts) -> None:
    """Login, address, password (large, spaced, boxed) and NUMEN in the grey frame."""
    width = _RIGHT - 5 * _MM - _VALUE_X
    for value, top_mm in ((letter.login, 139), (letter.address, 146)):
        canv.setFont(fonts.bold, _fit(value, fonts.bold, 11, width))
        canv.drawString(_VALUE_X, _y(top_mm), value)
    password = letter.temporary_password
    size = _fit(password, fonts.bold, 17, width - 6 * _MM, char_space=3)
    canv.setFont(fonts.bold, size)
    canv.drawString(_VALUE_X + 3 * _MM, _y(159), password, charSpace=3 * size / 17)
    canv.setFont(fonts.bold, 12)
    canv.drawString(_VALUE_X, _y(170.5), letter.numen, charSpace=1.5)


def _draw_letter(canv: Canvas, letter: LetterContent, fonts: _Fonts) -> None:
    canv.doForm(_FORM)
    _draw_reference(canv, letter, fonts)
    _draw_recipient(canv, letter, fonts)
    canv.setFont(fonts.regular, 10)
    canv.drawString(_LEFT, _y(117), _salutation(letter.civility))
    _draw_secrets(canv, letter, fonts)
    canv.setFont(fonts.bold, 10.5)
    deadline = f"Compte à activer avant le {french_date(letter.activation_deadline)}."
    canv.drawString(_LEFT, _y(190), deadline)
    canv.addLiteral(_qr_operators(letter.activation_url, _QR_X, _y(_QR_TOP_MM), _QR_SIZE))
    canv.showPage()


def render_letters(letters: Sequence[LetterContent], layout: LetterLayout) -> bytes:
    """One A4 page per letter, in the given order (see :func:`sort_for_posting`).

    CPU-bound (about 1.5 ms a page): call it through ``off_loop``. Raises
    :class:`InvalidInput` for an empty batch, a missing or incomplete font, an
    address too long for the window, support lines too many for the page or a
    character the font cannot print; messages name a login at most.
    """
    if not letters:
        raise InvalidInput("Aucun courrier d'identifiants à imprimer.")
    fonts = _Fonts(_register_font(layout.font_path), _register_font(layout.font_bold_path))
    glyphs = _FONT_GLYPHS[fonts.regular] & _FONT_GLYPHS[fonts.bold]
    _check_layout(layout, glyphs)
    for letter in letters:
        _check_letter(letter, glyphs)
    buffer = io.BytesIO()
    canv = _new_canvas(buffer, layout)
    _draw_background(canv, layout, fonts)
    for letter in letters:
        _draw_letter(canv, letter, fonts)
    canv.save()
    return buffer.getvalue()
