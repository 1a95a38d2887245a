"""Plugin point for HR export dialects (style.md §8).

Académies differ in what their HR system exports; each shape is one *dialect*: a
subclass of :class:`HrDialect` in its own module, chosen by name in the settings
(``hr_import.dialect``). The shape follows Radicale's ``load_plugin``: a built-in
name maps to a module of this package, any other name is a module path (optionally
``module:Class``) that defines the class, by default called ``Dialect``. Every
dialect returns the same :class:`ParsedExport`, so the importer never knows which
one ran.
"""

from __future__ import annotations

import abc
import datetime as dt
import importlib
from collections.abc import Callable
from typing import ClassVar

from academail.core.errors import InvalidInput
from academail.identity.hr.parse import ParsedExport

__all__ = ["BUILTIN_DIALECTS", "HrDialect", "load_dialect"]

BUILTIN_DIALECTS: dict[str, str] = {
    "academail_csv": "academail.identity.hr.csv_dialect",
}


class HrDialect(abc.ABC):
    """One HR export format: bytes of a file in, checked rows out."""

    name: ClassVar[str]

    @abc.abstractmethod
    def parse(
        self,
        data: bytes,
        on_row: Callable[[int], None] | None = None,
        *,
        today: dt.date | None = None,
    ) -> ParsedExport:
        """Parses a whole file; raises :class:`InvalidInput` only for a whole-file error.

        ``today`` is the importer's clock date (Europe/Paris) for date checks such as
        "born in the future"; ``None`` means the system clock.
        """


def load_dialect(name: str) -> HrDialect:
    """The dialect called ``name``: a built-in name, ``package.module`` or ``module:Class``."""
    module_name, _, class_name = BUILTIN_DIALECTS.get(name, name).partition(":")
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, class_name or "Dialect")
    except (ImportError, AttributeError, ValueError) as exc:
        known = ", ".join(sorted(BUILTIN_DIALECTS))
        raise InvalidInput(
            f"dialecte d'export RH inconnu « {name} » (intégrés : {known}) : {exc}"
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, HrDialect)):
        raise InvalidInput(f"dialecte d'export RH « {name} » : ce n'est pas un HrDialect")
    return cls()
