"""``/compte/applications``: application passwords for mail clients (IMAP, SMTP, POP).

With OTP on, mail clients cannot ask for a code, so they sign in with a long random
password of their own, one per device, revocable one by one. It is shown once, in
the answer to the creation form (never in a URL, never stored in clear). Creating
one needs the current password: it would otherwise let an intruder on an open
session keep reading the mail after the session ends.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from academail.core.errors import AcademailError
from academail.identity.second_factor import CreatedAppPassword
from academail.web.account.common import Agent, gate, page
from academail.web.requests import context, platform_of, redirect

__all__ = ["router"]

router = APIRouter()

_PATH = "/compte/applications"


async def _show(
    request: Request,
    agent: Agent,
    errors: list[str],
    status_code: int = 200,
    created: CreatedAppPassword | None = None,
    name: str = "",
) -> Response:
    platform = platform_of(request)
    return page(
        request,
        "account/app_passwords.html",
        "applications",
        status_code,
        errors=errors,
        created=created,
        name=name,
        passwords=await platform.second_factor.app_passwords(agent.account_id),
        status=await platform.second_factor.status(agent.account_id),
    )


@router.get(_PATH)
async def app_passwords_page(request: Request) -> Response:
    agent = gate(request, _PATH)
    if isinstance(agent, Response):
        return agent
    return await _show(request, agent, [])


@router.post(_PATH)
async def create(
    request: Request, nom: str = Form(""), mot_de_passe_actuel: str = Form("")
) -> Response:
    agent = gate(request, _PATH)
    if isinstance(agent, Response):
        return agent
    service = platform_of(request).second_factor
    try:
        await service.reauthenticate(agent.account_id, mot_de_passe_actuel, context(request))
        created = await service.create_app_password(agent.account_id, nom[:200])
    except AcademailError as exc:
        return await _show(request, agent, [exc.message], 422, name=nom[:80])
    return await _show(request, agent, [], created=created)


@router.post(f"{_PATH}/revoquer")
async def revoke(request: Request, reference: str = Form("")) -> Response:
    agent = gate(request, _PATH)
    if isinstance(agent, Response):
        return agent
    await platform_of(request).second_factor.revoke_app_password(agent.account_id, reference)
    return redirect(f"{_PATH}?ok=revoque")
