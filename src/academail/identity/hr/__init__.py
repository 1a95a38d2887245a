"""HR exports: the documented format, its parser, the dialect plugin point, demo data.

This ``__init__`` is the package's API (style.md §11). The importer
(:mod:`academail.identity.staff_import`) only needs :func:`load_dialect` and the
types of :class:`ParsedExport`; the generator feeds the demo and the benchmarks.
"""

from academail.identity.hr.dialect import BUILTIN_DIALECTS, HrDialect, load_dialect
from academail.identity.hr.format import ALL_COLUMNS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from academail.identity.hr.generator import Establishment, generate_establishments, generate_export
from academail.identity.hr.parse import (
    HrRecord,
    ParsedExport,
    Refusal,
    RefusalKind,
    decode_export,
    parse_export,
)

__all__ = [
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
