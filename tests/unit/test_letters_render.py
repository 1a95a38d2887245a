"""Credential letters: what each printed page says, where, and what it must not leak."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pypdf
import pytest
import segno

from academail.core.errors import InvalidInput
from academail.letters import render
from academail.letters.render import (
    DEFAULT_FONT_PATHS,
    LetterContent,
    LetterLayout,
    find_font,
    french_date,
    render_letters,
    sort_for_posting,
)

MM = 72 / 25.4
PAGE_HEIGHT = 297 * MM

pytestmark = pytest.mark.skipif(
    not all(Path(path).is_file() for path in DEFAULT_FONT_PATHS),
    reason="platform condition: Debian package fonts-dejavu-core not installed",
)

LAYOUT = LetterLayout(
    academie_name="Académie d'Amiens",
    sender_lines=(
        "Rectorat de l'académie d'Amiens",
        "Division des systèmes d'information",
        "20, boulevard d'Alsace-Lorraine",
        "80000 Amiens",
    ),
    portal_url="https://portail.ac-amiens.fr",
    support_lines=(
        "Assistance académique : 03 22 82 37 40 – assistance@ac-amiens.fr",
        "DSDEN de l'Aisne : 03 23 26 22 00",
        "DSDEN de l'Oise : 03 44 06 45 00",
        "DSDEN de la Somme : 03 22 71 25 00",
    ),
    font_path=DEFAULT_FONT_PATHS[0],
    font_bold_path=DEFAULT_FONT_PATHS[1],
    issued_on=date(2026, 11, 23),
)


def make_letter(**changes: object) -> LetterContent:
    base = LetterContent(
        civility="Mme",
        first_name="Marie-Thérèse",
        usage_name="de La Fontaine",
        address_lines=("Lycée Louis Thuillier", "70, boulevard de Saint-Quentin", "BP 2713"),
        postal_code="80027",
        city="Amiens Cedex 1",
        login="mdelafontaine",
        address="marie-therese.de-la-fontaine@ac-amiens.fr",
        temporary_password="Kp7w-Xr4m-Tz9q",
        numen="12E0123456ABC",
        activation_url="https://portail.ac-amiens.fr/activation?login=mdelafontaine",
        activation_deadline=date(2026, 12, 23),
        departement_code="80",
        establishment_uai="0800009A",
        establishment_name="Lycée Louis Thuillier",
    )
    return dataclasses.replace(base, **changes)


THERESE = make_letter()
OEDIPE = make_letter(
    civility="M.",
    first_name="Œdipe",
    usage_name="N'Diaye",
    address_lines=("12, rue de l'Œuvre",),
    postal_code="80100",
    city="Abbeville",
    login="ondiaye",
    address="oedipe.ndiaye@ac-amiens.fr",
    temporary_password="Hq3v-Nw8c-Ls2d",
    numen="07A9876543XYZ",
    activation_url="https://portail.ac-amiens.fr/activation?login=ondiaye",
)
ZOE = make_letter(
    first_name="Zoë",
    usage_name="Lefèvre",
    address_lines=("École élémentaire Jean Macé", "3, place de l'Hôtel de Ville"),
    postal_code="02100",
    city="Saint-Quentin",
    login="zlefevre",
    address="zoe.lefevre@ac-amiens.fr",
    temporary_password="Rb5t-Jd9k-Wm4x",
    numen="99B1234567QRS",
    activation_url="https://portail.ac-amiens.fr/activation?login=zlefevre",
    departement_code="02",
    establishment_uai="0021234K",
    establishment_name="École élémentaire Jean Macé",
)
LETTERS = (THERESE, OEDIPE, ZOE)
NAMES = {
    "mdelafontaine": ("Marie-Thérèse", "de La Fontaine"),
    "ondiaye": ("Œdipe", "N'Diaye"),
    "zlefevre": ("Zoë", "Lefèvre"),
}


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_letters(LETTERS, LAYOUT)


@pytest.fixture(scope="module")
def reader(pdf: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf))


def test_exported_names() -> None:
    assert sorted(render.__all__) == [
        "DEFAULT_FONT_PATHS",
        "LetterContent",
        "LetterLayout",
        "find_font",
        "french_date",
        "qr_matrix",
        "render_letters",
        "sort_for_posting",
    ]


def test_one_a4_page_per_letter(reader: pypdf.PdfReader) -> None:
    assert len(reader.pages) == 3
    for page in reader.pages:
        assert round(float(page.mediabox.width) / MM) == 210
        assert round(float(page.mediabox.height) / MM) == 297


@pytest.mark.parametrize("index", [0, 1, 2])
def test_page_says_everything_the_agent_needs(reader: pypdf.PdfReader, index: int) -> None:
    letter = LETTERS[index]
    text = reader.pages[index].extract_text()
    first_name, usage_name = NAMES[letter.login]
    for expected in (
        letter.login,
        letter.address,
        letter.temporary_password,
        letter.numen,
        f"{letter.civility} {first_name} {usage_name}",
        "Académie d'Amiens",
        "Amiens, le 23 novembre 2026",
        "Vos identifiants de messagerie académique",
        "à activer avant le 23 décembre 2026",
        "https://portail.ac-amiens.fr",
        "Assistance académique : 03 22 82 37 40 – assistance@ac-amiens.fr",
        "DSDEN de l'Aisne : 03 23 26 22 00",
        "ne vous demandera jamais votre mot de passe",
    ):
        assert expected in text
    salutation = "Madame," if letter.civility == "Mme" else "Monsieur,"
    assert salutation in text


def test_page_carries_only_its_own_secrets(reader: pypdf.PdfReader) -> None:
    for index, letter in enumerate(LETTERS):
        text = reader.pages[index].extract_text()
        for other in LETTERS:
            if other is not letter:
                assert other.temporary_password not in text
                assert other.numen not in text


def test_postal_line_is_capitals_without_accents(reader: pypdf.PdfReader) -> None:
    assert "80027 AMIENS CEDEX 1" in reader.pages[0].extract_text()
    assert "02100 SAINT-QUENTIN" in reader.pages[2].extract_text()


def positioned_text(page: pypdf.PageObject) -> list[tuple[str, float, float]]:
    """(text, x in mm from the left, baseline in mm from the top) of each fragment."""
    found: list[tuple[str, float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append((text.strip(), x / MM, (PAGE_HEIGHT - y) / MM))

    page.extract_text(visitor_text=visit)
    return found


def test_only_the_recipient_block_shows_through_the_envelope_window(
    reader: pypdf.PdfReader,
) -> None:
    """DL window: x from 100 mm, 45 to 95 mm from the top (with the play around it)."""
    page = reader.pages[1]
    in_window = [
        text
        for text, x, top in positioned_text(page)
        if x >= 95 and 40 <= top <= 97  # a few mm of slack around the window
    ]
    assert in_window == [
        "PERSONNEL ET CONFIDENTIEL",
        "M. Œdipe N'Diaye",
        "12, rue de l'Œuvre",
        "80100 ABBEVILLE",
    ]
    for _, x, top in positioned_text(page):
        assert 0 < x < 200 and 8 < top < 292  # inside printable margins


def test_metadata_has_a_title_and_no_secret(reader: pypdf.PdfReader) -> None:
    metadata = reader.metadata
    assert metadata is not None
    assert metadata.title == "Identifiants de messagerie – Académie d'Amiens"
    values = " ".join(str(value) for value in metadata.values())
    for letter in LETTERS:
        for secret in (letter.temporary_password, letter.numen, letter.activation_url):
            assert secret not in values
        assert letter.login not in values


def test_secrets_stay_out_of_repr() -> None:
    shown = repr(THERESE)
    assert "mdelafontaine" in shown
    for secret in (THERESE.temporary_password, THERESE.numen, THERESE.activation_url):
        assert secret not in shown


def test_rendering_is_reproducible(pdf: bytes) -> None:
    assert render_letters(LETTERS, LAYOUT) == pdf


def drawn_qr(page: pypdf.PageObject) -> list[bytearray]:
    """Rebuilds the module matrix from the rectangles of the page's QR code."""
    content = page.get_contents()
    assert content is not None
    stream = content.get_data().decode("latin-1")
    block = re.search(r"cm\n((?:\d+ \d+ \d+ 1 re\n)+)f Q", stream)
    assert block is not None
    runs = [tuple(map(int, line.split()[:3])) for line in block.group(1).splitlines()]
    size = max(column + width for column, _, width in runs)
    matrix = [bytearray(size) for _ in range(size)]
    for column, row, width in runs:
        matrix[row][column : column + width] = b"\x01" * width
    return matrix


@pytest.mark.parametrize("index", [0, 1, 2])
def test_qr_code_drawn_is_the_activation_url(reader: pypdf.PdfReader, index: int) -> None:
    expected = segno.make(LETTERS[index].activation_url, error="m", micro=False, mask=4)
    assert drawn_qr(reader.pages[index]) == list(expected.matrix)


ZBARIMG = shutil.which("zbarimg")
PDFTOPPM = shutil.which("pdftoppm")


# scripts/test installs both; under CI=true a missing tool fails instead of skipping.
@pytest.mark.skipif(
    (ZBARIMG is None or PDFTOPPM is None) and os.environ.get("CI", "").lower() != "true",
    reason="platform condition: zbarimg (zbar-tools) or pdftoppm (poppler-utils) not installed",
)
def test_printed_qr_codes_scan_to_the_activation_urls(pdf: bytes, tmp_path: Path) -> None:
    """What a phone sees: the page rasterised at a modest 100 dpi, then decoded."""
    assert ZBARIMG is not None and PDFTOPPM is not None
    (tmp_path / "letters.pdf").write_bytes(pdf)
    raster = [PDFTOPPM, "-r", "100", "-gray", "-png", str(tmp_path / "letters.pdf")]
    subprocess.run([*raster, str(tmp_path / "page")], check=True)  # noqa: S603
    images = sorted(str(path) for path in tmp_path.glob("page-*.png"))
    scanned = subprocess.run(  # noqa: S603
        [ZBARIMG, "-q", "--raw", *images], capture_output=True, text=True, check=True
    )
    assert scanned.stdout.split() == [letter.activation_url for letter in LETTERS]


def test_sort_for_posting_by_departement_establishment_then_name() -> None:
    assert [letter.login for letter in sort_for_posting([OEDIPE, THERESE, ZOE])] == [
        "zlefevre",  # département 02 before 80
        "mdelafontaine",  # "de La Fontaine" before "N'Diaye"
        "ondiaye",
    ]


def test_sort_for_posting_ignores_accents_case_and_punctuation() -> None:
    same_school = [
        make_letter(usage_name="Zola", first_name="Émile", login="ezola"),
        make_letter(usage_name="Éluard", first_name="Paul", login="peluard"),
        make_letter(usage_name="d'Urfé", first_name="Honoré", login="hdurfe"),
        make_letter(usage_name="Martin", first_name="Zoé", login="zmartin"),
        make_letter(usage_name="MARTIN", first_name="Élodie", login="emartin"),
        make_letter(usage_name="Martin", first_name="emma", login="emmartin"),
        make_letter(usage_name="Aubert", establishment_uai="0801234B", login="aubert"),
    ]
    assert [letter.login for letter in sort_for_posting(same_school)] == [
        "hdurfe",
        "peluard",
        "emartin",
        "emmartin",
        "zmartin",
        "ezola",
        "aubert",  # next establishment, whatever the name
    ]


@pytest.mark.parametrize(
    ("day", "spelled"),
    [
        (date(2026, 12, 23), "23 décembre 2026"),
        (date(2027, 5, 1), "1er mai 2027"),
        (date(2026, 8, 15), "15 août 2026"),
        (date(2027, 2, 28), "28 février 2027"),
    ],
)
def test_french_date(day: date, spelled: str) -> None:
    assert french_date(day) == spelled


def test_find_font_takes_the_first_existing_path(tmp_path: Path) -> None:
    missing = str(tmp_path / "absente.ttf")
    assert find_font([missing, DEFAULT_FONT_PATHS[1]]) == DEFAULT_FONT_PATHS[1]


@pytest.mark.parametrize("paths", [[], ["/nulle/part/police.ttf", "/ni/ici.ttf"]])
def test_find_font_names_the_debian_package(paths: list[str]) -> None:
    with pytest.raises(InvalidInput, match="fonts-dejavu-core"):
        find_font(paths)


def test_missing_layout_font_is_invalid_input(tmp_path: Path) -> None:
    layout = dataclasses.replace(LAYOUT, font_path=str(tmp_path / "absente.ttf"))
    with pytest.raises(InvalidInput, match="fonts-dejavu-core"):
        render_letters([THERESE], layout)


def test_empty_batch_is_refused() -> None:
    with pytest.raises(InvalidInput):
        render_letters([], LAYOUT)


def test_address_longer_than_the_window_is_refused_without_secrets() -> None:
    letter = make_letter(address_lines=("a", "b", "c", "d", "e"))
    with pytest.raises(InvalidInput, match="mdelafontaine") as caught:
        render_letters([letter], LAYOUT)
    assert letter.temporary_password not in str(caught.value)
    assert letter.numen not in str(caught.value)


def test_blank_address_lines_are_dropped_not_counted() -> None:
    letter = make_letter(address_lines=("", "1, rue de la Paix", "  ", "", "BP 12"))
    page = pypdf.PdfReader(io.BytesIO(render_letters([letter], LAYOUT))).pages[0]
    assert "1, rue de la Paix\nBP 12\n80027 AMIENS CEDEX 1" in page.extract_text()


def test_character_the_font_cannot_print_is_refused() -> None:
    with pytest.raises(InvalidInput, match="李"):
        render_letters([make_letter(usage_name="李")], LAYOUT)


def test_support_lines_that_overflow_the_page_are_refused() -> None:
    layout = dataclasses.replace(LAYOUT, support_lines=("DSDEN : 03 00 00 00 00",) * 12)
    with pytest.raises(InvalidInput, match="assistance"):
        render_letters([THERESE], layout)
