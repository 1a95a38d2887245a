"""The demo/benchmark HR export generator: valid, realistic, deterministic."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from academail.core.text import identifier_part
from academail.identity.hr import (
    ALL_COLUMNS,
    ParsedExport,
    RefusalKind,
    generate_establishments,
    generate_export,
    parse_export,
)
from academail.identity.hr.generator import MAX_ESTABLISHMENTS, TOWNS
from academail.identity.roles import Role
from academail.identity.uai import departement_of, normalise_uai

TODAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def text() -> str:
    return generate_export(2000)


@pytest.fixture(scope="module")
def parsed(text: str) -> ParsedExport:
    return parse_export(text.encode("utf-8"), today=TODAY)


def test_every_generated_row_is_valid(text: str, parsed: ParsedExport) -> None:
    assert text.splitlines()[0] == ";".join(ALL_COLUMNS)
    assert parsed.encoding == "utf-8"
    assert parsed.refusals == ()
    assert parsed.rows == len(parsed.records) == 2000


def test_same_seed_same_text(text: str) -> None:
    assert generate_export(2000) == text
    assert generate_export(2000, seed=7) == generate_export(2000, seed=7)
    assert generate_export(2000, seed=7) != text


def test_numens_are_unique_and_of_amiens(parsed: ParsedExport) -> None:
    numens = [r.numen for r in parsed.records]
    assert len(set(numens)) == len(numens)
    assert all(n.startswith("20") for n in numens)
    assert {n[2] for n in numens} <= {"E", "A", "T", "C"}
    for record in parsed.records:
        assert record.numen[3:5] == f"{record.duty_start.year % 100:02d}"


def test_homonyms_are_present_at_about_the_rate(parsed: ParsedExport) -> None:
    pairs = Counter(
        (identifier_part(r.first_name), identifier_part(r.usage_name)) for r in parsed.records
    )
    extra = sum(count - 1 for count in pairs.values())
    assert 0.05 <= extra / len(parsed.records) <= 0.11
    by_pair: dict[tuple[str, str], list[dt.date]] = {}
    for record in parsed.records:
        by_pair.setdefault((record.first_name, record.usage_name), []).append(record.birth_date)
    assert any(len(set(dates)) > 1 for dates in by_pair.values())


def test_homonym_rate_zero_gives_almost_none() -> None:
    records = parse_export(generate_export(2000, homonym_rate=0.0).encode(), today=TODAY).records
    pairs = Counter((identifier_part(r.first_name), identifier_part(r.usage_name)) for r in records)
    assert sum(count - 1 for count in pairs.values()) <= 5


def test_names_exercise_the_naming_rules(parsed: ParsedExport) -> None:
    firsts = [r.first_name for r in parsed.records]
    lasts = [r.usage_name for r in parsed.records]
    assert sum("-" in f for f in firsts) > 100  # Jean-Pierre, Marie-Thérèse…
    assert sum(not f.isascii() for f in firsts) > 200  # Hélène, Jérôme…
    assert sum(not n.isascii() for n in lasts) > 50
    assert sum("-" in n for n in lasts) > 50  # Martin-Dupuis
    assert any(n.startswith(("de ", "du ", "Le ", "d'")) for n in lasts)
    assert any("'" in n or "\u2019" in n for n in lasts)  # N'Diaye, D'Amico
    assert any(r.birth_name != r.usage_name for r in parsed.records)


def test_ligatures_appear_in_a_large_export() -> None:
    text = generate_export(8000)
    assert "œ" in text.lower() or "æ" in text.lower()


def test_roles_are_distributed_realistically(parsed: ParsedExport) -> None:
    roles = Counter(r.role for r in parsed.records)
    total = len(parsed.records)
    assert set(roles) == set(Role)
    assert (roles[Role.ENS1D] + roles[Role.ENS2D]) / total > 0.6
    for rare in (Role.PERDIR, Role.DIR_ECOLE, Role.IEN, Role.IA_IPR):
        assert roles[rare] / total < 0.05
    assert roles[Role.IEN] + roles[Role.IA_IPR] < roles[Role.PERDIR]


def test_workplaces_match_roles(parsed: ParsedExport) -> None:
    for record in parsed.records:
        if record.role in (Role.ENS1D, Role.DIR_ECOLE):
            assert record.establishment_name.startswith("École")
        elif record.role in (Role.ENS2D, Role.CPE, Role.PERDIR):
            assert record.establishment_name.startswith(("Collège", "Lycée"))
        elif record.role is Role.IA_IPR:
            assert record.establishment_name.startswith("Rectorat")
        elif record.role is Role.IEN:
            assert record.establishment_name.startswith("DSDEN")


def test_dates(parsed: ParsedExport) -> None:
    records = parsed.records
    assert all(1960 <= r.birth_date.year <= 2003 for r in records)
    assert all(1985 <= r.duty_start.year <= 2026 for r in records)
    assert Counter((r.duty_start.month, r.duty_start.day) for r in records).most_common(1)[0][
        0
    ] == (9, 1)
    departed = [r for r in records if r.duty_end is not None and r.duty_end < TODAY]
    contracts = [r for r in records if r.duty_end is not None and r.duty_end > TODAY]
    assert 5 <= len(departed) <= 50
    assert contracts
    assert all(r.role in (Role.AESH, Role.CONTRACTUEL) for r in contracts)


def test_contact_data(parsed: ParsedExport) -> None:
    records = parsed.records
    with_mail = [r for r in records if r.personal_email]
    with_mobile = [r for r in records if r.mobile]
    assert 0.5 < len(with_mail) / len(records) < 0.9
    assert 0.5 < len(with_mobile) / len(records) < 0.8
    assert all(r.mobile is None or r.mobile[:4] in ("+336", "+337") for r in records)
    assert all(r.postal_code[:2] in ("02", "60", "80") for r in records)
    assert all(r.address_lines and r.city for r in records)
    assert any(len(r.address_lines) == 2 for r in records)
    assert {r.civility for r in records} == {"M.", "Mme"}


def test_establishments_are_spread_and_valid(parsed: ParsedExport) -> None:
    uais = {r.uai for r in parsed.records}
    assert 70 <= len(uais) <= 91
    assert {departement_of(u) for u in uais} == {"02", "60", "80"}


def test_generate_establishments() -> None:
    establishments = generate_establishments(2000)
    assert len(establishments) == 2000
    assert [e.name for e in establishments[:4]] == [
        "Rectorat de l'académie d'Amiens",
        "DSDEN de l'Aisne",
        "DSDEN de l'Oise",
        "DSDEN de la Somme",
    ]
    assert len({e.uai for e in establishments}) == 2000
    towns = {dep: {name for name, _ in towns} for dep, towns in TOWNS.items()}
    for establishment in establishments:
        assert normalise_uai(establishment.uai) == establishment.uai
        assert departement_of(establishment.uai) == establishment.departement
        assert establishment.city in towns[establishment.departement]
        assert establishment.postal_code[:2] == establishment.departement
        assert establishment.name.startswith(("École", "Collège", "Lycée", "Rectorat", "DSDEN"))
    kinds = Counter(e.kind for e in establishments)
    assert kinds["ecole"] > kinds["college"] > kinds["lycee"]
    assert len({(e.name, e.city) for e in establishments}) == 2000
    assert generate_establishments(2000) == establishments
    assert generate_establishments(2000, seed=1) != establishments


def test_few_establishments_still_cover_every_kind() -> None:
    establishments = generate_establishments(8)
    assert {"ecole", "college", "lycee", "lp", "rectorat", "dsden"} <= {
        e.kind for e in establishments
    }
    with pytest.raises(ValueError):
        generate_establishments(4)


def test_establishment_ceiling() -> None:
    establishments = generate_establishments(MAX_ESTABLISHMENTS)
    assert len({e.uai for e in establishments}) == MAX_ESTABLISHMENTS
    with pytest.raises(ValueError):
        generate_establishments(MAX_ESTABLISHMENTS + 1)


@pytest.mark.parametrize("agents", [0, 1, 10, 60])
def test_small_exports(agents: int) -> None:
    result = parse_export(generate_export(agents).encode(), today=TODAY)
    assert (result.rows, len(result.records), result.refusals) == (agents, agents, ())


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        generate_export(-1)
    with pytest.raises(ValueError):
        generate_export(10, homonym_rate=1.0)


def test_include_invalid_adds_the_demo_refusals(parsed: ParsedExport) -> None:
    result = parse_export(generate_export(2000, include_invalid=True).encode(), today=TODAY)
    assert result.rows == 2004
    assert [r.kind for r in result.refusals] == [
        RefusalKind.INELIGIBLE,
        RefusalKind.INELIGIBLE,
        RefusalKind.MALFORMED,
        RefusalKind.MALFORMED,
    ]
    reasons = [r.reason for r in result.refusals]
    assert "élèves" in reasons[0]
    assert "parents" in reasons[1]
    assert reasons[2].startswith("numen : ")
    assert reasons[3].startswith("date_entree : ")
    # The valid rows are the same agents as without the refusals.
    assert [r.numen for r in result.records] == [r.numen for r in parsed.records]
    lines = [r.line for r in result.refusals]
    assert lines == sorted(lines) and len(set(lines)) == 4
