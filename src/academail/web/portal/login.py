"""Sign-in pages: identifier + password, then the TOTP step, then where the outcome leads.

Security posture: before authentication. Every failure renders the same page with
the same message (identity.messages.LOGIN_FAILED); the session id changes at each
step (no fixation); ``next`` only ever leads to one of our own paths.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from academail.identity import messages
from academail.identity.authenticate import Outcome
from academail.identity.sessions import Session
from academail.web.i18n import N_
from academail.web.requests import (
    client_ip,
    context,
    platform_of,
    redirect,
    safe_next,
    session_of,
    user_agent,
)
from academail.web.templating import render

__all__ = ["after_password", "router"]

router = APIRouter()
_OTP_TRIES = 5

_WRONG_CODE = N_("Code incorrect ou déjà utilisé.")


@router.get("/")
async def home(request: Request) -> Response:
    session = session_of(request)
    return redirect("/applications" if session and session.signed_in else "/connexion")


@router.get("/connexion")
async def login_page(request: Request, next: str | None = None) -> Response:  # noqa: A002
    session = session_of(request)
    if session and session.signed_in:
        return redirect(safe_next(next))
    if session and session.stage == "enrol_otp":  # a role that must enrol: nothing else first
        return redirect("/compte/otp")
    return render(request, "portal/login.html", next=safe_next(next), error="", identifier="")


@router.post("/connexion")
async def login(
    request: Request,
    identifiant: str = Form(""),
    mot_de_passe: str = Form(""),
    next: str = Form("/applications"),  # noqa: A002
) -> Response:
    platform = platform_of(request)
    result = await platform.authenticator.authenticate(
        identifiant[:254], mot_de_passe[:1024], context(request)
    )
    if result.outcome in (Outcome.FAILED, Outcome.THROTTLED):
        return render(
            request,
            "portal/login.html",
            status_code=200,
            next=safe_next(next),
            error=result.message,
            identifier=identifiant[:254],
        )
    if result.outcome is Outcome.TEMP_EXPIRED:
        return render(request, "portal/temp_expired.html")
    assert result.account_id is not None  # noqa: S101 - every non-failure names its account
    return await after_password(
        request, result.account_id, result.outcome, safe_next(next), then=result.then
    )


async def after_password(
    request: Request,
    account_id: str,
    outcome: Outcome,
    next_url: str,
    *,
    then: Outcome | None = None,
    data: dict[str, Any] | None = None,
) -> Response:
    """Where a right password leads: OTP, activation, renewal, enrolment or home.

    With OTP, ``then`` is where the right code leads (activation or renewal come
    only after the second factor: nothing the password opens skips it).
    """
    platform = platform_of(request)
    ip, agent = client_ip(request), user_agent(request)
    old = session_of(request)
    if old is not None:
        await platform.sessions.end(old)
    stage_of = {
        Outcome.NEED_OTP: ("otp", "/connexion/otp"),
        Outcome.MUST_ACTIVATE: ("activation", "/activation"),
        Outcome.PASSWORD_EXPIRED: ("expired", "/mot-de-passe/renouveler"),
    }
    stage, url = stage_of.get(outcome, ("full", next_url))
    if stage == "full" and await _must_enrol(request, account_id):
        stage, url = "enrol_otp", "/compte/otp"
    values: dict[str, Any] = {"next": next_url, **(data or {})}
    if then is not None:
        values["then"] = then.value
    session = await platform.sessions.start(account_id, stage, ip, agent, values)
    return redirect(url, session)


async def _must_enrol(request: Request, account_id: str) -> bool:
    platform = platform_of(request)
    record = await platform.credentials.record(account_id)
    auth = platform.settings.auth
    required = record.role in auth.otp_required_roles or record.login in auth.admin_logins
    return required and not record.has_otp


@router.get("/connexion/otp")
async def otp_page(request: Request) -> Response:
    session = session_of(request)
    if session is None or session.stage != "otp":
        return redirect("/connexion")
    return render(request, "portal/otp.html", error="")


@router.post("/connexion/otp")
async def otp_check(request: Request, code: str = Form("")) -> Response:
    session = session_of(request)
    if session is None or session.stage != "otp" or session.account_id is None:
        return redirect("/connexion")
    platform = platform_of(request)
    if await platform.authenticator.verify_second_factor(
        session.account_id, code[:40], context(request)
    ):
        next_url = safe_next(session.data.get("next"))
        then = Outcome(session.data.get("then", Outcome.OK.value))
        # amr (RFC 8176) for the ID tokens of single sign-on; next for its hand-off.
        return await after_password(
            request, session.account_id, then, next_url, data={"amr": ["pwd", "otp"]}
        )
    tries = int(session.data.get("otp_tries", 0)) + 1
    if tries >= _OTP_TRIES:  # a session is not a brute-force budget: start again
        await platform.sessions.end(session)
        return redirect("/connexion", None)
    await platform.sessions.set_data(session, {**session.data, "otp_tries": tries})
    return render(request, "portal/otp.html", error=_WRONG_CODE)


@router.post("/deconnexion")
async def logout(request: Request) -> Response:
    session = session_of(request)
    if session is not None:
        await platform_of(request).sessions.end(session)
        await platform_of(request).sso.signed_out(session)  # single logout (tokens, SLO)
    return redirect("/connexion", None)


def require(request: Request, *stages: str) -> Session | None:
    """The session if it is at one of ``stages``; None otherwise (caller redirects)."""
    session = session_of(request)
    if session is None or session.account_id is None or session.stage not in (stages or ("full",)):
        return None
    return session


_ = messages
