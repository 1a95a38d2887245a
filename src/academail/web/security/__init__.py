"""Cross-cutting web security, as pure ASGI middleware listed once in ``web/app.py``."""

from academail.web.security.csrf import CsrfMiddleware, csrf_token
from academail.web.security.headers import CSP, SecurityHeadersMiddleware
from academail.web.security.session import SESSION_COOKIE, SessionMiddleware, session_cookie

__all__ = [
    "CSP",
    "SESSION_COOKIE",
    "CsrfMiddleware",
    "SecurityHeadersMiddleware",
    "SessionMiddleware",
    "csrf_token",
    "session_cookie",
]
