"""The web application: one visible list of middleware, then the routers.

Order (outermost first), as architecture.md describes: trusted host → security
headers (CSP) → session → CSRF. Rate limits live with the pages that need them
(sign-in throttling is in identity.authenticate, self-service limits per NUMEN and
IP in its service) because their keys are business facts, not transport facts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from academail.core.secretbox import derive_key
from academail.web import account, console, portal, selfservice, sso
from academail.web.requests import redirect, safe_next
from academail.web.security import CsrfMiddleware, SecurityHeadersMiddleware, SessionMiddleware

if TYPE_CHECKING:
    from academail.runtime import Platform

__all__ = ["CSRF_EXEMPT", "create_app"]

_STATIC = Path(__file__).parent / "static"

# Machine-to-machine endpoints: no cookie authority, their own authentication.
CSRF_EXEMPT = (
    "/oidc/token",
    "/oidc/userinfo",
    "/oidc/logout",  # RP-initiated logout may be a cross-site POST; it asks the agent
    "/cas/serviceValidate",
    "/cas/p3/",
    "/cas/proxyValidate",
    "/autodiscover/",  # Outlook's POX autodiscover (both spellings clients use)
    "/Autodiscover/",
)


def create_app(platform: Platform) -> FastAPI:
    settings = platform.settings
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=settings.web.allowed_hosts),
        Middleware(SecurityHeadersMiddleware),
        Middleware(SessionMiddleware, sessions=platform.sessions),
        Middleware(
            CsrfMiddleware, key=derive_key(platform.keys.session, "csrf"), exempt_paths=CSRF_EXEMPT
        ),
    ]
    app = FastAPI(
        title="academail",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        middleware=middleware,
    )
    app.state.platform = platform
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")
    app.include_router(portal.router)
    app.include_router(selfservice.router)
    app.include_router(account.router)
    app.include_router(sso.router)
    app.include_router(console.router)

    @app.get("/langue/{lang}")
    async def language(request: Request, lang: str, next: str = "/") -> Response:  # noqa: A002
        response = redirect(safe_next(next, "/"))
        if lang in ("fr", "en"):
            response.set_cookie("lang", lang, max_age=365 * 86400, secure=True, samesite="lax")
        return response

    return app
