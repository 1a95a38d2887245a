"""Rendering pages: one Jinja environment, autoescaping everywhere, French first.

Every page gets the CSRF token of the request, the visitor's session, the language
and the académie's name; the security headers are added by middleware.

Jinja marks what ``_()`` returns as safe HTML. Pages also pass texts made by code
through it (``{{ _(error) }}``), so the translation is escaped here (``&``, ``<``,
``>``, ``"``; the apostrophe is harmless in text and in the double-quoted
attributes we write): a text that one day carries user input cannot become markup
(OWASP XSS prevention, rule 1), nor can a translation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from academail.web import i18n

__all__ = ["environment", "render"]

_TEMPLATES = Path(__file__).parent / "templates"


def _build() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,  # every template, whatever its extension (pitfall 16)
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    return env


def _text(translated: str) -> str:
    return (
        translated.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
    )


def _gettext(message: str) -> str:
    return _text(i18n.gettext(message))


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _text(i18n.ngettext(singular, plural, n))


environment = _build()


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    state = request.scope.get("state", {})
    settings = request.app.state.platform.settings
    page = environment.get_template(template).render(
        request=request,
        csrf=state.get("csrf_token", ""),
        session=state.get("session"),
        lang=i18n.current_language(),
        academie=settings.academie,
        **context,
    )
    return HTMLResponse(page, status_code=status_code)
