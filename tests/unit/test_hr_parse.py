"""The HR export parser: encodings, header, one outcome per line, refusal reasons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from academail.core.errors import InvalidInput
from academail.identity import hr
from academail.identity.hr import (
    ALL_COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    HrDialect,
    HrRecord,
    ParsedExport,
    RefusalKind,
    load_dialect,
    parse_export,
)
from academail.identity.hr.csv_dialect import AcademailCsv
from academail.identity.roles import Role

TODAY = dt.date(2026, 11, 23)
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "export-rh-exemple.csv"

VALID: dict[str, str] = {
    "numen": "20E98ABCD1234",
    "civilite": "Mme",
    "nom_usage": "Lefèvre",
    "nom_naissance": "Dupuis",
    "prenom": "Marie-Thérèse",
    "date_naissance": "14/03/1972",
    "fonction": "ENS2D",
    "corps": "Certifié",
    "uai": "0800011C",
    "etablissement": "Lycée Louis Thuillier",
    "commune_etablissement": "Amiens",
    "date_entree": "01/09/1998",
    "date_sortie": "",
    "adresse": "12, rue Gresset",
    "code_postal": "80000",
    "commune": "Amiens",
    "email_perso": "mt.lefevre@orange.fr",
    "mobile": "06 12 34 56 78",
}


def line(**overrides: str) -> str:
    values = {**VALID, **overrides}
    return ";".join(values[column] for column in ALL_COLUMNS)


def export(*lines: str, header: str = ";".join(ALL_COLUMNS), end: str = "\n") -> bytes:
    return end.join([header, *lines]).encode("utf-8") + end.encode()


def parse(data: bytes) -> ParsedExport:
    return parse_export(data, today=TODAY)


def only_record(data: bytes) -> HrRecord:
    parsed = parse(data)
    assert parsed.refusals == (), parsed.refusals
    assert len(parsed.records) == 1
    return parsed.records[0]


def only_refusal(data: bytes) -> hr.Refusal:
    parsed = parse(data)
    assert parsed.records == ()
    assert len(parsed.refusals) == 1
    return parsed.refusals[0]


# -- the public surface ----------------------------------------------------------------


def test_exported_names() -> None:
    assert sorted(hr.__all__) == sorted(
        [
            "ALL_COLUMNS",
            "BUILTIN_DIALECTS",
            "OPTIONAL_COLUMNS",
            "REQUIRED_COLUMNS",
            "Establishment",
            "HrDialect",
            "HrRecord",
            "ParsedExport",
            "Refusal",
            "RefusalKind",
            "decode_export",
            "generate_establishments",
            "generate_export",
            "load_dialect",
            "parse_export",
        ]
    )
    for name in hr.__all__:
        assert hasattr(hr, name)


def test_columns_are_documented() -> None:
    assert set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) == set(ALL_COLUMNS)
    assert not set(REQUIRED_COLUMNS) & set(OPTIONAL_COLUMNS)
    doc = hr.format.__doc__ or ""
    for column in ALL_COLUMNS:
        assert f"``{column}``" in doc


# -- a valid line ------------------------------------------------------------------------


def test_a_valid_line_gives_a_normalised_record() -> None:
    record = only_record(export(line(numen=" 20e98abcd1234 ", uai="0800011c", civilite="Madame")))
    assert record == HrRecord(
        line=2,
        numen="20E98ABCD1234",
        civility="Mme",
        usage_name="Lefèvre",
        birth_name="Dupuis",
        first_name="Marie-Thérèse",
        birth_date=dt.date(1972, 3, 14),
        role=Role.ENS2D,
        corps="Certifié",
        uai="0800011C",
        establishment_name="Lycée Louis Thuillier",
        establishment_city="Amiens",
        duty_start=dt.date(1998, 9, 1),
        duty_end=None,
        address_lines=("12, rue Gresset",),
        postal_code="80000",
        city="Amiens",
        personal_email="mt.lefevre@orange.fr",
        mobile="+33612345678",
    )


def test_record_repr_keeps_the_numen_and_birth_date_out() -> None:
    record = only_record(export(line()))
    assert "20E98ABCD1234" not in repr(record)
    assert "1972" not in repr(record)
    assert "Marie-Thérèse" in repr(record)


def test_values_are_stripped_and_spaces_collapsed() -> None:
    record = only_record(
        export(line(nom_usage="  de   La Fontaine ", prenom=" Jean-Pierre", corps=" Agrégé  "))
    )
    assert (record.usage_name, record.first_name, record.corps) == (
        "de La Fontaine",
        "Jean-Pierre",
        "Agrégé",
    )


def test_empty_optional_values() -> None:
    record = only_record(
        export(
            line(
                civilite="",
                nom_naissance="",
                corps="",
                commune_etablissement="",
                adresse="",
                code_postal="",
                commune="",
                email_perso="",
                mobile="",
            )
        )
    )
    assert record.civility == ""
    assert record.birth_name == record.usage_name == "Lefèvre"
    assert (record.corps, record.establishment_city, record.postal_code, record.city) == (
        "",
        "",
        "",
        "",
    )
    assert record.address_lines == ()
    assert record.personal_email is None
    assert record.mobile is None
    assert record.duty_end is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("M.", "M."),
        ("M", "M."),
        ("MR", "M."),
        ("Mr.", "M."),
        ("Monsieur", "M."),
        ("MONSIEUR", "M."),
        ("Mme", "Mme"),
        ("MME", "Mme"),
        ("Mme.", "Mme"),
        ("Madame", "Mme"),
        ("Mlle", "Mme"),
        ("Mademoiselle", "Mme"),
    ],
)
def test_civility_variants(raw: str, expected: str) -> None:
    assert only_record(export(line(civilite=raw))).civility == expected


@pytest.mark.parametrize("raw", ["05/03/1980", "1980-03-05", "5/3/1980", " 05/03/1980 "])
def test_dates_in_both_formats(raw: str) -> None:
    assert only_record(export(line(date_naissance=raw))).birth_date == dt.date(1980, 3, 5)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("06-12-34-56-78", "+33612345678"),
        ("07 81 22 33 44", "+33781223344"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+33612345678", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("612345678", "+33612345678"),  # Excel dropped the leading 0
        ("33612345678", "+33612345678"),  # Excel dropped the +
        ("06\u00a012\u00a034\u00a056\u00a078", "+33612345678"),
    ],
)
def test_mobile_is_normalised_to_e164(raw: str, expected: str) -> None:
    assert only_record(export(line(mobile=raw))).mobile == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("mt.lefevre@orange.fr", "mt.lefevre@orange.fr"),
        ("Jean.Dupont@Orange.FR", "Jean.Dupont@orange.fr"),
        ("jean+ecole@gmail.com", "jean+ecole@gmail.com"),
        ("élodie.durand@laposte.net", "élodie.durand@laposte.net"),
        ("o'connor@free.fr", "o'connor@free.fr"),
        ("a@b.co", "a@b.co"),
        ("jean@sous.domaine.exemple.fr", "jean@sous.domaine.exemple.fr"),
        ("jean@xn--bcher-kva.example", "jean@xn--bcher-kva.example"),
        ("jean@bücher.fr", "jean@bücher.fr"),
    ],
)
def test_personal_email_accepted(raw: str, expected: str) -> None:
    assert only_record(export(line(email_perso=raw))).personal_email == expected


def test_address_lines_and_postal_code() -> None:
    record = only_record(
        export(line(adresse="Résidence Les Tilleuls | 3, rue de la Fère", code_postal="2400"))
    )
    assert record.address_lines == ("Résidence Les Tilleuls", "3, rue de la Fère")
    assert record.postal_code == "02400"


def test_decomposed_unicode_is_composed() -> None:
    record = only_record(export(line(prenom="Le\u0301a", nom_usage="Lefe\u0300vre")))
    assert (record.first_name, record.usage_name) == ("Léa", "Lefèvre")


@pytest.mark.parametrize(
    "name", ["N'Diaye", "N\u2019Diaye", "D'Amico", "Cœurdevey", "du Bois", "d'Hondt", "St. John"]
)
def test_names_with_particles_apostrophes_and_ligatures(name: str) -> None:
    assert only_record(export(line(nom_usage=name))).usage_name == name


# -- encodings ---------------------------------------------------------------------------

CP1252_LINE = line(nom_usage="N’Diaye-Cœur", prenom="Lætitia", commune="Château-Thierry")


def test_utf8() -> None:
    parsed = parse(export(CP1252_LINE))
    assert parsed.encoding == "utf-8"
    assert parsed.records[0].usage_name == "N’Diaye-Cœur"


def test_utf8_with_bom() -> None:
    parsed = parse(b"\xef\xbb\xbf" + export(CP1252_LINE))
    assert parsed.encoding == "utf-8-sig"
    assert parsed.records[0].numen == "20E98ABCD1234"  # first column found despite the BOM


def test_windows_1252() -> None:
    data = ("\n".join([";".join(ALL_COLUMNS), CP1252_LINE]) + "\r\n").encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert b"\x92" in data and b"\x9c" in data  # ’ and œ in Windows-1252
    parsed = parse(data)
    assert parsed.encoding == "cp1252"
    record = parsed.records[0]
    assert (record.usage_name, record.first_name, record.city) == (
        "N’Diaye-Cœur",
        "Lætitia",
        "Château-Thierry",
    )


def test_crlf_line_ends() -> None:
    parsed = parse(export(line(), line(numen="20E98ABCD1235"), end="\r\n"))
    assert [r.line for r in parsed.records] == [2, 3]


def test_nul_byte_refuses_the_file() -> None:
    with pytest.raises(InvalidInput, match="octet nul"):
        parse(export(line()).replace(b"Amiens", b"Ami\x00ens"))


def test_utf16_refuses_the_file() -> None:
    with pytest.raises(InvalidInput, match="octet nul"):
        parse(("\n".join([";".join(ALL_COLUMNS), line()])).encode("utf-16"))


def test_undecodable_byte_in_bytes() -> None:
    with pytest.raises(InvalidInput, match="ni UTF-8 ni Windows-1252"):
        parse(export(line()) + b"\x81\n")


# -- the header --------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \n\n", b"\xef\xbb\xbf", b"\r\n"])
def test_empty_file_is_an_error(data: bytes) -> None:
    with pytest.raises(InvalidInput, match="vide"):
        parse(data)


@pytest.mark.parametrize("end", ["\n", "\r\n", ""])
def test_header_only_is_valid_with_no_rows(end: str) -> None:
    parsed = parse((";".join(ALL_COLUMNS) + end).encode())
    assert parsed == ParsedExport((), (), "utf-8", 0)


def test_columns_in_any_order_with_extra_columns() -> None:
    columns = ["commentaire", *reversed(ALL_COLUMNS), "service"]
    values = {**VALID, "commentaire": "à vérifier", "service": "DSI"}
    data = export(";".join(values[c] for c in columns), header=";".join(columns))
    assert only_record(data) == only_record(export(line()))


def test_header_names_ignore_case_and_spaces() -> None:
    header = ";".join(f" {column.upper()} " for column in ALL_COLUMNS)
    assert only_record(export(line(), header=header)).numen == "20E98ABCD1234"


def test_only_required_columns() -> None:
    data = export(";".join(VALID[c] for c in REQUIRED_COLUMNS), header=";".join(REQUIRED_COLUMNS))
    record = only_record(data)
    assert record.birth_name == "Lefèvre"
    assert (record.civility, record.mobile, record.personal_email) == ("", None, None)


def test_missing_required_columns_refuse_the_file() -> None:
    columns = [c for c in ALL_COLUMNS if c not in ("uai", "prenom")]
    with pytest.raises(InvalidInput) as caught:
        parse(export(";".join(VALID[c] for c in columns), header=";".join(columns)))
    assert "prenom" in caught.value.message and "uai" in caught.value.message
    assert "numen," not in caught.value.message


def test_comma_separated_file_gets_a_hint() -> None:
    with pytest.raises(InvalidInput, match="point-virgule"):
        parse((",".join(ALL_COLUMNS) + "\n").encode())


def test_no_header_gets_a_hint() -> None:
    with pytest.raises(InvalidInput, match="en-tête"):
        parse((line() + "\n").encode())


def test_duplicate_column_refuses_the_file() -> None:
    with pytest.raises(InvalidInput, match="deux fois"):
        parse(export(line() + ";x", header=";".join(ALL_COLUMNS) + ";NUMEN"))


# -- refusals ----------------------------------------------------------------------------

MALFORMED_CASES: list[tuple[dict[str, str], str]] = [
    *[({column: ""}, column) for column in REQUIRED_COLUMNS],
    ({"numen": "20E98ABCD123"}, "numen"),
    ({"numen": "2OE98ABCD1234"}, "numen"),
    ({"uai": "0800011D"}, "uai"),
    ({"uai": "080011C"}, "uai"),
    ({"date_naissance": "31/02/1980"}, "date_naissance"),
    ({"date_naissance": "1980/03/05"}, "date_naissance"),
    ({"date_entree": "01-09-1998"}, "date_entree"),
    ({"date_entree": "01/13/1998"}, "date_entree"),
    ({"date_sortie": "demain"}, "date_sortie"),
    ({"date_sortie": "31/08/1998"}, "date_sortie"),
    ({"date_naissance": "01/01/2027", "date_entree": "01/09/2045"}, "date_naissance"),
    ({"date_naissance": "01/01/1990", "date_entree": "01/09/2005"}, "date_naissance"),
    ({"date_naissance": "01/01/1920", "date_entree": "01/09/2005"}, "date_naissance"),
    ({"email_perso": "mt.lefevre"}, "email_perso"),
    ({"email_perso": "mt.lefevre@"}, "email_perso"),
    ({"email_perso": "@orange.fr"}, "email_perso"),
    ({"email_perso": "mt lefevre@orange.fr"}, "email_perso"),
    ({"email_perso": "mt..lefevre@orange.fr"}, "email_perso"),
    ({"email_perso": ".mt@orange.fr"}, "email_perso"),
    ({"email_perso": "mt@@orange.fr"}, "email_perso"),
    ({"email_perso": "mt@orange"}, "email_perso"),
    ({"email_perso": "mt@orange.f"}, "email_perso"),
    ({"email_perso": "mt@-orange.fr"}, "email_perso"),
    ({"email_perso": "mt@orange..fr"}, "email_perso"),
    ({"email_perso": "<mt@orange.fr>"}, "email_perso"),
    ({"mobile": "01 23 45 67 89"}, "mobile"),
    ({"mobile": "06 12 34 56"}, "mobile"),
    ({"mobile": "06 12 34 56 78 9"}, "mobile"),
    ({"mobile": "+44 7700 900123"}, "mobile"),
    ({"mobile": "06 12 34 56 7a"}, "mobile"),
    ({"civilite": "Dr"}, "civilite"),
    ({"code_postal": "800"}, "code_postal"),
    ({"code_postal": "8000A"}, "code_postal"),
    ({"nom_usage": "Lefèvre2"}, "nom_usage"),
    ({"prenom": "Jean@Pierre"}, "prenom"),
    ({"nom_naissance": "-Dupuis"}, "nom_naissance"),
    ({"prenom": "Jean\tPierre"}, "prenom"),
    ({"nom_usage": "L" * 121}, "nom_usage"),
    ({"etablissement": "É" * 201}, "etablissement"),
    ({"adresse": "a|b|c|d|e"}, "adresse"),
]


@pytest.mark.parametrize(("overrides", "column"), MALFORMED_CASES)
def test_malformed_lines(overrides: dict[str, str], column: str) -> None:
    parsed = parse(export(line(), line(**{"numen": "20E98ABCD1235", **overrides})))
    assert [r.line for r in parsed.records] == [2]
    (refusal,) = parsed.refusals
    assert refusal.kind is RefusalKind.MALFORMED
    assert refusal.line == 3
    assert refusal.reason.startswith(f"{column} : "), refusal.reason
    expected_who = {**VALID, **overrides}
    if expected_who["prenom"] and expected_who["nom_usage"] and len(expected_who["nom_usage"]) < 60:
        first = " ".join(expected_who["prenom"].split())
        assert refusal.who == f"{first} {expected_who['nom_usage'].upper()}"
    for secret in ("20E98ABCD123", "1972", "14/03"):
        assert secret not in refusal.reason and secret not in refusal.who


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("ELEVE", "élèves"),
        ("eleve", "élèves"),
        ("ETUDIANT", "étudiants"),
        ("PARENT", "parents"),
        ("STAGIAIRE_EXT", "inconnue"),
    ],
)
def test_ineligible_lines(code: str, words: str) -> None:
    # A pupil has no NUMEN: the reason is the function, not the missing NUMEN.
    refusal = only_refusal(export(line(fonction=code, numen="", date_naissance="12/05/2011")))
    assert refusal.kind is RefusalKind.INELIGIBLE
    assert refusal.line == 2
    assert refusal.reason.startswith("fonction : ")
    assert words in refusal.reason
    assert refusal.who == "Marie-Thérèse LEFÈVRE"


def test_wrong_number_of_fields() -> None:
    parsed = parse(export(line() + ";en trop", line(numen="20E98ABCD1235")[:-20]))
    assert [(r.line, r.kind) for r in parsed.refusals] == [
        (2, RefusalKind.MALFORMED),
        (3, RefusalKind.MALFORMED),
    ]
    assert "nombre de champs incorrect : 19 au lieu de 18" in parsed.refusals[0].reason
    assert parsed.refusals[0].who == "Marie-Thérèse LEFÈVRE"


def test_several_errors_in_one_line_are_all_reported() -> None:
    refusal = only_refusal(export(line(uai="0800011D", mobile="0123", date_entree="x")))
    for column in ("uai", "mobile", "date_entree"):
        assert f"{column} : " in refusal.reason


def test_birth_date_is_never_echoed() -> None:
    refusal = only_refusal(export(line(date_naissance="31/02/1972")))
    assert "31/02" not in refusal.reason
    refusal = only_refusal(export(line(date_entree="31/02/1998")))
    assert "31/02/1998" in refusal.reason  # other dates help the person fixing the file


def test_birth_date_in_the_future_uses_the_injected_today() -> None:
    data = export(line(date_naissance="01/12/2026", date_entree="01/09/2050"))
    assert "futur" in only_refusal(data).reason
    later = parse_export(data, today=dt.date(2026, 12, 2))
    assert later.refusals == ()
    assert later.records[0].birth_date == dt.date(2026, 12, 1)


def test_duty_end_on_duty_start_is_fine() -> None:
    assert only_record(export(line(date_sortie="1998-09-01"))).duty_end == dt.date(1998, 9, 1)


def test_duplicate_numen_refuses_the_second_occurrence() -> None:
    parsed = parse(
        export(
            line(),
            line(numen="20E98ABCD1235"),
            line(numen="20e98 abcd 1234", prenom="Anne"),
        )
    )
    assert [r.line for r in parsed.records] == [2, 3]
    (refusal,) = parsed.refusals
    assert (refusal.line, refusal.kind) == (4, RefusalKind.MALFORMED)
    assert refusal.reason == "numen : NUMEN en double : déjà présent ligne 2"
    assert refusal.who == "Anne LEFÈVRE"


def test_line_numbers_follow_multiline_quoted_fields_and_blank_lines() -> None:
    data = export(
        line(adresse='"Résidence Les Tilleuls\nBâtiment B\n3, rue de la Fère"'),  # lines 2-4
        line(numen="20E98ABCD1235", uai="0800011D"),  # line 5
        "",  # line 6, blank
        line(numen="20E98ABCD1236", fonction="PARENT"),  # line 7
        ";" * 17,  # line 8, empty fields only
        line(numen="20E98ABCD1237"),  # line 9
    )
    parsed = parse(data)
    assert parsed.rows == 4
    assert [r.line for r in parsed.records] == [2, 9]
    assert parsed.records[0].address_lines == (
        "Résidence Les Tilleuls",
        "Bâtiment B",
        "3, rue de la Fère",
    )
    assert [(r.line, r.kind) for r in parsed.refusals] == [
        (5, RefusalKind.MALFORMED),
        (7, RefusalKind.INELIGIBLE),
    ]
    assert [r.line for r in parsed.malformed] == [5]
    assert [r.line for r in parsed.ineligible] == [7]


def test_quoted_values_with_separators_and_quotes() -> None:
    record = only_record(export(line(adresse='"12; rue ""Gresset"""', corps='"Certifié"')))
    assert record.address_lines == ('12; rue "Gresset"',)
    assert record.corps == "Certifié"


def test_unterminated_quote_swallows_the_rest_into_one_refused_line() -> None:
    parsed = parse(export(line(corps='"Certifié'), line(numen="20E98ABCD1235")))
    assert parsed.records == ()
    assert parsed.refusals[0].line == 2
    assert parsed.refusals[0].kind is RefusalKind.MALFORMED


# -- progress, dialects ---------------------------------------------------------------------


def test_on_row_progress() -> None:
    rows = [line(numen=f"20E98ABC{n:05d}") for n in range(2500)]
    seen: list[int] = []
    parsed = parse_export(export(*rows), today=TODAY, on_row=seen.append)
    assert len(parsed.records) == 2500
    assert seen == [1000, 2000, 2500]


def test_load_builtin_dialect() -> None:
    dialect = load_dialect("academail_csv")
    assert isinstance(dialect, AcademailCsv)
    assert dialect.name == "academail_csv"
    assert dialect.parse(export(line())).records[0].numen == "20E98ABCD1234"


def test_dialect_with_a_pinned_today() -> None:
    data = export(line(date_naissance="01/12/2026", date_entree="01/09/2050"))
    assert AcademailCsv(today=dt.date(2026, 11, 30)).parse(data).refusals[0].reason == (
        "date_naissance : date dans le futur"
    )
    assert AcademailCsv(today=dt.date(2027, 1, 1)).parse(data).refusals == ()


class Dialect(HrDialect):
    """A test implementation loaded by module path (style.md §8)."""

    name: ClassVar[str] = "test"

    def parse(self, data: bytes, on_row: Callable[[int], None] | None = None) -> ParsedExport:
        return ParsedExport((), (), "test", len(data.splitlines()))


class NotADialect:
    pass


def test_load_dialect_from_a_module_path() -> None:
    assert load_dialect(__name__).parse(b"a\nb\n") == ParsedExport((), (), "test", 2)
    assert isinstance(load_dialect(f"{__name__}:Dialect"), Dialect)


@pytest.mark.parametrize(
    "name", ["inconnu", "academail.nowhere", f"{__name__}:Missing", f"{__name__}:NotADialect", ""]
)
def test_unknown_dialect(name: str) -> None:
    with pytest.raises(InvalidInput, match="dialecte"):
        load_dialect(name)


# -- the documented example --------------------------------------------------------------


def test_documented_example() -> None:
    parsed = parse(EXAMPLE.read_bytes())
    assert parsed.encoding == "utf-8"
    assert parsed.rows == 12
    assert len(parsed.records) == 11
    (pupil,) = parsed.refusals
    assert (pupil.line, pupil.kind, pupil.who) == (10, RefusalKind.INELIGIBLE, "Théo LECLERCQ")
    by_line = {r.line: r for r in parsed.records}
    assert by_line[3].usage_name == "de La Fontaine" and by_line[3].birth_name == "Dupuis"
    assert by_line[4].usage_name == "Martin-Dupuis"
    assert by_line[5].usage_name == "N'Diaye" and by_line[5].duty_end == dt.date(2027, 8, 31)
    assert by_line[7].first_name == "Lætitia"
    assert len(by_line[7].address_lines) == 2
    assert by_line[9].duty_end == dt.date(2025, 7, 4)  # departed
    assert by_line[11].birth_date == dt.date(1971, 5, 14)  # ISO dates
    assert by_line[12].postal_code == "02400"
    assert by_line[13].address_lines == ("Appartement 4", "17, rue Solférino")  # lines 13-14
    homonyms = [
        r for r in parsed.records if (r.first_name, r.usage_name) == ("Jean-Pierre", "Lefèvre")
    ]
    assert len(homonyms) == 2
    assert all(r.mobile is None or r.mobile.startswith(("+336", "+337")) for r in parsed.records)


def test_documented_example_is_header_then_one_line_per_agent() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ";".join(ALL_COLUMNS)


# -- nothing but InvalidInput or a result ---------------------------------------------------


def _outcome_or_invalid(data: bytes) -> ParsedExport | None:
    try:
        parsed = parse(data)
    except InvalidInput:
        return None
    assert parsed.rows == len(parsed.records) + len(parsed.refusals)
    return parsed


@given(st.binary(max_size=2000))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_random_bytes(data: bytes) -> None:
    _outcome_or_invalid(data)


@given(st.binary(max_size=500))
def test_random_bytes_after_a_header(data: bytes) -> None:
    _outcome_or_invalid((";".join(ALL_COLUMNS) + "\n").encode() + data)


FIELD = st.text(alphabet=st.sampled_from('aé0;"|\n\r\t -@./+œ’\x00\x85'), max_size=12)


@given(st.lists(st.lists(FIELD, min_size=16, max_size=20), max_size=6))
@settings(max_examples=200)
def test_random_lines_give_one_outcome_each(rows: list[list[str]]) -> None:
    body = "\n".join(";".join(row) for row in rows)
    parsed = _outcome_or_invalid((";".join(ALL_COLUMNS) + "\n" + body).encode("utf-8"))
    if parsed is not None:
        lines = [r.line for r in (*parsed.records, *parsed.refusals)]
        assert len(set(lines)) == len(lines)
        assert all(n >= 2 for n in lines)


@given(
    st.fixed_dictionaries(
        {
            "prenom": st.sampled_from(["Jean-Pierre", "Anne-Sophie", "Lætitia", "Chloé"]),
            "nom_usage": st.sampled_from(["Lefèvre", "N'Diaye", "de La Fontaine", "Œuvrard"]),
            "date_naissance": st.dates(dt.date(1950, 1, 1), dt.date(2005, 12, 31)).map(
                lambda d: d.strftime("%d/%m/%Y")
            ),
            "date_entree": st.dates(dt.date(1980, 1, 1), dt.date(2026, 9, 1)).map(
                lambda d: d.isoformat()
            ),
        }
    )
)
def test_dates_and_names_are_either_accepted_or_refused_with_a_reason(
    values: dict[str, str],
) -> None:
    parsed = parse(export(line(**values)))
    assert parsed.rows == 1
    birth = dt.datetime.strptime(values["date_naissance"], "%d/%m/%Y").date()
    start = dt.date.fromisoformat(values["date_entree"])
    age = start.year - birth.year - ((start.month, start.day) < (birth.month, birth.day))
    if 16 <= age <= 80:
        assert parsed.records[0].birth_date == birth
    else:
        assert parsed.refusals[0].reason.startswith("date_naissance : âge")
