"""What the self-service pages share: the identification form, grants, error mapping.

A *grant* is a short web session opened once a visitor has proved something (NUMEN
and date of birth, or a reset link): stage ``recovery`` (may choose a password,
and ask the live policy hints of ``/mot-de-passe/verifier``) or ``settings`` (may
read their mail settings). It lives ``auth.self_service_grant_minutes`` and dies
with the next password change (sessions follow the credential generation).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from academail.core.errors import AcademailError, ErrorCode
from academail.identity.policy import rules_for_display
from academail.identity.recovery import Identified, Outcome
from academail.identity.sessions import Session
from academail.web.i18n import N_
from academail.web.requests import client_ip, platform_of, redirect, session_of, user_agent
from academail.web.templating import render

__all__ = [
    "identify_then_grant",
    "IDENTIFY_FIELDS",
    "grant",
    "identify_page",
    "identify_result",
    "password_rules",
    "start_grant",
    "status_of",
]

IDENTIFY_FIELDS = ("numen", "naissance", "captcha", "captcha_id")
_STATUS = {ErrorCode.NOT_FOUND: 404, ErrorCode.LIMIT: 429, ErrorCode.INVALID: 422}


def status_of(error: AcademailError) -> int:
    """The one mapping of domain errors to HTTP statuses for these pages."""
    return _STATUS.get(error.code, 400)


async def identify_page(
    request: Request, purpose: str, error: str = "", status_code: int = 200
) -> Response:
    """The NUMEN + date of birth + captcha form, always with a fresh challenge.

    Nothing typed is echoed back (NUMEN and birth date are secrets), so a failure
    page is the same whatever was wrong.
    """
    challenge = await platform_of(request).recovery.new_captcha()
    titles = {
        "password": N_("Je ne connais pas mon identifiant ou mon mot de passe"),
        "settings": N_("Mes paramètres de messagerie"),
    }
    actions = {"password": "/assistance/identifiants", "settings": "/assistance/parametres"}
    return render(
        request,
        "selfservice/identify.html",
        status_code=status_code,
        title=titles[purpose],
        purpose=purpose,
        action=actions[purpose],
        challenge=challenge,
        error=error,
    )


async def identify_result(request: Request, purpose: str, result: Identified) -> Response | None:
    """The failure page for ``result``, or None when the visitor is identified."""
    if result.outcome is Outcome.OK:
        return None
    status = 429 if result.outcome is Outcome.THROTTLED else 200
    return await identify_page(request, purpose, result.message, status)


async def start_grant(
    request: Request, account_id: str, stage: str, data: dict[str, Any], url: str
) -> Response:
    """Ends any session of this browser, opens the grant, and goes to ``url``."""
    platform = platform_of(request)
    old = session_of(request)
    if old is not None:
        await platform.sessions.end(old)
    session = await platform.sessions.start(
        account_id, stage, client_ip(request), user_agent(request), data
    )
    return redirect(url, session)


async def identify_then_grant(
    request: Request, form: dict[str, str], purpose: str, stage: str, page: str, url: str
) -> Response:
    """NUMEN + date + captcha → the failure page, or a ``stage`` grant opening ``url``."""
    result = await platform_of(request).recovery.identify(
        form["numen"],
        form["naissance"],
        form["captcha_id"],
        form["captcha"],
        client_ip(request),
        purpose,
    )
    failed = await identify_result(request, purpose, result)
    if failed is not None or result.account_id is None:
        return failed or redirect(page)
    return await start_grant(request, result.account_id, stage, {"via": "numen"}, url)


def grant(request: Request, stage: str, via: str | None = None) -> Session | None:
    """The visitor's live grant of ``stage`` (and ``via``), or None."""
    session = session_of(request)
    if session is None or session.account_id is None or session.stage != stage:
        return None
    if via is not None and session.data.get("via") != via:
        return None
    if not platform_of(request).recovery.grant_valid(session.created_at):
        return None
    return session


def password_rules(request: Request) -> list[str]:
    policy = platform_of(request).credentials.policy
    return [message for _code, message in rules_for_display(policy)]
