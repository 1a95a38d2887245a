"""The page after sign-in: the applications the agent's role opens."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from academail.identity.policy import expiry_state
from academail.web.portal.login import require
from academail.web.requests import platform_of, redirect
from academail.web.templating import render

__all__ = ["applications_for", "router"]

router = APIRouter()


def applications_for(role: str, catalogue: list[dict[str, str]]) -> list[dict[str, str]]:
    out = []
    for app in catalogue:
        roles = {r.strip() for r in app.get("roles", "*").split(",")}
        if "*" in roles or role in roles:
            out.append(app)
    return out


@router.get("/applications")
async def applications(request: Request) -> Response:
    session = require(request, "full")
    if session is None or session.account_id is None:
        return redirect("/connexion?next=/applications")
    platform = platform_of(request)
    record = await platform.credentials.record(session.account_id)
    apps = applications_for(record.role, platform.settings.web.applications)
    expiry = None
    if record.password_changed_at is not None:
        expiry = expiry_state(
            record.password_changed_at, platform.clock.now(), platform.credentials.policy
        )
    return render(request, "portal/applications.html", record=record, apps=apps, expiry=expiry)
