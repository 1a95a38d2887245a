"""French first, English second: Babel catalogs read straight from the ``.po`` files.

Templates and code write French source strings inside ``_()``; the English catalog
(``locales/en/LC_MESSAGES/messages.po``) translates them. The ``.po`` file is
compiled in memory at start-up, so no build step can be forgotten. The language is
the ``lang`` cookie if set, else the best match of ``Accept-Language``, else French.
"""

from __future__ import annotations

import contextvars
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

__all__ = ["LANGUAGES", "current_language", "gettext", "ngettext", "pick_language", "use_language"]

LANGUAGES = ("fr", "en")
_LOCALES = Path(__file__).parent / "locales"
_current: contextvars.ContextVar[str] = contextvars.ContextVar("lang", default="fr")


@cache
def _catalog(lang: str) -> NullTranslations:
    path = _LOCALES / lang / "LC_MESSAGES" / "messages.po"
    if lang == "fr" or not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return str(cookie)
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return "fr"


def use_language(lang: str) -> None:
    _current.set(lang if lang in LANGUAGES else "fr")


def current_language() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return _catalog(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalog(_current.get()).ngettext(singular, plural, n)
