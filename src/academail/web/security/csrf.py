"""CSRF protection for every state-changing request (pure ASGI middleware).

Two independent checks, both required for POST, PUT, PATCH and DELETE:

1. **Origin**: the ``Origin`` header (or, failing it, ``Sec-Fetch-Site``) must say
   the request comes from our own site. Browsers set these and pages cannot forge
   them. The whole origin is compared (RFC 6454 §5: scheme, host and port) with the
   request's own scheme (``scope["scheme"]``, from the proxy's header only when its
   address is trusted) and ``Host``: a page served over plain ``http://`` on the
   same host name (an attacker on the network can inject one) is another origin,
   and is refused on our https site. ``null`` and malformed origins are refused.
2. **Signed double submit**: a random ``__Host-csrf`` cookie, and in the form a
   field ``csrf`` equal to HMAC(key, cookie). A third-party page can neither read
   the cookie nor compute the HMAC. It is stateless, so anonymous forms (login,
   self-service) are protected without a session row per visitor.

Form bodies are read here (bounded by ``max_body``) and replayed to the endpoint.
Endpoints that machines call (OIDC token, CAS validation) are listed in
``exempt_paths``: they carry no cookie authority and authenticate otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from academail.web.i18n import N_, gettext

__all__ = ["CSRF_COOKIE", "CsrfMiddleware", "csrf_token", "same_origin"]

CSRF_COOKIE = "__Host-csrf"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Shown in the visitor's language: the session middleware, outside this one, set it.
_REFUSED = N_(
    "Requête refusée : le formulaire a expiré ou ne vient pas de ce site. "
    "Rechargez la page et recommencez."
)


def csrf_token(key: bytes, cookie_value: str) -> str:
    return hmac.new(key, cookie_value.encode("ascii", "replace"), hashlib.sha256).hexdigest()


def _origin(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of a serialised origin (RFC 6454 §6.2), None if it is
    not one: ``null``, another scheme, user info, a path, a query."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def same_origin(origin: str, scheme: str, host: str) -> bool:
    """Whether the ``Origin`` header names this request's own scheme, host and port."""
    theirs = _origin(origin)
    return theirs is not None and theirs == _origin(f"{scheme}://{host}")


def _cookie(headers: Headers, name: str) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # noqa: BLE001 - a broken cookie header is just no cookie
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


class CsrfMiddleware:
    def __init__(
        self, app: ASGIApp, key: bytes, exempt_paths: Iterable[str] = (), max_body: int = 1_000_000
    ) -> None:
        self.app = app
        self.key = key
        self.exempt = tuple(exempt_paths)
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookie = _cookie(headers, CSRF_COOKIE)
        fresh = None
        if cookie is None or len(cookie) < 32:
            fresh = cookie = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_token"] = csrf_token(self.key, cookie)
        path = scope.get("path", "")
        if scope["method"] in _UNSAFE and not path.startswith(self.exempt):
            body = await self._read(receive)
            if body is None or fresh is not None or not self._valid(scope, headers, body, cookie):
                await PlainTextResponse(gettext(_REFUSED), status_code=403)(scope, receive, send)
                return
            receive = _replay(body)
        await self.app(scope, receive, self._with_cookie(send, fresh))

    def _valid(self, scope: Scope, headers: Headers, body: bytes, cookie: str) -> bool:
        origin = headers.get("origin")
        if origin is not None:
            if not same_origin(origin, scope.get("scheme", ""), headers.get("host", "")):
                return False
        elif headers.get("sec-fetch-site", "same-origin") not in {"same-origin", "none"}:
            return False
        content_type = headers.get("content-type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            fields = parse_qs(body.decode("latin-1"), keep_blank_values=True)
            given = fields.get("csrf", [""])[0]
        elif content_type.startswith("multipart/form-data"):
            given = _multipart_field(body, content_type, "csrf")
        else:
            given = headers.get("x-csrf-token", "")
        return hmac.compare_digest(given.encode(), csrf_token(self.key, cookie).encode())

    async def _read(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    @staticmethod
    def _with_cookie(send: Send, fresh: str | None) -> Send:
        if fresh is None:
            return send

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(
                    "set-cookie",
                    f"{CSRF_COOKIE}={fresh}; Path=/; Secure; HttpOnly; SameSite=Lax",
                )
            await send(message)

        return wrapped


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def _multipart_field(body: bytes, content_type: str, name: str) -> str:
    marker = f'name="{name}"'.encode()
    index = body.find(marker)
    if index < 0:
        return ""
    start = body.find(b"\r\n\r\n", index)
    end = body.find(b"\r\n", start + 4)
    if start < 0 or end < 0:
        return ""
    return body[start + 4 : end].decode("ascii", "replace")
