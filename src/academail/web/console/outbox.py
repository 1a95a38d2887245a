"""The notification outbox, readable by administrators in demo mode only.

In a demo there is no mail server yet: activation codes, lockout notices and reset
links are kept in the outbox so that a person trying academail can read them. In
production the page does not exist (404), because these messages carry live codes
and links for other people's accounts.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from academail.web.portal.login import require
from academail.web.requests import platform_of, redirect
from academail.web.templating import render

__all__ = ["router"]

router = APIRouter()


@router.get("/console/courriers")
async def outbox_page(request: Request) -> Response:
    platform = platform_of(request)
    if not platform.settings.web.demo:
        return render(request, "console/not_found.html", status_code=404)
    session = require(request, "full")
    if session is None or session.account_id is None:
        return redirect("/connexion?next=/console/courriers")
    record = await platform.credentials.record(session.account_id)
    if record.login not in platform.settings.auth.admin_logins:
        return render(request, "console/not_found.html", status_code=404)
    messages = await platform.notifier.latest(100)
    return render(request, "console/outbox.html", messages=messages)
