"""External mail held by capture mode, readable by administrators.

In a demonstration (``web.demo``) or with ``queue.capture``, mail for other
domains is kept in the outbound queue instead of leaving, so that a person trying
academail can read what would have been sent. Only administrators see the page;
elsewhere it does not exist (404), because these messages may carry codes and
links for other people's accounts. Message text is shown as escaped plain text in
a ``<pre>``: a message's HTML is never rendered (the page's CSP forbids scripts
anyway).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from academail.core.clock import to_paris
from academail.web.portal.login import require
from academail.web.requests import platform_of, redirect
from academail.web.templating import render

__all__ = ["PATH", "router"]

router = APIRouter()
PATH = "/console/courriels-retenus"
SHOWN = 100  # queue rows read per page view (newest first)


@router.get(PATH)
async def captured_page(request: Request) -> Response:
    platform = platform_of(request)
    settings = platform.settings
    if not (settings.web.demo or settings.queue.capture):
        return render(request, "console/not_found.html", status_code=404)
    session = require(request, "full")
    if session is None or session.account_id is None:
        return redirect(f"/connexion?next={PATH}")
    record = await platform.credentials.record(session.account_id)
    if record.login not in settings.auth.admin_logins:
        return render(request, "console/not_found.html", status_code=404)
    mails = await platform.queue.captured(SHOWN)
    shown = [(m, to_paris(m.created_at).strftime("%d/%m/%Y %H:%M")) for m in mails]
    return render(request, "console/captured.html", mails=shown)
