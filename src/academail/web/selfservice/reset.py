"""« Mot de passe oublié »: a single-use link to the verified recovery address.

Security posture: anonymous. The request page answers
:data:`identity.messages.RESET_SENT` with the same status and body whatever the
identifier (the service equalises the work behind it). Opening the link changes
nothing but this browser's grant: it moves the token out of the address bar into
a short ``recovery`` session and redirects, so the token does not stay in the
history nor reach the live policy check; the link is used up only when the new
password is accepted (identity.recovery.finish_reset, race-safe).
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from academail.identity import messages
from academail.identity.recovery import Outcome, ResetGrant
from academail.web.requests import client_ip, platform_of
from academail.web.selfservice.choose import password_page, submit_password
from academail.web.selfservice.common import grant, start_grant
from academail.web.templating import render

__all__ = ["router"]

router = APIRouter()

_ASK = "/assistance/mot-de-passe-oublie"
_LINK = "/assistance/reinitialiser"


@router.get(_ASK)
async def ask_page(request: Request) -> Response:
    return render(request, "selfservice/reset_request.html", notice="", error="")


@router.post(_ASK)
async def ask(request: Request, identifiant: str = Form("")) -> Response:
    outcome = await platform_of(request).recovery.request_reset(
        identifiant[:254], client_ip(request)
    )
    if outcome is Outcome.THROTTLED:
        return render(
            request,
            "selfservice/reset_request.html",
            status_code=429,
            notice="",
            error=messages.THROTTLED,
        )
    return render(request, "selfservice/reset_request.html", notice=messages.RESET_SENT, error="")


def _gone(request: Request) -> Response:
    return render(request, "selfservice/link_invalid.html", status_code=410, kind="reset")


@router.get(_LINK)
async def open_link(request: Request, jeton: str = "") -> Response:
    if not jeton:
        session = grant(request, "recovery", "reset")
        return _gone(request) if session is None else await password_page(request, session, _LINK)
    found = await platform_of(request).recovery.reset_grant(jeton)
    if found is None:
        return _gone(request)
    data = {"via": "reset", "token": found.token_hash}
    return await start_grant(request, found.account_id, "recovery", data, _LINK)


@router.post(_LINK)
async def choose(
    request: Request,
    mot_de_passe: str = Form(""),
    confirmation: str = Form(""),
    code: str = Form(""),
) -> Response:
    session = grant(request, "recovery", "reset")
    if session is None or session.account_id is None:
        return _gone(request)
    link = ResetGrant(str(session.data.get("token", "")), session.account_id)
    recovery = platform_of(request).recovery
    ip = client_ip(request)

    async def finish(password: str) -> bool:
        return await recovery.finish_reset(link, password, ip)

    answer = await submit_password(
        request, session, _LINK, (mot_de_passe, confirmation, code), finish
    )
    return answer or _gone(request)
