"""CAS 3.0 endpoints: /cas/login, /cas/serviceValidate, /cas/p3/serviceValidate, /cas/logout.

Thin HTTP translation over ``identity.sso.CasServer`` (which documents the protocol
choices). Security posture: ``/cas/login`` and ``/cas/logout`` face browsers before
authentication and redirect only to registered services (an unregistered one gets
an error page, never a redirect: CAS 3.0 §2.1.1 and §2.3.1); the validation
endpoints face any network client, are exempt from CSRF (no cookie authority) and
answer XML (§2.5.2, §2.8, ``xmlns:cas="http://www.yale.edu/tp/cas"``).
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from academail.identity.sso import CasResult, add_query
from academail.web.i18n import N_
from academail.web.requests import platform_of, redirect
from academail.web.sso.common import (
    clear_cookie,
    continue_to,
    end_portal_session,
    error_page,
    fresh_signin,
    login_page,
    login_redirect,
    signed_in,
)
from academail.web.templating import render

__all__ = ["render_validation", "router"]

router = APIRouter()

_NS = "http://www.yale.edu/tp/cas"
_UNREGISTERED = N_(
    "Cette application n'est pas enregistrée auprès du portail académique : "
    "la connexion ne peut pas lui être transmise."
)


def _flag(request: Request, name: str) -> bool:
    """CAS 3.0 §2.1.1: a parameter "set" (any value but false) turns the option on."""
    value = request.query_params.get(name)
    return value is not None and value.lower() != "false"


@router.get("/cas/login")
async def login(request: Request) -> Response:
    platform = platform_of(request)
    session = signed_in(request)
    service = request.query_params.get("service")
    if not service:
        return redirect("/applications" if session else "/connexion")
    registered = await platform.sso.registry.service_for(service)
    if registered is None:
        return error_page(request, _UNREGISTERED)
    fresh = await fresh_signin(request, session)
    if session is None:
        if _flag(request, "gateway") and not _flag(request, "renew"):
            return RedirectResponse(service, status_code=303)  # §2.1.1: no ticket, no prompt
        return login_redirect(request)
    if _flag(request, "renew") and not fresh:
        return login_page(request)
    ticket = await platform.sso.cas.issue(service, session, primary=fresh)
    url = add_query(service, [("ticket", ticket)])
    if fresh:
        return continue_to(request, url, registered.name)
    return RedirectResponse(url, status_code=303)


def render_validation(result: CasResult, attributes: bool) -> str:
    """The ``cas:serviceResponse`` document (CAS 3.0 §2.5.2 and §2.8.2)."""
    head = f'<cas:serviceResponse xmlns:cas="{_NS}">'
    if result.failure is not None:
        code = quoteattr(result.failure.value)
        body = f"<cas:authenticationFailure code={code}>{escape(result.message)}"
        return f"{head}{body}</cas:authenticationFailure></cas:serviceResponse>\n"
    parts = [head, "<cas:authenticationSuccess>", f"<cas:user>{escape(result.user)}</cas:user>"]
    if attributes:
        parts.append("<cas:attributes>")
        parts += [f"<cas:{name}>{escape(value)}</cas:{name}>" for name, value in result.attributes]
        parts.append("</cas:attributes>")
    parts.append("</cas:authenticationSuccess></cas:serviceResponse>\n")
    return "".join(parts)


async def _validate(request: Request, attributes: bool) -> Response:
    params = request.query_params
    result = await platform_of(request).sso.cas.validate(
        params.get("service"), params.get("ticket"), _flag(request, "renew")
    )
    body = render_validation(result, attributes)
    return Response(body, media_type="application/xml; charset=utf-8")


@router.get("/cas/serviceValidate")
async def service_validate(request: Request) -> Response:
    return await _validate(request, attributes=False)


@router.get("/cas/p3/serviceValidate")
async def p3_service_validate(request: Request) -> Response:
    return await _validate(request, attributes=True)


@router.get("/cas/logout")
async def logout(request: Request) -> Response:
    """§2.3: ends the single sign-on session; back to ``service`` only if registered."""
    await end_portal_session(request)
    service = request.query_params.get("service")
    if service and await platform_of(request).sso.registry.service_for(service) is not None:
        return clear_cookie(RedirectResponse(service, status_code=303))
    return clear_cookie(render(request, "sso/logged_out.html"))
