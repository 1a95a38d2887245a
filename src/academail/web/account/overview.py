"""``/compte``: who the agent is, how the account is protected, and the devices that
keep failing — the phone still holding the old password, the commonest cause of
lockouts (issue 3), named with its protocol, client, address and last attempt.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from academail.web.account.common import gate, page
from academail.web.requests import platform_of, redirect

__all__ = ["router"]

router = APIRouter()


@router.get("/compte")
async def overview(request: Request) -> Response:
    agent = gate(request, "/compte")
    if isinstance(agent, Response):
        return agent
    platform = platform_of(request)
    record = await platform.credentials.record(agent.account_id)
    view = await platform.accounts.show(record.login)
    devices = await platform.second_factor.devices(agent.account_id)
    return page(
        request,
        "account/overview.html",
        "compte",
        record=record,
        aliases=view.record.aliases,
        status=await platform.second_factor.status(agent.account_id),
        sessions=await platform.second_factor.web_sessions(agent.account_id),
        failing=[d for d in devices if d.problem],
        devices=devices,
    )


@router.post("/compte/appareils/oublier")
async def forget_device(request: Request, appareil: str = Form("")) -> Response:
    """Takes a device off the list (after fixing or removing it)."""
    agent = gate(request, "/compte")
    if isinstance(agent, Response):
        return agent
    await platform_of(request).second_factor.forget_device(agent.account_id, appareil)
    return redirect("/compte?ok=appareil")
