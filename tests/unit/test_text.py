"""ASCII folding of names: what HR writes → what an identifier may contain."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from academail.core import text
from academail.core.text import fold_ascii, identifier_part


def test_exported_names() -> None:
    assert sorted(text.__all__) == ["fold_ascii", "identifier_part"]


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Lefèvre", "Lefevre"),
        ("Zoë", "Zoe"),
        ("François", "Francois"),
        ("Hélène", "Helene"),
        ("Éléonore", "Eleonore"),
        ("Ségolène", "Segolene"),
        ("Jean-Loïc", "Jean-Loic"),
        ("José María García-Márquez", "Jose Maria Garcia-Marquez"),
        ("Muñoz", "Munoz"),
        ("Nguyễn Thị", "Nguyen Thi"),
        ("Ştefănescu", "Stefanescu"),
        ("Çağla", "Cagla"),
        ("Brontë", "Bronte"),
        # ligatures and letters NFKD leaves whole
        ("Œdipe", "OEdipe"),
        ("Le Bœuf", "Le Boeuf"),
        ("cœur", "coeur"),
        ("Ævar", "AEvar"),
        ("Lætitia", "Laetitia"),
        ("Groß", "Gross"),
        ("GROẞ", "GROSS"),
        ("Ørsted", "Orsted"),
        ("Søren", "Soren"),
        ("Đorđe", "Dorde"),
        ("Łukasz Wałęsa", "Lukasz Walesa"),
        ("Þórsson", "THorsson"),
        ("þór", "thor"),
        ("Guðrún", "Gudrun"),
        ("Ðuro", "Duro"),
        ("Yılmaz", "Yilmaz"),
        ("İnönü", "Inonu"),
        ("Ħamrun", "Hamrun"),
        ("Ŋgom", "NGgom"),
        # a special letter with an accent on it loses both
        ("ǿ", "o"),
        ("Ǽ", "AE"),
        # compatibility forms
        ("ﬁlippi", "filippi"),
        ("Ｊｅａｎ", "Jean"),
        ("Ĳssel", "IJssel"),
        # typographic apostrophes and dashes
        ("N’Diaye", "N'Diaye"),
        ("L‘Huillier", "L'Huillier"),
        ("Oʼneil", "O'neil"),
        ("Jean‐Pierre", "Jean-Pierre"),
        ("Jean‑Pierre", "Jean-Pierre"),
        ("Jean–Pierre", "Jean-Pierre"),
        ("Jean—Pierre", "Jean-Pierre"),
        ("Jean−Pierre", "Jean-Pierre"),
        ("Du\u00adpont", "Dupont"),
        # blanks: non-breaking spaces become plain spaces, tabs stay
        ("Jean\u00a0Pierre", "Jean Pierre"),
        ("Jean\u202fPierre", "Jean Pierre"),
        ("Jean\tPierre", "Jean\tPierre"),
        # no Latin spelling: dropped, not guessed
        ("李小龙", ""),
        ("Иванов", ""),
        ("Ἀθηνᾶ", ""),
        ("Jean 🙂", "Jean "),
        ("Jean « Jojo »", "Jean  Jojo "),
        # ASCII is left exactly as it is
        ("Jean-Pierre O'Neil (2)", "Jean-Pierre O'Neil (2)"),
        ("", ""),
    ],
)
def test_fold_ascii(raw: str, folded: str) -> None:
    assert fold_ascii(raw) == folded


@pytest.mark.parametrize(
    ("raw", "part"),
    [
        ("Jean-Pierre", "jeanpierre"),
        ("Lefèvre", "lefevre"),
        ("Le Goff", "legoff"),
        ("N'Diaye", "ndiaye"),
        ("N’Diaye", "ndiaye"),
        ("de La Fontaine", "delafontaine"),
        ("d'Arc", "darc"),
        ("Royal-Dupont", "royaldupont"),
        ("García-Márquez", "garciamarquez"),
        ("Œdipe", "oedipe"),
        ("Le Bœuf", "leboeuf"),
        ("Ævar", "aevar"),
        ("Ørsted", "orsted"),
        ("Groß", "gross"),
        ("McDonald", "mcdonald"),
        ("MacLeod", "macleod"),
        ("Mc Lean", "mclean"),
        ("O'Connor", "oconnor"),
        ("St. John", "stjohn"),
        ("Saint-Exupéry", "saintexupery"),
        ("  DUPONT\t", "dupont"),
        ("Du\u00a0Pont", "dupont"),
        ("Dupont_Durand", "dupontdurand"),
        ("Dupont (née Martin)", "dupontneemartin"),
        ("Louis 14", "louis14"),
        ("Jean\nPierre", "jeanpierre"),
        ("---", ""),
        ("'", ""),
        ("   ", ""),
        ("李小龙", ""),
        ("Иванов-Петров", ""),
        ("", ""),
    ],
)
def test_identifier_part(raw: str, part: str) -> None:
    assert identifier_part(raw) == part


@given(st.text())
def test_fold_ascii_is_ascii_without_combining_marks(raw: str) -> None:
    folded = fold_ascii(raw)
    assert folded.isascii()
    assert not any(unicodedata.combining(char) for char in folded)


@given(st.text())
def test_fold_ascii_is_idempotent(raw: str) -> None:
    assert fold_ascii(fold_ascii(raw)) == fold_ascii(raw)


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_fold_ascii_leaves_ascii_untouched(raw: str) -> None:
    assert fold_ascii(raw) == raw


@given(st.text())
def test_identifier_part_alphabet(raw: str) -> None:
    assert re.fullmatch(r"[a-z0-9]*", identifier_part(raw))


@given(st.text())
def test_identifier_part_is_idempotent(raw: str) -> None:
    part = identifier_part(raw)
    assert identifier_part(part) == part


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_identifier_part_of_ascii_keeps_letters_and_digits_in_order(raw: str) -> None:
    expected = "".join(char for char in raw.lower() if char.isalnum())
    assert identifier_part(raw) == expected


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzàâäéèêëîïôöùûüçœæ ’'-"))
def test_identifier_part_keeps_every_french_letter(raw: str) -> None:
    # Each French letter yields at least one letter: nothing of a French name is lost.
    letters = sum(char.isalpha() for char in raw)
    assert len(identifier_part(raw)) >= letters
