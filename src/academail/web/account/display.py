"""How "My account" shows stored facts to the agent: Paris time, masked recovery
data, readable browsers and protocols (in the visitor's language).

Recovery data is masked even for its owner: the page may be seen over a shoulder or
from a session left open, and the full address would tell a phisher where to aim.
"""

from __future__ import annotations

import datetime as dt

from academail.core.clock import to_paris
from academail.web.i18n import N_, gettext

__all__ = ["describe_user_agent", "door_label", "mask_email", "mask_mobile", "when"]

_DOTS = "•••"

_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
_DOORS = {
    "imap": N_("IMAP (lecture du courrier par un logiciel ou un téléphone)"),
    "smtp": N_("SMTP (envoi du courrier par un logiciel ou un téléphone)"),
    "pop3": N_("POP3 (relève du courrier)"),
    "sieve": N_("ManageSieve (filtres)"),
    "portal": N_("Portail (navigateur)"),
    "webmail": N_("Webmail (navigateur)"),
    "sso": N_("Connexion unique à une application"),
}


def when(moment: dt.datetime | None) -> str:
    """``01/09/2026 10:00`` in Europe/Paris; a dash when there is no date."""
    if moment is None:
        return "—"
    return to_paris(moment).strftime("%d/%m/%Y %H:%M")


def mask_email(address: str | None) -> str:
    """``j•••@example.org``."""
    if not address or "@" not in address:
        return ""
    local, domain = address.rsplit("@", 1)
    return f"{local[:1]}{_DOTS}@{domain}"


def mask_mobile(number: str | None) -> str:
    """``+33 6 •• •• •• 78`` for a French mobile stored as ``+33612345678``."""
    if not number:
        return ""
    if number.startswith("+33") and len(number) == 12:
        return f"+33 {number[3]} •• •• •• {number[-2:]}"
    return f"{_DOTS} {number[-2:]}"


def describe_user_agent(agent: str) -> str:
    """``Firefox · Windows`` from a User-Agent header; the raw text when unknown."""
    browser = next((name for mark, name in _BROWSERS if mark in agent), "")
    system = next((name for mark, name in _SYSTEMS if mark in agent), "")
    if browser or system:
        return " · ".join(part for part in (browser, system) if part)
    return agent[:80] or gettext("Navigateur non identifié")


def door_label(protocol: str) -> str:
    """The protocol in words, in the visitor's language; unknown ones as they are."""
    label = _DOORS.get(protocol)
    return gettext(label) if label else protocol
