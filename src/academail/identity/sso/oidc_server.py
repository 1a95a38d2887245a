"""Authlib's OAuth 2.0 / OpenID Connect server core, wired to preloaded data.

Decision (see also ``oidc.py``): we use Authlib's framework-agnostic
``AuthorizationServer`` with ``AuthorizationCodeGrant``, ``OpenIDCode`` and a
``CodeChallenge`` that accepts S256 only, rather than writing the grant by hand.
Authlib implements the parts that are easy to get subtly wrong: parameter
validation and error redirection rules (RFC 6749 §4.1.2.1: never redirect to an
unvalidated URI), client authentication (``client_secret_basic``,
``client_secret_post``, ``none``), PKCE verification (RFC 7636 §4.6), scope and
prompt handling, and the ID token with ``at_hash`` (OIDC Core §3.1.3.6).

Authlib's hooks are synchronous and this platform's store is asynchronous, so each
call gets a fresh :class:`_Server` over a :class:`Context` that the async caller has
filled beforehand (the client, the code, the signed-in agent, whether the nonce was
seen). Writes go the other way: the hooks only *collect* the codes and tokens to
save, and the caller stores them after Authlib returns. Because nothing in here
waits, the whole Authlib call can run off the event loop (RSA signing is CPU work).
Time comes from the injected clock, not from ``time.time()``.

Security posture: talks to untrusted clients and browsers before any check;
everything it returns is either an error or bound to a preloaded, registered client.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, OAuth2Payload
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin
from authlib.oidc.core.grants import OpenIDCode

from academail.identity.sso.claims import SCOPES, oidc_claims
from academail.identity.sso.http import HttpCall, HttpReply
from academail.identity.sso.signing import ALGORITHM, SigningKeys
from academail.store.repos.sso import ClaimsRow, ClientRow, CodeRow, TokenRow

__all__ = [
    "ACCESS_TOKEN_SECONDS",
    "CODE_SECONDS",
    "ID_TOKEN_SECONDS",
    "Context",
    "Subject",
    "build_server",
    "authlib_request",
]

CODE_SECONDS = 60
ACCESS_TOKEN_SECONDS = 900
ID_TOKEN_SECONDS = 300
_NONCE_MAX = 200


@dataclass(frozen=True)
class Subject:
    """The signed-in agent, as a grant needs it."""

    account_id: str
    session_hash: str
    sid: str
    auth_time: dt.datetime
    amr: tuple[str, ...]
    claims: ClaimsRow


@dataclass
class Context:
    """What one Authlib call may read (preloaded) and what it produced (to save)."""

    issuer: str
    now: dt.datetime
    keys: SigningKeys
    hash_secret: Callable[[str], str]
    secret_matches: Callable[[ClientRow, str], bool]
    clients: dict[str, ClientRow] = field(default_factory=dict)
    user: Subject | None = None
    code: CodeRow | None = None
    nonce_seen: bool = False
    new_codes: list[CodeRow] = field(default_factory=list)
    new_tokens: list[TokenRow] = field(default_factory=list)
    redeemed: str | None = None


class _Headers(dict[str, str]):
    """Case-insensitive ``get`` (Authlib asks for ``Authorization``)."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, call: HttpCall) -> None:
        merged: dict[str, list[str]] = {k: list(v) for k, v in call.args.items()}
        for key, values in call.form.items():
            merged[key] = list(values)
        self._datalist = merged
        self._data = {k: v[0] for k, v in merged.items() if v}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._datalist


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, call: HttpCall) -> None:
        super().__init__(call.method, call.uri, headers=_Headers(call.headers))
        self.payload = _Payload(call)
        self._args = {k: v[0] for k, v in call.args.items() if v}
        self._form = {k: v[0] for k, v in call.form.items() if v}

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


def authlib_request(call: HttpCall) -> Any:
    return _Request(call)


class _Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, row: ClientRow, ctx: Context) -> None:
        self.row = row
        self._ctx = ctx

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # OIDC Core §3.1.2.1: redirect_uri is required, never guessed

    def get_allowed_scope(self, scope: str | None) -> str | None:
        requested = (scope or "").split()
        if "openid" not in requested:
            return None
        return " ".join(s for s in SCOPES if s in requested)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris  # exact string match

    def check_client_secret(self, client_secret: str) -> bool:
        return self._ctx.secret_matches(self.row, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.row.secret_hash is None:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class _Code(AuthorizationCodeMixin):  # type: ignore[misc]
    def __init__(self, row: CodeRow, amr: tuple[str, ...]) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method
        self._amr = list(amr)

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return int(self.row.auth_time.timestamp())

    def get_amr(self) -> list[str]:
        return self._amr


class _S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client, S256 only (RFC 7636 §4.2; RFC 9700 §2.1.1 forbids plain)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge (S256).")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is accepted.")
        super().validate_code_challenge(grant, redirect_uri)


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    def __init__(self, ctx: Context) -> None:
        super().__init__(require_nonce=False)
        self._ctx = ctx

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        if len(nonce) > _NONCE_MAX:  # the column's size; a nonce needs far less
            raise InvalidRequestError("The nonce is too long.")
        return self._ctx.nonce_seen

    def resolve_client_private_key(self, client: Any) -> Any:
        return self._ctx.keys.current

    def get_client_algorithm(self, client: Any) -> str:
        return ALGORITHM

    def get_encode_header(self, client: Any) -> dict[str, str]:
        return {"alg": ALGORITHM, "kid": self._ctx.keys.kid, "typ": "JWT"}

    def get_client_claims(self, client: Any) -> dict[str, Any]:
        now = int(self._ctx.now.timestamp())
        return {
            "iss": self._ctx.issuer,
            "aud": client.get_client_id(),
            "iat": now,
            "exp": now + ID_TOKEN_SECONDS,
        }

    def generate_user_info(self, user: Subject, scope: str) -> dict[str, Any]:
        return {**oidc_claims(user.claims, scope), "sid": user.sid}


class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    @property
    def ctx(self) -> Context:
        ctx: Context = self.server.ctx
        return ctx

    def save_authorization_code(self, code: str, request: Any) -> None:
        user: Subject = request.user
        data = request.payload.data
        self.ctx.new_codes.append(
            CodeRow(
                code_hash=self.ctx.hash_secret(code),
                client_id=request.client.get_client_id(),
                account_id=user.account_id,
                session_hash=user.session_hash,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                nonce=(data.get("nonce") or None),
                code_challenge=data["code_challenge"],
                code_challenge_method="S256",
                auth_time=user.auth_time,
                expires_at=self.ctx.now + dt.timedelta(seconds=CODE_SECONDS),
                used_at=None,
            )
        )

    def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
        row, user = self.ctx.code, self.ctx.user
        if row is None or user is None or row.code_hash != self.ctx.hash_secret(code):
            return None
        if row.client_id != client.get_client_id() or row.used_at is not None:
            return None
        if row.expires_at <= self.ctx.now:
            return None
        return _Code(row, user.amr)

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        self.ctx.redeemed = authorization_code.row.code_hash

    def authenticate_user(self, authorization_code: _Code) -> Subject | None:
        return self.ctx.user


class _Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, ctx: Context) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.ctx = ctx
        self.register_token_generator("default", self._generate_token)
        self.register_grant(_CodeGrant, [_S256Only(required=True), _OpenIDCode(ctx)])

    def _generate_token(
        self,
        grant_type: str,
        client: _Client,
        user: Subject | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = False,
    ) -> dict[str, Any]:
        return {
            "token_type": "Bearer",
            "access_token": secrets.token_urlsafe(32),
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": scope or "",
        }

    def query_client(self, client_id: str) -> _Client | None:
        row = self.ctx.clients.get(client_id)
        return _Client(row, self.ctx) if row else None

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        user: Subject = request.user
        self.ctx.new_tokens.append(
            TokenRow(
                token_hash=self.ctx.hash_secret(token["access_token"]),
                client_id=request.client.get_client_id(),
                account_id=user.account_id,
                session_hash=user.session_hash,
                scope=token["scope"],
                expires_at=self.ctx.now + dt.timedelta(seconds=ACCESS_TOKEN_SECONDS),
                revoked_at=None,
            )
        )

    def create_oauth2_request(self, request: Any) -> Any:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> HttpReply:
        if isinstance(body, dict):
            body = json.dumps(body)
        return HttpReply(int(status), str(body or ""), tuple((str(k), str(v)) for k, v in headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


def build_server(ctx: Context) -> Any:
    """A server for one call (no state shared between concurrent calls)."""
    return _Server(ctx)
