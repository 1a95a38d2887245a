"""The English catalog covers every text a page can show, and nothing else.

French is the source language; a visitor who chose English must get English pages
whose ``<html lang="en">`` tells the truth (WCAG 2.1 SC 3.1.1 and 3.1.2). The ids
are extracted, never listed by hand:

* templates: Babel with Jinja's own extractor (``jinja2.ext.babel_extract`` and the
  ``i18n`` extension), as ``pybabel extract`` would;
* web code: Babel's Python extractor with the keywords ``_``, ``gettext``,
  ``ngettext`` and ``N_`` (a text marked where it is written and translated on the
  page, ``{{ _(error) }}``);
* the domain's French texts that pages print the same way: every constant of
  ``identity/messages.py``, the literal rules of the password policy
  (``policy._message``) and the literal messages of the errors raised, or the
  decisions returned, by the services behind the pages (credentials, second
  factor, OIDC).

A text built with an f-string cannot be an id: it stays French on English pages.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from academail.core import errors
from academail.identity import messages
from academail.web import i18n
from academail.web.account.common import NOTICES
from academail.web.templating import environment

SRC = Path(i18n.__file__).resolve().parents[1]  # src/academail
WEB = SRC / "web"
TEMPLATES = WEB / "templates"
POLICY = SRC / "identity" / "policy.py"
# Services whose error texts reach a page through ``{{ _(e) }}`` / ``{{ _(message) }}``.
SERVICES = ("identity/credentials.py", "identity/second_factor.py", "identity/sso/oidc.py")
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}
JINJA = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
# %(name)s, %s, %d…, {name}: what a translation must keep; %% is a literal percent sign.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdifr]|%[sdifr]|\{\w*\}")


# -- extraction -----------------------------------------------------------------------------
Extracted = tuple[str, int, str | tuple[str, ...], list[str], str | None]


def _ids(found: Iterable[Extracted]) -> set[str]:
    """The ids (a plural's singular) of Babel's ``(file, line, message, comments, context)``."""
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


def template_ids() -> set[str]:
    return _ids(
        extract_from_dir(
            TEMPLATES,
            method_map=[("**.html", "jinja2.ext:babel_extract")],
            options_map={"**.html": JINJA},
            keywords=KEYWORDS,
        )
    )


def web_code_ids() -> set[str]:
    return _ids(extract_from_dir(WEB, method_map=[("**.py", "python")], keywords=KEYWORDS))


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` (implicit concatenation is one constant)."""
    found: dict[str, str] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        value = getattr(node, "value", None)
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            found.update({t.id: value.value for t in targets if isinstance(t, ast.Name)})
    return found


def _literal(node: ast.expr, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None  # an f-string or an expression: not an id


def _service_texts(path: Path) -> Iterator[str]:
    """Literal messages of domain errors raised, and ``message=``/``error=`` fields."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = _constants(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        candidates = [node.args[0]] if name in errors.__all__ and node.args else []
        candidates += [kw.value for kw in node.keywords if kw.arg in ("message", "error")]
        for candidate in candidates:
            text = _literal(candidate, constants)
            if text:
                yield text


def _policy_rules() -> Iterator[str]:
    tree = ast.parse(POLICY.read_text(encoding="utf-8"))
    (function,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_message"]
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and node.value is not None:
            text = _literal(node.value, {})
            if text:
                yield text


def domain_ids() -> set[str]:
    catalogue = {getattr(messages, name) for name in messages.__all__}
    services = {text for path in SERVICES for text in _service_texts(SRC / path)}
    return {text for text in catalogue if isinstance(text, str)} | set(_policy_rules()) | services


def all_ids() -> set[str]:
    return template_ids() | web_code_ids() | domain_ids()


# -- the catalog ----------------------------------------------------------------------------
def english() -> Catalog:
    with i18n.CATALOG.open("rb") as handle:
        return read_po(handle, locale="en", abort_invalid=True)


def translations() -> dict[str, str]:
    """id → English, for the entries the compiled catalog uses (not fuzzy, not empty)."""
    found: dict[str, str] = {}
    for message in english():
        if not message.id or message.fuzzy:
            continue
        string = message.string if isinstance(message.string, str) else message.string[0]
        key = message.id if isinstance(message.id, str) else message.id[0]
        if string and string.strip():
            found[key] = string
    return found


def test_the_catalog_parses_without_duplicates_or_obsolete_entries():
    catalog = english()
    assert catalog.locale is not None and str(catalog.locale) == "en"
    assert not catalog.obsolete, f"obsolete (#~) entries: {sorted(catalog.obsolete)}"
    text = i18n.CATALOG.read_text(encoding="utf-8")
    entries = len(re.findall(r"^msgid ", text, flags=re.MULTILINE)) - 1  # minus the header
    assert entries == len(catalog), "a msgid appears twice in messages.po"


def test_every_source_is_extracted():
    """The extractors find what they must (an empty extraction would pass vacuously)."""
    assert {"Connexion", "Mon compte", "Veuillez corriger :"} <= template_ids()
    assert set(NOTICES.values()) <= web_code_ids()
    assert "Navigateur non identifié" in web_code_ids()
    assert "Je ne connais pas mon identifiant ou mon mot de passe" in web_code_ids()
    domain = domain_ids()
    assert {messages.LOGIN_FAILED, messages.SELF_SERVICE_FAILED} <= domain
    assert "trop facile à deviner (mot courant, suite, date…)" in domain
    assert "La double authentification est déjà activée." in domain  # a raised error
    assert "Le mot de passe actuel est incorrect." in domain  # through a module constant
    assert not any("{" in text and "}" in text for text in domain), "an f-string leaked in"


def test_every_id_has_an_english_translation_and_none_is_stale():
    ids = all_ids()
    translated = translations()
    catalog_ids = {message.id for message in english() if message.id}
    missing = sorted(ids - translated.keys())
    obsolete = sorted(str(key) for key in catalog_ids - ids)
    report = "\n".join(
        [f"{len(missing)} id(s) without English in messages.po:"]
        + [f"  {text!r}" for text in missing]
        + [f"{len(obsolete)} id(s) in messages.po that nothing uses any more:"]
        + [f"  {text!r}" for text in obsolete]
    )
    assert not missing and not obsolete, report


def test_translations_keep_their_placeholders():
    """``%(name)s`` and ``{name}`` survive translation; no stray ``%`` (Jinja's
    ``_()`` applies ``%`` formatting to every text it returns)."""
    wrong = []
    for message in english():
        if not message.id or not message.string:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        wanted = Counter(PLACEHOLDER.findall(ids[0]))
        for text in [*ids, *strings]:
            if "%" in PLACEHOLDER.sub("", text).replace("%%", ""):
                wrong.append((ids[0], f"stray % in {text!r}"))
        for string in strings:
            if Counter(PLACEHOLDER.findall(string)) != wanted:
                wrong.append((ids[0], f"placeholders differ in {string!r}"))
    assert not wrong, wrong


@pytest.fixture
def in_english() -> Iterator[None]:
    i18n.use_language("en")
    try:
        yield
    finally:
        i18n.use_language("fr")


def test_code_texts_are_translated_when_shown(in_english: None):
    assert i18n.gettext(messages.LOGIN_FAILED) != messages.LOGIN_FAILED
    assert i18n.gettext("") == ""  # not the catalog's header
    page = environment.from_string("<p>{{ _(error) }}</p>").render(error=messages.THROTTLED)
    assert page == f"<p>{translations()[messages.THROTTLED]}</p>"


def test_a_text_shown_through_gettext_is_still_escaped():
    page = environment.from_string('<p title="{{ _(t) }}">{{ _(t) }}</p>').render(
        t='<img src=x onerror="alert(1)"> & co'
    )
    assert "<img" not in page and 'onerror="' not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; co" in page
