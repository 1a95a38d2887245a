"""The built-in dialect ``academail_csv``: the documented CSV format (:mod:`.format`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import ClassVar

from academail.identity.hr.dialect import HrDialect
from academail.identity.hr.parse import ParsedExport, parse_export

__all__ = ["AcademailCsv", "Dialect"]


class AcademailCsv(HrDialect):
    """Semicolon-separated, header row, UTF-8 or Windows-1252 (see :mod:`.format`).

    ``today`` pins the date used to refuse births in the future (tests); a ``today``
    given to :meth:`parse` (the importer's clock) wins; by default the system clock
    is read at each parse.
    """

    name: ClassVar[str] = "academail_csv"

    def __init__(self, today: dt.date | None = None) -> None:
        self._today = today

    def parse(
        self,
        data: bytes,
        on_row: Callable[[int], None] | None = None,
        *,
        today: dt.date | None = None,
    ) -> ParsedExport:
        return parse_export(data, today=today or self._today, on_row=on_row)


Dialect = AcademailCsv
