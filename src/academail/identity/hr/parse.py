"""Parsing an HR export (dialect ``academail_csv``): bytes in, typed rows out.

Pure: no I/O, no database, no clock read unless ``today`` is left out (style.md §1,
§14). The whole file is decoded first; a file that cannot be read as text, or whose
header lacks a required column, raises :class:`InvalidInput` and nothing else.
After that every data line gives exactly one :class:`HrRecord` or one
:class:`Refusal`, so an import report can account for each line of the file.

Threat: the file is trusted for its content but not for its shape (hand-edited in
a spreadsheet). Refusal reasons and ``who`` go to the import report, read by
administrators and kept in logs: they never carry a NUMEN nor a date of birth
(engineering.md, "Secrets and personal data").
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from academail.core.clock import SystemClock
from academail.core.errors import InvalidInput
from academail.identity.hr.format import (
    MAX_LENGTHS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    SEPARATOR,
    FieldError,
    normalise_civility,
    normalise_email,
    normalise_mobile,
    normalise_postal_code,
    parse_date,
    split_address,
)
from academail.identity.numen import normalise_numen
from academail.identity.roles import Role, role_from_code
from academail.identity.uai import normalise_uai

__all__ = [
    "HrRecord",
    "ParsedExport",
    "Refusal",
    "RefusalKind",
    "decode_export",
    "parse_export",
]

RowCallback = Callable[[int], None]
_T = TypeVar("_T")

MIN_AGE = 16
MAX_AGE = 80
PROGRESS_EVERY = 1000


class RefusalKind(enum.Enum):
    """Why a line gives no record: a data error to fix, or a person with no account."""

    MALFORMED = "malformed"
    INELIGIBLE = "ineligible"


@dataclass(frozen=True, slots=True)
class HrRecord:
    """One agent as the HR export describes them, every value checked and normalised."""

    line: int
    numen: str
    civility: str
    usage_name: str
    birth_name: str
    first_name: str
    birth_date: dt.date
    role: Role
    corps: str
    uai: str
    establishment_name: str
    establishment_city: str
    duty_start: dt.date
    duty_end: dt.date | None
    address_lines: tuple[str, ...]
    postal_code: str
    city: str
    personal_email: str | None
    mobile: str | None

    def __repr__(self) -> str:  # the NUMEN and the birth date stay out of logs
        return f"HrRecord(line={self.line}, who={self.first_name} {self.usage_name.upper()!r})"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused line: ``who`` is "Prénom NOM" (never the NUMEN nor the birth date).

    ``numen`` is the line's NUMEN when it could be read, whatever else was wrong, so
    that a full import knows the agent is in the file and does not disable them. It
    is for matching only: out of ``repr`` and comparisons, never shown.
    """

    line: int
    kind: RefusalKind
    reason: str
    who: str
    numen: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class ParsedExport:
    """The result of parsing one file; ``rows`` counts non-blank data lines."""

    records: tuple[HrRecord, ...]
    refusals: tuple[Refusal, ...]
    encoding: str
    rows: int

    @property
    def malformed(self) -> tuple[Refusal, ...]:
        """Lines with a data error: by default they stop the whole import."""
        return tuple(r for r in self.refusals if r.kind is RefusalKind.MALFORMED)

    @property
    def ineligible(self) -> tuple[Refusal, ...]:
        """Pupils, students, parents and unknown functions: only reported."""
        return tuple(r for r in self.refusals if r.kind is RefusalKind.INELIGIBLE)


# -- decoding ------------------------------------------------------------------------


def decode_export(data: bytes) -> tuple[str, str]:
    """The text of the file and the encoding used: ``utf-8``, ``utf-8-sig`` or ``cp1252``."""
    if b"\x00" in data:
        raise InvalidInput(
            "fichier refusé : il contient un octet nul (fichier binaire, ou texte UTF-16 : "
            "enregistrez-le en CSV UTF-8 ou Windows-1252)"
        )
    try:
        if data.startswith(b"\xef\xbb\xbf"):
            text, encoding = data[3:].decode("utf-8"), "utf-8-sig"
        else:
            text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"fichier refusé : octet illisible à la position {exc.start} "
                "(ni UTF-8 ni Windows-1252)"
            ) from None
    # Names typed on a Mac arrive decomposed (e + combining accent): one form only.
    return unicodedata.normalize("NFC", text), encoding


# -- header --------------------------------------------------------------------------


def _header_index(header: Sequence[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, raw in enumerate(header):
        name = raw.strip().lower()
        if not name:
            continue
        if name in index:
            raise InvalidInput(
                f"fichier refusé : la colonne « {name} » figure deux fois dans l'en-tête"
            )
        index[name] = position
    missing = [column for column in REQUIRED_COLUMNS if column not in index]
    if missing:
        hint = ""
        if len(header) == 1 and any(sep in header[0] for sep in (",", "\t")):
            hint = " ; le séparateur attendu est le point-virgule « ; »"
        elif not index.keys() & {*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS}:
            hint = " ; la première ligne doit être l'en-tête (noms des colonnes)"
        raise InvalidInput(
            "fichier refusé : colonne(s) obligatoire(s) absente(s) de l'en-tête : "
            + ", ".join(missing)
            + hint
        )
    return index


# -- one line ------------------------------------------------------------------------

_NAME = re.compile(r"[^\W\d_](?:[^\W\d_]|[ '\u2019\u02bc\u2018\-\u2010\u2011\u2013.])*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


_MEMO_LENGTH = min(MAX_LENGTHS.values())


@dataclass(slots=True)
class _Memo:
    """Values of this file already found valid: first names, towns, dates repeat a lot.

    ``texts`` maps a raw value to its cleaned form (no control character, short
    enough for any column); ``names`` holds cleaned values that passed the name rule.
    """

    texts: dict[str, str] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    dates: dict[str, dt.date] = field(default_factory=dict)


class _Row:
    """The values of one line by column name, and the errors found so far."""

    __slots__ = ("control", "errors", "memo", "values")

    def __init__(self, values: list[str], index: Sequence[tuple[str, int]], memo: _Memo) -> None:
        self.memo = memo
        width = len(values)
        self.values = {column: values[pos].strip() for column, pos in index if pos < width}
        self.errors: list[str] = []
        # One search per line; the columns are looked at only when it finds something.
        self.control = _CONTROL.search("".join(values)) is not None

    def get(self, column: str) -> str:
        return self.values.get(column, "")

    def fail(self, column: str, reason: str) -> None:
        self.errors.append(f"{column} : {reason}")

    def required(self, column: str) -> str:
        value = self.get(column)
        if not value:
            self.fail(column, "valeur obligatoire absente")
        return value

    def text(self, column: str, *, required: bool = False) -> str:
        raw = self.values.get(column, "")
        if not raw:
            if required:
                self.fail(column, "valeur obligatoire absente")
            return ""
        value = self.memo.texts.get(raw)
        if value is not None:
            return value
        clean = True
        if self.control and _CONTROL.search(raw):
            self.fail(column, "caractère de contrôle interdit (tabulation, saut de ligne…)")
            clean = False
        value = " ".join(raw.split())
        limit = MAX_LENGTHS.get(column)
        if limit is not None and len(value) > limit:
            self.fail(column, f"trop long ({len(value)} caractères, {limit} au plus)")
        elif clean and len(value) <= _MEMO_LENGTH:
            self.memo.texts[raw] = value
        return value

    def name(self, column: str, *, required: bool = True) -> str:
        value = self.text(column, required=required)
        if not value or value in self.memo.names:
            return value
        if _NAME.fullmatch(value) is None:
            self.fail(
                column,
                "caractère non autorisé dans un nom (lettres, espaces, traits d'union, "
                "apostrophes et points seulement)",
            )
        else:
            self.memo.names.add(value)
        return value

    def date(self, column: str, *, required: bool = True, echo: bool = True) -> dt.date | None:
        value = self.required(column) if required else self.get(column)
        if not value:
            return None
        known = self.memo.dates.get(value)
        if known is not None:
            return known
        try:
            known = self.memo.dates[value] = parse_date(value, echo=echo)
        except FieldError as exc:
            self.fail(column, exc.reason)
        return known

    def who(self) -> str:
        first = " ".join(self.get("prenom").split())[:60]
        last = " ".join(self.get("nom_usage").split())[:60].upper()
        return " ".join(part for part in (first, last) if part) or "(nom absent)"


def _readable_numen(row: _Row) -> str | None:
    """The NUMEN of a line refused for another reason, if it reads as one (no error)."""
    try:
        return normalise_numen(row.get("numen"))
    except InvalidInput:
        return None


class _Parser:
    def __init__(self, index: dict[str, int], today: dt.date) -> None:
        self.index = tuple(index.items())
        self.today = today
        self.seen_numen: dict[str, int] = {}
        self.uai_cache: dict[str, str | FieldError] = {}
        self.role_cache: dict[str, Role | str] = {}
        self.memo = _Memo()

    def row(self, values: list[str], line: int, columns: int) -> HrRecord | Refusal:
        row = _Row(values, self.index, self.memo)
        if len(values) != columns:
            return Refusal(
                line,
                RefusalKind.MALFORMED,
                f"nombre de champs incorrect : {len(values)} au lieu de {columns} "
                "(séparateur « ; » dans une valeur sans guillemets ?)",
                row.who(),
                _readable_numen(row),
            )
        role = self._role(row)
        if isinstance(role, str) and row.get("fonction"):
            return Refusal(
                line,
                RefusalKind.INELIGIBLE,
                f"fonction : {role}",
                row.who(),
                _readable_numen(row),
            )
        numen = self._numen(row, line)
        try:
            civility = normalise_civility(row.get("civilite"))
        except FieldError as exc:
            row.fail("civilite", exc.reason)
            civility = ""
        usage_name = row.name("nom_usage")
        birth_name = row.name("nom_naissance", required=False) or usage_name
        first_name = row.name("prenom")
        birth_date = row.date("date_naissance", echo=False)
        corps = row.text("corps")
        uai = self._uai(row)
        establishment_name = row.text("etablissement", required=True)
        establishment_city = row.text("commune_etablissement")
        duty_start = row.date("date_entree")
        duty_end = row.date("date_sortie", required=False)
        address_lines = self._address(row)
        postal_code = self._value(row, "code_postal", normalise_postal_code, "")
        city = row.text("commune")
        personal_email = self._value(row, "email_perso", normalise_email, None)
        mobile = self._value(row, "mobile", normalise_mobile, None)
        self._dates(row, birth_date, duty_start, duty_end)
        if (
            row.errors
            or numen is None
            or birth_date is None
            or duty_start is None
            or not isinstance(role, Role)
        ):
            return Refusal(line, RefusalKind.MALFORMED, " ; ".join(row.errors), row.who(), numen)
        return HrRecord(
            line=line,
            numen=numen,
            civility=civility,
            usage_name=usage_name,
            birth_name=birth_name,
            first_name=first_name,
            birth_date=birth_date,
            role=role,
            corps=corps,
            uai=uai,
            establishment_name=establishment_name,
            establishment_city=establishment_city,
            duty_start=duty_start,
            duty_end=duty_end,
            address_lines=address_lines,
            postal_code=postal_code,
            city=city,
            personal_email=personal_email,
            mobile=mobile,
        )

    def _role(self, row: _Row) -> Role | str:
        code = row.required("fonction")
        if not code:
            return ""
        role = self.role_cache.get(code)
        if role is None:
            role = self.role_cache[code] = role_from_code(code)
        return role

    def _numen(self, row: _Row, line: int) -> str | None:
        raw = row.required("numen")
        if not raw:
            return None
        try:
            numen = normalise_numen(raw)
        except InvalidInput as exc:
            row.fail("numen", exc.message)
            return None
        first = self.seen_numen.setdefault(numen, line)
        if first != line:
            row.fail("numen", f"NUMEN en double : déjà présent ligne {first}")
        return numen

    def _uai(self, row: _Row) -> str:
        raw = row.required("uai")
        if not raw:
            return ""
        cached = self.uai_cache.get(raw)
        if cached is None:
            try:
                cached = normalise_uai(raw)
            except InvalidInput as exc:
                cached = FieldError(exc.message)
            self.uai_cache[raw] = cached
        if isinstance(cached, FieldError):
            row.fail("uai", cached.reason)
            return ""
        return cached

    def _address(self, row: _Row) -> tuple[str, ...]:
        raw = row.get("adresse")
        if _CONTROL.search(raw.replace("\n", "").replace("\r", "")):
            row.fail("adresse", "caractère de contrôle interdit")
            return ()
        if len(raw) > MAX_LENGTHS["adresse"]:
            row.fail("adresse", f"trop longue ({len(raw)} caractères)")
            return ()
        try:
            return split_address(raw)
        except FieldError as exc:
            row.fail("adresse", exc.reason)
            return ()

    @staticmethod
    def _value(row: _Row, column: str, normalise: Callable[[str], _T], empty: _T) -> _T:
        try:
            return normalise(row.get(column))
        except FieldError as exc:
            row.fail(column, exc.reason)
            return empty

    def _dates(
        self,
        row: _Row,
        birth: dt.date | None,
        start: dt.date | None,
        end: dt.date | None,
    ) -> None:
        if birth is not None:
            if birth > self.today:
                row.fail("date_naissance", "date dans le futur")
            elif start is not None:
                age = (
                    start.year - birth.year - ((start.month, start.day) < (birth.month, birth.day))
                )
                if age < MIN_AGE or age > MAX_AGE:
                    row.fail(
                        "date_naissance",
                        "âge invraisemblable à la date d'entrée "
                        f"({MIN_AGE} à {MAX_AGE} ans attendus)",
                    )
        if start is not None and end is not None and end < start:
            row.fail("date_sortie", f"antérieure à la date d'entrée ({start:%d/%m/%Y})")


# -- the file ------------------------------------------------------------------------


def parse_export(
    data: bytes,
    *,
    today: dt.date | None = None,
    on_row: RowCallback | None = None,
) -> ParsedExport:
    """Parses a whole ``academail_csv`` export.

    ``today`` (Europe/Paris date, for "born in the future") defaults to the system
    clock. ``on_row(n)`` is called every 1,000 data lines and once at the end with
    the number of lines done, for a progress bar.
    """
    text, encoding = decode_export(data)
    if not text.strip():
        raise InvalidInput("fichier refusé : il est vide (l'en-tête est obligatoire)")
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=SEPARATOR,
        quotechar='"',
        doublequote=True,
        skipinitialspace=False,
        strict=False,
    )
    records: list[HrRecord] = []
    refusals: list[Refusal] = []
    rows = 0
    try:
        header: list[str] | None = None
        for values in reader:  # blank lines before the header are skipped
            if any(field.strip() for field in values):
                header = values
                break
        if header is None:
            raise InvalidInput("fichier refusé : il est vide (l'en-tête est obligatoire)")
        index = _header_index(header)
        columns = len(header)
        parser = _Parser(index, today or SystemClock().today())
        previous_end = reader.line_num
        for values in reader:
            line = previous_end + 1
            previous_end = reader.line_num
            if not any(field.strip() for field in values):
                continue
            rows += 1
            outcome = parser.row(values, line, columns)
            if isinstance(outcome, HrRecord):
                records.append(outcome)
            else:
                refusals.append(outcome)
            if on_row is not None and rows % PROGRESS_EVERY == 0:
                on_row(rows)
    except csv.Error as exc:
        raise InvalidInput(
            f"fichier refusé : CSV illisible vers la ligne {reader.line_num} ({exc})"
        ) from None
    if on_row is not None:
        on_row(rows)
    return ParsedExport(tuple(records), tuple(refusals), encoding, rows)
