"""Realistic, deterministic HR exports for the demo, the tests and the benchmarks.

:func:`generate_export` writes the ``academail_csv`` format (:mod:`.format`) for an
académie shaped like Amiens: three départements (Aisne 02, Oise 60, Somme 80),
schools, collèges and lycées in real towns, the rectorat and the three DSDEN, and
staff with French names that exercise the naming rules — accents, compound first
names, compound and particle family names, apostrophes, ligatures — and homonyms.

Determinism: the same arguments give the same text (with the same faker version).
Faker is slow per call, so it only fills small pools once; every row is then drawn
from the pools with one seeded :class:`random.Random`. Every date is fixed
(nothing depends on the day it runs), so "departed" agents end before July 2026
and contracts end in August 2027 or 2028.

By default every row is valid; ``include_invalid=True`` adds four refused lines (a
pupil, a parent, a bad NUMEN, an impossible date) for the refusal report of the
demo. The valid rows are the same with or without them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass

from academail.core.text import identifier_part
from academail.identity.hr.format import ALL_COLUMNS
from academail.identity.roles import Role
from academail.identity.uai import uai_check_letter

__all__ = ["Establishment", "generate_establishments", "generate_export"]


def _rng(purpose: str, seed: int) -> random.Random:
    """A seeded generator per purpose: demo data, never secrets."""
    return random.Random(f"{purpose}:{seed}")  # noqa: S311 - reproducible fake data


@dataclass(frozen=True, slots=True)
class Establishment:
    """A generated establishment; ``kind`` is ``ecole``, ``college``, ``lycee``,
    ``lp``, ``rectorat`` or ``dsden``."""

    uai: str
    name: str
    city: str
    postal_code: str
    departement: str
    kind: str


# -- geography -----------------------------------------------------------------------

# Real towns and postcodes; the first of each département is its chef-lieu.
TOWNS: dict[str, tuple[tuple[str, str], ...]] = {
    "02": (
        ("Laon", "02000"),
        ("Saint-Quentin", "02100"),
        ("Soissons", "02200"),
        ("Château-Thierry", "02400"),
        ("Chauny", "02300"),
        ("Hirson", "02500"),
        ("Guise", "02120"),
        ("Tergnier", "02700"),
        ("Villers-Cotterêts", "02600"),
        ("Bohain-en-Vermandois", "02110"),
        ("Vervins", "02140"),
        ("La Fère", "02800"),
        ("Fère-en-Tardenois", "02130"),
        ("Marle", "02250"),
        ("Le Nouvion-en-Thiérache", "02170"),
        ("Ribemont", "02240"),
    ),
    "60": (
        ("Beauvais", "60000"),
        ("Compiègne", "60200"),
        ("Creil", "60100"),
        ("Senlis", "60300"),
        ("Noyon", "60400"),
        ("Clermont", "60600"),
        ("Méru", "60110"),
        ("Nogent-sur-Oise", "60180"),
        ("Crépy-en-Valois", "60800"),
        ("Chantilly", "60500"),
        ("Pont-Sainte-Maxence", "60700"),
        ("Montataire", "60160"),
        ("Breteuil", "60120"),
        ("Grandvilliers", "60210"),
        ("Chambly", "60230"),
        ("Liancourt", "60140"),
        ("Saint-Just-en-Chaussée", "60130"),
        ("Noailles", "60430"),
    ),
    "80": (
        ("Amiens", "80000"),
        ("Abbeville", "80100"),
        ("Péronne", "80200"),
        ("Albert", "80300"),
        ("Montdidier", "80500"),
        ("Doullens", "80600"),
        ("Roye", "80700"),
        ("Ham", "80400"),
        ("Corbie", "80800"),
        ("Friville-Escarbotin", "80130"),
        ("Rue", "80120"),
        ("Poix-de-Picardie", "80290"),
        ("Moreuil", "80110"),
        ("Longueau", "80330"),
        ("Saint-Valery-sur-Somme", "80230"),
        ("Flixecourt", "80420"),
        ("Conty", "80160"),
    ),
}
# Share of the establishments (and so of the staff) per département.
DEPARTEMENT_WEIGHTS = {"02": 0.28, "60": 0.42, "80": 0.30}
_UAI_PREFIX = {"02": "002", "60": "060", "80": "080"}
MAX_ESTABLISHMENTS = 10_000

_ADMINISTRATIONS: tuple[tuple[str, str, str, str, str], ...] = (
    ("0801948", "Rectorat de l'académie d'Amiens", "Amiens", "80000", "rectorat"),
    ("0021840", "DSDEN de l'Aisne", "Laon", "02000", "dsden"),
    ("0601810", "DSDEN de l'Oise", "Beauvais", "60000", "dsden"),
    ("0801950", "DSDEN de la Somme", "Amiens", "80000", "dsden"),
)

_PATRONS = (
    "Jean Racine",
    "Jules Verne",
    "Victor Hugo",
    "Jean Moulin",
    "Louis Pasteur",
    "Marie Curie",
    "Jean de La Fontaine",
    "Condorcet",
    "Paul Éluard",
    "Jules Ferry",
    "Jean Jaurès",
    "Anatole France",
    "Camille Claudel",
    "Alexandre Dumas",
    "Gay-Lussac",
    "Henri Martin",
    "Pierre Mendès France",
    "Madeleine Michelis",
    "Louis Thuillier",
    "Édouard Branly",
    "Robert de Luzarches",
    "Saint-Exupéry",
    "Simone Veil",
    "Rosa Parks",
    "Jacques Prévert",
    "Albert Camus",
    "Jean Macé",
    "Paul Langevin",
    "Boucher de Perthes",
    "Jean Rostand",
    "Françoise Dolto",
    "Charles de Gaulle",
    "George Sand",
    "Jean Mermoz",
    "Joliot-Curie",
    "Voltaire",
    "Lamartine",
    "Arthur Rimbaud",
    "Marcel Pagnol",
    "Pierre et Marie Curie",
    "Louise Michel",
    "Olympe de Gouges",
    "Jean Calvin",
    "Condorcet",
    "Gérard Philipe",
    "Paul Bert",
    "Jules Michelet",
    "Hector Berlioz",
    "Jean Monnet",
    "Aristide Briand",
    "Sophie Germain",
    "Émile Zola",
    "Honoré de Balzac",
    "Guy de Maupassant",
    "Antoine de Saint-Exupéry",
    "Irène Joliot-Curie",
    "Henri Matisse",
    "Claude Debussy",
    "Frédéric Chopin",
    "Molière",
    "Jean Zay",
    "Lucie Aubrac",
)
_PLACES = (
    "du Centre",
    "des Tilleuls",
    "du Parc",
    "Les Coquelicots",
    "Les Marronniers",
    "du Bourg",
    "de la Gare",
    "Les Hirondelles",
    "Les Peupliers",
    "du Moulin",
)
# kind, label, share of the schools
_SCHOOL_KINDS: tuple[tuple[str, str, float], ...] = (
    ("ecole", "École primaire", 0.38),
    ("ecole", "École maternelle", 0.16),
    ("ecole", "École élémentaire", 0.16),
    ("college", "Collège", 0.18),
    ("lycee", "Lycée", 0.05),
    ("lycee", "Lycée polyvalent", 0.02),
    ("lp", "Lycée professionnel", 0.05),
)
# Relative staff size: where a drawn agent is likely to work.
_SIZE = {"ecole": 1, "college": 5, "lycee": 9, "lp": 6, "rectorat": 60, "dsden": 25}


def generate_establishments(count: int, seed: int = 2026) -> tuple[Establishment, ...]:
    """``count`` establishments (5 at least): the rectorat, the three DSDEN, then schools.

    Schools are spread over the three départements; their UAI are valid (prefix
    002/060/080, check letter computed) and unique. At most 10,000 (the académie
    has about 2,000; each département has 9,000 free numbers here).
    """
    if count < 5:
        raise ValueError("at least 5 establishments: the rectorat, 3 DSDEN and a school")
    if count > MAX_ESTABLISHMENTS:
        raise ValueError(f"at most {MAX_ESTABLISHMENTS:,} establishments")
    rng = _rng("etablissements", seed)
    out = [
        Establishment(digits + uai_check_letter(digits), name, city, postcode, digits[1:3], kind)
        for digits, name, city, postcode, kind in _ADMINISTRATIONS
    ]
    taken = {e.uai[:7] for e in out}
    deps = list(DEPARTEMENT_WEIGHTS)
    kinds = list(_SCHOOL_KINDS)
    kind_weights = [k[2] for k in _SCHOOL_KINDS]
    seen_names: set[tuple[str, str]] = set()
    for number in range(count - len(out)):
        # The first schools cover every kind, so small exports have every role.
        kind, label, _ = (
            _SCHOOL_KINDS[(0, 3, 4, 6)[number]]
            if number < 4
            else rng.choices(kinds, weights=kind_weights)[0]
        )
        dep = (
            deps[number % 3]
            if number < 3
            else rng.choices(deps, [*DEPARTEMENT_WEIGHTS.values()])[0]
        )
        city, postcode = _town(rng, dep)
        while True:
            digits = f"{_UAI_PREFIX[dep]}{rng.randrange(1000, 10000)}"
            if digits not in taken:
                taken.add(digits)
                break
        patron = (
            rng.choice(_PLACES) if kind == "ecole" and rng.random() < 0.2 else rng.choice(_PATRONS)
        )
        name = f"{label} {patron}"
        if (name, city) in seen_names:
            name = f"{name} ({digits[-4:]})"
        seen_names.add((name, city))
        out.append(
            Establishment(digits + uai_check_letter(digits), name, city, postcode, dep, kind)
        )
    return tuple(out)


def _town(rng: random.Random, dep: str) -> tuple[str, str]:
    towns = TOWNS[dep]
    # The chef-lieu and the big towns weigh more.
    index = min(int(rng.expovariate(0.22)), len(towns) - 1)
    return towns[index]


# -- people --------------------------------------------------------------------------

_EXTRA_LAST = (
    "Dupuis",
    "Lefebvre",
    "Delattre",
    "Vasseur",
    "Caron",
    "Leclercq",
    "Dufour",
    "Boulanger",
    "Lecomte",
    "Carpentier",
    "Poulain",
    "Wattebled",
    "Delaporte",
    "Dewaele",
    "Vandenbussche",
    "Lemaire",
    "Dumont",
    "Degand",
    "Crépin",
    "Froment",
    "Bécourt",
    "Debeauvais",
    "Dacheux",
    "Deneux",
    "Flament",
    "Lenglet",
    "Pruvost",
    "Obry",
    "Quénu",
    "Sénéchal",
    "Tellier",
    "Warmé",
    "Hénocque",
    "Lefrançois",
    "Beaurain",
    "Cauchy",
    "Dournel",
    "Évrard",
    "Hémery",
    "Lequien",
    "Maréchal",
    "Ponthieu",
    "Ricquier",
    "Trogneux",
    "Vérité",
    "Bouquet",
)
_PARTICLE_LAST = (
    "de La Fontaine",
    "de Lattre",
    "du Bois",
    "Le Gall",
    "Le Goff",
    "Le Bihan",
    "d'Hondt",
    "d'Aubigny",
    "de Saint-Aubin",
    "du Pont",
    "de La Motte",
    "Le Roux",
    "de Sousa",
    "Van der Berghe",
    "Le Corre",
    "d'Orléans",
)
_APOSTROPHE_LAST = ("N'Diaye", "D'Amico", "N'Guessan", "D'Angelo", "O'Connor", "N\u2019Diaye")
_LIGATURE_LAST = ("Cœurdevey", "Lœuillet", "Bœuf", "Œuvrard")
_COMPOUND_FIRST_F = (
    "Marie-Thérèse",
    "Anne-Sophie",
    "Marie-Claire",
    "Anne-Laure",
    "Marie-Hélène",
    "Marie-Christine",
    "Anne-Marie",
    "Marie-Pierre",
    "Marie-Noëlle",
    "Lise-Marie",
)
_COMPOUND_FIRST_M = (
    "Jean-Pierre",
    "Jean-François",
    "Pierre-Yves",
    "Jean-Baptiste",
    "Jean-Luc",
    "Jean-Michel",
    "Paul-Henri",
    "Jean-Marc",
    "Louis-Marie",
    "Jean-Noël",
)
_EXTRA_FIRST_F = (
    "Nathalie",
    "Sandrine",
    "Isabelle",
    "Sylvie",
    "Christelle",
    "Karine",
    "Audrey",
    "Laetitia",
    "Lætitia",
    "Séverine",
    "Mélanie",
    "Maëlle",
    "Gwenaëlle",
    "Chloé",
    "Manon",
    "Camille",
    "Léa",
    "Aurore",
    "Delphine",
    "Estelle",
    "Fanny",
    "Magali",
    "Murielle",
    "Anaëlle",
    "Noémie",
    "Ophélie",
)
_EXTRA_FIRST_M = (
    "Sébastien",
    "Stéphane",
    "Frédéric",
    "Cédric",
    "Jérémy",
    "Mickaël",
    "Grégory",
    "Thierry",
    "Pascal",
    "Ludovic",
    "Loïc",
    "Maël",
    "Anthony",
    "Kévin",
    "Rémi",
    "Benoît",
    "Hervé",
    "Yannick",
    "Gaëtan",
    "Joël",
    "Noé",
    "Théo",
)
_MAIL_DOMAINS = (
    "gmail.com",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "sfr.fr",
    "hotmail.fr",
    "yahoo.fr",
    "wanadoo.fr",
    "outlook.fr",
    "icloud.com",
)
_ADDRESS_SECOND = (
    "Appartement {n}",
    "Résidence Les Tilleuls",
    "Bâtiment B",
    "Lieu-dit La Croix",
    "Résidence du Parc, apt {n}",
    "Chez M. et Mme {last}",
)

# role, weight (share of the staff), corps labels
_ROLES: tuple[tuple[Role, float, tuple[str, ...]], ...] = (
    (Role.ENS1D, 0.355, ("Professeur des écoles",)),
    (Role.ENS2D, 0.330, ("Certifié", "Certifié", "Certifié", "Agrégé", "PLP", "Professeur d'EPS")),
    (Role.AESH, 0.100, ("AESH",)),
    (
        Role.ADM,
        0.060,
        ("Adjoint administratif", "Secrétaire administratif", "Attaché d'administration"),
    ),
    (
        Role.TECH,
        0.030,
        ("Adjoint technique de recherche et de formation", "Technicien", "Ingénieur d'études"),
    ),
    (Role.CONTRACTUEL, 0.035, ("Enseignant contractuel", "Agent contractuel")),
    (Role.CPE, 0.016, ("Conseiller principal d'éducation",)),
    (Role.PSYEN, 0.010, ("Psychologue de l'Éducation nationale",)),
    (Role.DIR_ECOLE, 0.040, ("Professeur des écoles",)),
    (Role.PERDIR, 0.020, ("Personnel de direction",)),
    (Role.IEN, 0.0025, ("Inspecteur de l'Éducation nationale",)),
    (Role.IA_IPR, 0.0015, ("Inspecteur d'académie – IPR",)),
)
# Where each role works, by establishment kind, in order of preference.
_WORKPLACES: dict[Role, tuple[tuple[str, ...], ...]] = {
    Role.ENS1D: (("ecole",),),
    Role.DIR_ECOLE: (("ecole",),),
    Role.ENS2D: (("college", "lycee", "lp"),),
    Role.CPE: (("college", "lycee", "lp"),),
    Role.PERDIR: (("college", "lycee", "lp"),),
    Role.CONTRACTUEL: (("college", "lycee", "lp"),),
    Role.AESH: (("ecole", "college", "lycee", "lp"),),
    Role.PSYEN: (("college", "lycee", "dsden"),),
    Role.ADM: (("college", "lycee", "lp", "rectorat", "dsden"),),
    Role.TECH: (("lycee", "lp", "college", "rectorat"),),
    Role.IEN: (("dsden",),),
    Role.IA_IPR: (("rectorat",),),
}
_CATEGORY = {Role.ADM: "A", Role.TECH: "T", Role.AESH: "C", Role.CONTRACTUEL: "C"}
_NUMEN_CHARS = string.ascii_uppercase + string.digits

_BIRTH_FIRST = dt.date(1960, 1, 1).toordinal()
_BIRTH_LAST = dt.date(2003, 12, 31).toordinal()
_DUTY_FIRST = dt.date(1985, 1, 1)
_DUTY_LAST = dt.date(2026, 9, 1)
_DEPARTED_FROM = dt.date(2024, 1, 1)
_DEPARTED_TO = dt.date(2026, 7, 4)


@dataclass(frozen=True, slots=True)
class _Pools:
    last: tuple[str, ...]
    first_f: tuple[str, ...]
    first_m: tuple[str, ...]
    streets: tuple[str, ...]


def _pools(seed: int) -> _Pools:
    from faker import Faker  # imported here: a second of start-up nobody else should pay

    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    last = {fake.last_name() for _ in range(2500)} | set(_EXTRA_LAST)
    first_f = {fake.first_name_female() for _ in range(1200)} | set(_EXTRA_FIRST_F)
    first_m = {fake.first_name_male() for _ in range(900)} | set(_EXTRA_FIRST_M)
    streets = {fake.street_address() for _ in range(1500)}
    return _Pools(
        tuple(sorted(last)), tuple(sorted(first_f)), tuple(sorted(first_m)), tuple(sorted(streets))
    )


class _Writer:
    """Draws agents from the pools; one instance per export."""

    def __init__(
        self, rng: random.Random, pools: _Pools, establishments: Sequence[Establishment]
    ) -> None:
        self.rng = rng
        self.pools = pools
        self.numens: set[str] = set()
        self.names: set[tuple[str, str]] = set()
        self.people: list[tuple[str, str, str]] = []  # civility, first name, last name
        by_kind: dict[str, list[Establishment]] = {}
        for establishment in establishments:
            by_kind.setdefault(establishment.kind, []).append(establishment)
        self.places: dict[Role, tuple[list[Establishment], list[float]]] = {}
        for role, preferences in _WORKPLACES.items():
            for kinds in (*preferences, ("ecole", "college", "lycee", "lp"), ("rectorat",)):
                chosen = [e for kind in kinds for e in by_kind.get(kind, [])]
                if chosen:
                    weights, total = [], 0.0
                    for e in chosen:
                        total += _SIZE[e.kind]
                        weights.append(total)
                    self.places[role] = (chosen, weights)
                    break
        self.roles = [r for r, _, _ in _ROLES]
        self.role_cumulative = list(itertools.accumulate(w for _, w, _ in _ROLES))
        self.corps = {r: c for r, _, c in _ROLES}

    # names
    def last_name(self) -> str:
        r = self.rng.random()
        if r < 0.025:
            return self.rng.choice(_PARTICLE_LAST)
        if r < 0.035:
            return self.rng.choice(_APOSTROPHE_LAST)
        if r < 0.038:
            return self.rng.choice(_LIGATURE_LAST)
        if r < 0.098:
            return f"{self.rng.choice(self.pools.last)}-{self.rng.choice(self.pools.last)}"
        return self.rng.choice(self.pools.last)

    def first_name(self, female: bool) -> str:
        if self.rng.random() < 0.12:
            return self.rng.choice(_COMPOUND_FIRST_F if female else _COMPOUND_FIRST_M)
        return self.rng.choice(self.pools.first_f if female else self.pools.first_m)

    def person(self, homonym_rate: float) -> tuple[str, str, str]:
        if self.people and self.rng.random() < homonym_rate:
            return self.rng.choice(self.people)
        female = self.rng.random() < 0.71
        for _ in range(30):  # a new pair: homonyms come from the branch above only
            first, last = self.first_name(female), self.last_name()
            key = (identifier_part(first), identifier_part(last))
            if key not in self.names:
                break
        self.names.add(key)
        person = ("Mme" if female else "M.", first, last)
        self.people.append(person)
        return person

    def numen(self, category: str, year: int) -> str:
        while True:
            tail = "".join(self.rng.choices(_NUMEN_CHARS, k=8))
            value = f"20{category}{year % 100:02d}{tail}"
            if value not in self.numens:
                self.numens.add(value)
                return value

    def date_between(self, first: dt.date, last: dt.date) -> dt.date:
        return dt.date.fromordinal(self.rng.randint(first.toordinal(), last.toordinal()))

    def row(self, homonym_rate: float) -> list[str]:
        rng = self.rng
        civility, first, last = self.person(homonym_rate)
        role = rng.choices(self.roles, cum_weights=self.role_cumulative)[0]
        places, cumulative = self.places[role]
        establishment = rng.choices(places, cum_weights=cumulative)[0]
        birth = dt.date.fromordinal(rng.randint(_BIRTH_FIRST, _BIRTH_LAST))
        earliest = max(_DUTY_FIRST, dt.date(birth.year + 21, 9, 1))
        start = self.date_between(earliest, max(earliest, _DUTY_LAST))
        if rng.random() < 0.7:
            rentree = dt.date(start.year, 9, 1)
            start = rentree if earliest <= rentree <= _DUTY_LAST else start
        end: dt.date | None = None
        if start < _DEPARTED_FROM and rng.random() < 0.01:
            end = self.date_between(_DEPARTED_FROM, _DEPARTED_TO)
        elif role in (Role.AESH, Role.CONTRACTUEL) and rng.random() < 0.4:
            end = dt.date(rng.choice((2027, 2028)), 8, 31)
        birth_name = ""
        if civility == "Mme" and rng.random() < 0.3:
            birth_name = self.last_name()
        elif rng.random() < 0.7:
            birth_name = last
        dep = establishment.departement
        city, postcode = (
            (establishment.city, establishment.postal_code)
            if rng.random() < 0.6
            else _town(rng, dep)
        )
        address = rng.choice(self.pools.streets)
        if rng.random() < 0.06:
            second = rng.choice(_ADDRESS_SECOND).format(n=rng.randint(1, 80), last=last)
            address = f"{second}|{address}"
        email = ""
        if rng.random() < 0.7:
            local = (
                f"{identifier_part(first)[:20] or 'agent'}.{identifier_part(last)[:20] or 'agent'}"
            )
            if rng.random() < 0.5:
                local += str(rng.randint(1, 99))
            email = f"{local}@{rng.choice(_MAIL_DOMAINS)}"
        mobile = ""
        if rng.random() < 0.65:
            national = f"0{rng.choice('67')}{rng.randint(0, 99_999_999):08d}"
            pairs = [national[i : i + 2] for i in range(0, 10, 2)]
            style = rng.random()
            if style < 0.5:
                mobile = " ".join(pairs)
            elif style < 0.75:
                mobile = national
            elif style < 0.9:
                mobile = ".".join(pairs)
            else:
                mobile = "+33 " + national[1] + " " + " ".join(pairs[1:])
        return [
            self.numen(_CATEGORY.get(role, "E"), start.year),
            civility,
            last,
            birth_name,
            first,
            f"{birth:%d/%m/%Y}",
            role.value,
            rng.choice(self.corps[role]),
            establishment.uai,
            establishment.name,
            establishment.city,
            f"{start:%d/%m/%Y}",
            f"{end:%d/%m/%Y}" if end else "",
            address,
            postcode,
            city,
            email,
            mobile,
        ]


def _invalid_rows(seed: int, establishments: Sequence[Establishment]) -> list[list[str]]:
    """Four lines the parser refuses, for the demo's refusal report."""
    rng = _rng("refus", seed)
    college = next((e for e in establishments if e.kind == "college"), establishments[-1])
    ecole = next((e for e in establishments if e.kind == "ecole"), establishments[-1])
    tail = "".join(rng.choices(_NUMEN_CHARS, k=7))
    lines = [
        # a pupil and a parent: ineligible, whatever else the line says
        ("", "", "Leclercq", "Théo", "12/05/2011", "ELEVE", "01/09/2022", college),
        ("", "Mme", "Vasseur", "Aurélie", "03/02/1984", "PARENT", "01/09/2023", ecole),
        # a NUMEN one character short, then an impossible date: malformed
        (f"20E99{tail}", "M.", "Dacheux", "Jean-Noël", "17/10/1975", "ENS1D", "01/09/1999", ecole),
        (f"20A05{tail}X", "Mme", "Pruvost", "Séverine", "08/06/1981", "ADM", "31/02/2005", college),
    ]
    out = []
    for numen, civility, last, first, birth, code, start, where in lines:
        values = dict.fromkeys(ALL_COLUMNS, "")
        values.update(
            numen=numen,
            civilite=civility,
            nom_usage=last,
            prenom=first,
            date_naissance=birth,
            fonction=code,
            uai=where.uai,
            etablissement=where.name,
            commune_etablissement=where.city,
            date_entree=start,
        )
        out.append([values[column] for column in ALL_COLUMNS])
    return out


def generate_export(
    agents: int,
    seed: int = 2026,
    homonym_rate: float = 0.08,
    *,
    include_invalid: bool = False,
) -> str:
    """An HR export of ``agents`` valid rows (CSV text, header first, ``\\n`` line ends).

    About ``agents / 22`` establishments (5 at least, 10,000 at most); about
    ``homonym_rate`` of the rows reuse the first and last name of an earlier row.
    """
    if agents < 0:
        raise ValueError("agents must be >= 0")
    if not 0.0 <= homonym_rate < 1.0:
        raise ValueError("homonym_rate must be in [0, 1)")
    count = min(MAX_ESTABLISHMENTS, max(5, round(agents / 22)))
    establishments = generate_establishments(count, seed)
    rng = _rng("agents", seed)
    writer = _Writer(rng, _pools(seed), establishments)
    rows = [writer.row(homonym_rate) for _ in range(agents)]
    if include_invalid:
        extra = _invalid_rows(seed, establishments)
        spots = _rng("positions", seed).choices(range(agents + 1), k=len(extra))
        positions = sorted(spots)
        for offset, (position, row) in enumerate(zip(positions, extra, strict=True)):
            rows.insert(position + offset, row)
    out = io.StringIO()
    csv_writer = csv.writer(out, delimiter=";", lineterminator="\n")
    csv_writer.writerow(ALL_COLUMNS)
    csv_writer.writerows(rows)
    return out.getvalue()
