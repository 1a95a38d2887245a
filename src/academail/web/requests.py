"""Small helpers every page handler uses: who is asking, from where, redirects."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse

from academail.identity.authenticate import AuthContext, Door
from academail.identity.sessions import Session
from academail.web.security.session import session_cookie

if TYPE_CHECKING:  # runtime builds the web app; the web never imports runtime itself
    from academail.runtime import Platform

__all__ = [
    "client_ip",
    "context",
    "platform_of",
    "redirect",
    "safe_next",
    "session_of",
    "user_agent",
]


def platform_of(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def session_of(request: Request) -> Session | None:
    session: Session | None = request.scope.get("state", {}).get("session")
    return session


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "?"


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")[:300]


def context(request: Request, door: Door = Door.PORTAL) -> AuthContext:
    return AuthContext(door, client_ip(request), user_agent(request))


def safe_next(value: str | None, default: str = "/applications") -> str:
    """Only our own paths: ``/x`` yes; ``//evil``, ``https://evil``, ``/\\evil`` or a
    path with blanks or control characters (``/\t/evil``, which browsers clean into
    ``//evil``) no: an open redirect would make our sign-in page a phishing tool."""
    if not value or not value.startswith("/") or len(value) > 2000:
        return default
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c == "\\" for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith("//"):
        return default
    return value


def redirect(url: str, session: Session | None | bool = False) -> RedirectResponse:
    """A 303 to ``url``; with a session (or None to clear), also sets the cookie."""
    response = RedirectResponse(url, status_code=303)
    if session is not False:
        raw = session.raw_id if isinstance(session, Session) else None
        response.headers.append("set-cookie", session_cookie(raw))
    return response
