"""Loads the visitor's server-side session and language into the request scope.

Pure ASGI (style.md §9). The cookie ``__Host-academail`` holds a random id; the
session itself (account, stage, expiry) is in the database, so it can be revoked
from "My account" on any device and any node.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from academail.identity.sessions import SessionService
from academail.web import i18n
from academail.web.security.csrf import _cookie

__all__ = ["SESSION_COOKIE", "SessionMiddleware", "session_cookie"]

SESSION_COOKIE = "__Host-academail"


def session_cookie(raw: str | None) -> str:
    """The Set-Cookie value that installs (or, with None, clears) a session."""
    if raw is None:
        return f"{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"
    return f"{SESSION_COOKIE}={raw}; Path=/; Secure; HttpOnly; SameSite=Lax"


class SessionMiddleware:
    def __init__(self, app: ASGIApp, sessions: SessionService) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        state = scope.setdefault("state", {})
        raw = _cookie(headers, SESSION_COOKIE)
        state["session"] = await self.sessions.load(raw) if raw and len(raw) < 100 else None
        lang = i18n.pick_language(_cookie(headers, "lang"), headers.get("accept-language"))
        i18n.use_language(lang)
        await self.app(scope, receive, send)
