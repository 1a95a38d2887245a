"""French first, English second: Babel catalogs read straight from the ``.po`` files.

Templates and code write French source strings inside ``_()``; the English catalog
(``locales/en/LC_MESSAGES/messages.po``) translates them. The ``.po`` file is
compiled in memory at start-up, so no build step can be forgotten. The language is
the ``lang`` cookie if set, else the best match of ``Accept-Language``, else French
(WCAG 2.1 SC 3.1.1: the page's ``lang`` follows).

Texts that code hands to a page (a form error, a notice chosen by key) are marked
with :func:`N_` where they are written and translated when the page is rendered,
``{{ _(error) }}``: the language is only known per request. The domain's own
French texts (``identity.messages``, the password policy) reach the pages the same
way. ``tests/unit/test_i18n_catalog.py`` extracts every id and keeps the catalog
complete and free of stale entries.
"""

from __future__ import annotations

import contextvars
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

__all__ = [
    "CATALOG",
    "LANGUAGES",
    "N_",
    "current_language",
    "gettext",
    "ngettext",
    "pick_language",
    "use_language",
]

LANGUAGES = ("fr", "en")
_LOCALES = Path(__file__).parent / "locales"
CATALOG = _LOCALES / "en" / "LC_MESSAGES" / "messages.po"
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


def N_(message: str) -> str:
    """Marks a French text for the catalog (gettext's usual "no-op" name, known to
    extractors); it is translated where it is shown."""
    return message


def gettext(message: str) -> str:
    """``message`` in the visitor's language; an empty text stays empty (gettext
    would answer the catalog's header)."""
    if not message:
        return message
    return _catalog(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalog(_current.get()).ngettext(singular, plural, n)
