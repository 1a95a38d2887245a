"""What the OIDC and CAS pages share: HTTP translation, sign-in hand-offs, logout.

A *fresh sign-in* is the request that a portal sign-in (password, then OTP if any)
was made for: the session was created for exactly this URL (its ``next``) a moment
ago and has not been used for it yet. It serves two purposes:

* ``renew=true`` (CAS) and ``prompt=login`` / ``max_age`` (OIDC) are satisfied only
  by a fresh sign-in, never by the existing session;
* after a fresh sign-in the hand-off to the application is an intermediate page
  rather than a redirect: the browser got here through a form POST, and browsers
  apply the CSP ``form-action 'self'`` of the login page to every redirect that
  follows the submission, so a redirect to another site would be blocked.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from academail.identity.sessions import Session
from academail.identity.sso import HttpCall, HttpReply
from academail.web.requests import platform_of, session_of
from academail.web.security.session import session_cookie
from academail.web.templating import render

__all__ = [
    "call_of",
    "clear_cookie",
    "continue_to",
    "end_portal_session",
    "error_page",
    "fresh_signin",
    "login_page",
    "login_redirect",
    "reply_of",
    "signed_in",
    "target_of",
]

_FRESH = dt.timedelta(minutes=5)


def target_of(request: Request) -> str:
    """This request's path and query, as a ``next`` for the sign-in page."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def signed_in(request: Request) -> Session | None:
    session = session_of(request)
    return session if session is not None and session.signed_in else None


async def call_of(request: Request) -> HttpCall:
    """The request as the protocols see it; the URI is rebuilt from the issuer."""
    form: dict[str, list[str]] = {}
    if request.method == "POST":
        data = await request.form()
        form = {k: [v for v in data.getlist(k) if isinstance(v, str)] for k in data}
    params = request.query_params
    return HttpCall(
        method=request.method,
        uri=platform_of(request).sso.issuer + target_of(request),
        args={k: params.getlist(k) for k in params},
        form=form,
        headers={k.lower(): v for k, v in request.headers.items()},
    )


def reply_of(reply: HttpReply) -> Response:
    response = Response(reply.body, status_code=reply.status)
    for name, value in reply.headers:
        response.headers[name] = value
    return response


async def fresh_signin(request: Request, session: Session | None) -> bool:
    """True once for the request a sign-in was made for (see the module docstring)."""
    if session is None or not session.signed_in:
        return False
    data = session.data
    if data.get("next") != target_of(request) or data.get("sso_landed"):
        return False
    platform = platform_of(request)
    if platform.clock.now() - session.created_at > _FRESH:
        return False
    await platform.sessions.set_data(session, {**data, "sso_landed": True})
    return True


def login_redirect(request: Request) -> Response:
    return RedirectResponse(f"/connexion?next={quote(target_of(request), safe='')}", 303)


def login_page(request: Request) -> Response:
    """The sign-in form even with a session: a fresh password entry was asked for."""
    return render(request, "portal/login.html", next=target_of(request), error="", identifier="")


def continue_to(request: Request, url: str, application: str) -> Response:
    return render(request, "sso/continue.html", url=url, application=application)


def error_page(request: Request, message: str, detail: str = "") -> Response:
    """A refusal shown to the agent (status 400), never a redirect."""
    return render(request, "sso/error.html", status_code=400, message=message, detail=detail)


async def end_portal_session(request: Request) -> None:
    """Ends the visitor's portal session and tells the applications it signed in."""
    session = session_of(request)
    if session is None:
        return
    platform = platform_of(request)
    await platform.sessions.end(session)
    request.scope["state"]["session"] = None
    await platform.sso.signed_out(session)


def clear_cookie(response: Response) -> Response:
    response.headers.append("set-cookie", session_cookie(None))
    return response
