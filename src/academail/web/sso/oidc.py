"""OpenID Connect endpoints: discovery, JWKS, authorize, token, userinfo, logout.

Thin HTTP translation over ``identity.sso.OidcProvider`` (which documents the
standards and decisions). Security posture: ``/oidc/authorize`` and
``/oidc/logout`` face browsers before authentication and never redirect to a URI
that is not registered exactly for the client: such requests get an error page
(RFC 6749 §4.1.2.1). ``/oidc/token`` and ``/oidc/userinfo`` are machine endpoints,
exempt from CSRF, authenticated by client credentials or a bearer token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from academail.identity.sso import Decision, LogoutDecision
from academail.web.requests import platform_of
from academail.web.sso.common import (
    call_of,
    clear_cookie,
    continue_to,
    end_portal_session,
    error_page,
    fresh_signin,
    login_page,
    login_redirect,
    reply_of,
    signed_in,
)
from academail.web.templating import render

__all__ = ["router"]

router = APIRouter()

_PUBLIC = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}


@router.get("/.well-known/openid-configuration")
async def discovery(request: Request) -> Response:
    return JSONResponse(platform_of(request).sso.oidc.discovery(), headers=_PUBLIC)


@router.get("/oidc/jwks")
async def jwks(request: Request) -> Response:
    return JSONResponse(platform_of(request).sso.oidc.jwks(), headers=_PUBLIC)


@router.get("/oidc/authorize")
async def authorize(request: Request) -> Response:
    platform = platform_of(request)
    session = signed_in(request)
    fresh = await fresh_signin(request, session)
    decision = await platform.sso.oidc.authorize(await call_of(request), session, fresh)
    if decision.decision is Decision.ERROR_PAGE:
        return error_page(request, decision.message, decision.detail)
    if decision.decision is Decision.LOGIN:
        return login_page(request) if decision.force else login_redirect(request)
    if fresh:
        client = await platform.sso.registry.client(request.query_params.get("client_id", ""))
        return continue_to(request, decision.url, client.name if client else "")
    return RedirectResponse(decision.url, status_code=302)


@router.post("/oidc/token")
async def token(request: Request) -> Response:
    return reply_of(await platform_of(request).sso.oidc.token(await call_of(request)))


@router.api_route("/oidc/userinfo", methods=["GET", "POST"])
async def userinfo(request: Request) -> Response:
    return reply_of(await platform_of(request).sso.oidc.userinfo(await call_of(request)))


@router.api_route("/oidc/logout", methods=["GET", "POST"])
async def logout(request: Request) -> Response:
    """RP-Initiated Logout 1.0: GET or POST from the application (exempt from CSRF:
    it never ends a session without a valid hint or the agent's confirmation)."""
    session = signed_in(request)
    call = await call_of(request)
    decision = await platform_of(request).sso.oidc.end_session(call, session)
    if decision.error:
        return error_page(request, decision.error)
    if decision.confirm:
        fields = {
            "client_id": decision.client_id,
            "post_logout_redirect_uri": call.param("post_logout_redirect_uri") or "",
            "state": call.param("state") or "",
        }
        return render(request, "sso/logout_confirm.html", decision=decision, fields=fields)
    return await _finish(request, decision)


@router.post("/oidc/fin-de-session")
async def logout_confirmed(request: Request) -> Response:
    """The agent confirmed on our own page (a CSRF-protected form)."""
    decision = await platform_of(request).sso.oidc.end_session(await call_of(request), None)
    if decision.error:
        return error_page(request, decision.error)
    return await _finish(request, decision)


async def _finish(request: Request, decision: LogoutDecision) -> Response:
    await end_portal_session(request)
    if decision.redirect:
        return clear_cookie(RedirectResponse(decision.redirect, status_code=303))
    return clear_cookie(render(request, "sso/logged_out.html"))
