"""What every "My account" page shares: who may see it, how it is rendered.

Security posture: after authentication. A session at stage ``full`` sees the pages;
a session at stage ``enrol_otp`` (a role that must have a second factor and has
none yet) is sent to the enrolment page whatever it asks for; anybody else goes to
the sign-in page, which brings them back here afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from academail.identity.sessions import Session
from academail.web.account import display
from academail.web.i18n import N_
from academail.web.portal.login import require
from academail.web.requests import redirect, session_of
from academail.web.templating import render

__all__ = ["ENROL_PATH", "NOTICES", "Agent", "gate", "page"]

ENROL_PATH = "/compte/otp"

# Messages after a redirect, chosen by key (``?ok=…``): the URL never carries text.
NOTICES = {
    "mot-de-passe": N_("Votre mot de passe a été changé. Vos autres sessions ont été fermées."),
    "secours": N_("Vos coordonnées de secours sont vérifiées."),
    "codes-envoyes": N_("Un code de confirmation vient d'être envoyé à chaque coordonnée."),
    "otp-off": N_("La double authentification est désactivée."),
    "revoque": N_("Le mot de passe d'application est révoqué : il ne fonctionne plus."),
    "session": N_("La session est fermée."),
    "sessions": N_("Toutes vos autres sessions sont fermées."),
    "appareil": N_("L'appareil a été retiré de la liste."),
    "perdu": N_(
        "Vos autres sessions et tous vos mots de passe d'application sont révoqués. "
        "Changez maintenant votre mot de passe si l'appareil perdu le connaissait."
    ),
}


@dataclass(frozen=True)
class Agent:
    """The signed-in visitor of an account page."""

    session: Session
    account_id: str


def gate(request: Request, here: str, *stages: str) -> Agent | Response:
    """The signed-in agent (at ``stages``, default ``full``), or the redirect they need."""
    current = session_of(request)
    wanted = stages or ("full",)
    if current is not None and current.stage == "enrol_otp" and "enrol_otp" not in wanted:
        return redirect(ENROL_PATH)
    session = require(request, *wanted)
    if session is None or session.account_id is None:
        return redirect(f"/connexion?next={here}")
    return Agent(session, session.account_id)


def page(
    request: Request, template: str, section: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Renders an account page with its sub-navigation and display helpers."""
    notice = NOTICES.get(request.query_params.get("ok", ""), "")
    context.setdefault("errors", [])
    return render(
        request,
        template,
        status_code=status_code,
        section=section,
        notice=notice,
        when=display.when,
        mask_email=display.mask_email,
        mask_mobile=display.mask_mobile,
        browser=display.describe_user_agent,
        door=display.door_label,
        **context,
    )
