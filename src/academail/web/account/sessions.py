"""``/compte/sessions``: open web sessions, each revocable, and "I lost my phone".

A session is named by the SHA-256 of its cookie value (what the table keeps): the
page can show and revoke it without ever handling a usable session id. Revoking the
current session signs the visitor out. "I lost my phone" revokes every other session
and every application password at once, then leads to the password change.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from academail.web.account.common import gate, page
from academail.web.requests import context, platform_of, redirect

__all__ = ["router"]

router = APIRouter()

_PATH = "/compte/sessions"


@router.get(_PATH)
async def sessions_page(request: Request) -> Response:
    agent = gate(request, _PATH)
    if isinstance(agent, Response):
        return agent
    service = platform_of(request).second_factor
    return page(
        request,
        "account/sessions.html",
        "sessions",
        sessions=await service.web_sessions(agent.account_id),
        current=agent.session.id_hash,
        status=await service.status(agent.account_id),
    )


@router.post(f"{_PATH}/revoquer")
async def revoke(request: Request, session: str = Form("")) -> Response:
    agent = gate(request, _PATH)
    if isinstance(agent, Response):
        return agent
    await platform_of(request).second_factor.revoke_session(agent.account_id, session)
    if session == agent.session.id_hash:
        return redirect("/connexion", None)
    return redirect(f"{_PATH}?ok=session")


@router.post(f"{_PATH}/autres")
async def revoke_others(request: Request) -> Response:
    agent = gate(request, _PATH)
    if isinstance(agent, Response):
        return agent
    await platform_of(request).second_factor.revoke_other_sessions(
        agent.account_id, agent.session.id_hash, "agent"
    )
    return redirect(f"{_PATH}?ok=sessions")


@router.post("/compte/appareil-perdu")
async def lost_device(request: Request) -> Response:
    agent = gate(request, _PATH)
    if isinstance(agent, Response):
        return agent
    await platform_of(request).second_factor.lost_device(
        agent.account_id, agent.session.id_hash, context(request)
    )
    return redirect("/compte/mot-de-passe?ok=perdu")
