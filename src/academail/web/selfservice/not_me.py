"""« Ce n'était pas moi »: the link of the lockout mail (``/pas-moi?jeton=…``).

Opening the link (GET) only shows a confirmation button: mail scanners and link
previews fetch links, and must not suspend accounts. The POST uses the link once,
suspends the account, ends its sessions and alerts support (identity.recovery),
then tells the agent what happens next.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from academail.web.requests import client_ip, platform_of
from academail.web.templating import render

__all__ = ["router"]

router = APIRouter()


def _gone(request: Request) -> Response:
    return render(request, "selfservice/link_invalid.html", status_code=410, kind="not_me")


@router.get("/pas-moi")
async def confirm_page(request: Request, jeton: str = "") -> Response:
    if not jeton or not await platform_of(request).recovery.not_me_valid(jeton):
        return _gone(request)
    return render(request, "selfservice/not_me.html", jeton=jeton[:128])


@router.post("/pas-moi")
async def confirm(request: Request, jeton: str = Form("")) -> Response:
    if not jeton or not await platform_of(request).recovery.not_me(jeton, client_ip(request)):
        return _gone(request)
    return render(request, "selfservice/not_me_done.html")
