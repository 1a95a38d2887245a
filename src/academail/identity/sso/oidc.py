"""OpenID Connect provider: authorization code flow with PKCE, userinfo, discovery, logout.

Standards: OpenID Connect Core 1.0 (§3.1 code flow, §3.1.3.6 ID token, §5.3
userinfo), OpenID Connect Discovery 1.0 (§3 metadata), RFC 6749 (§4.1, §10.5: codes
short-lived and single-use), RFC 7636 (PKCE, S256 only), RFC 6750 (bearer tokens),
RP-Initiated Logout 1.0, Back-Channel Logout 1.0 (``logout.py``).

Decisions:

* Authlib's server core does the protocol work (``oidc_server.py`` says why and how
  its synchronous hooks are fed); this module does the asynchronous part: it loads
  what the hooks need, runs Authlib, and stores what it produced.
* No consent page: only académie-registered, first-party applications are clients
  (registered by an administrator with ``academail sso client add``), and the
  académie, not the agent, decides what they receive. OIDC Core §3.1.2.4 lets the
  provider establish consent "by other means"; the registration is that means.
* Codes live 60 s and are single-use; presenting a used code again revokes the
  tokens that client got in that portal session (RFC 6749 §4.1.2; the store has no
  code→token link, so the session and client stand for it, which is broader, never
  narrower).
* Access tokens are opaque (random, stored as keyed hashes) and live 15 minutes; no
  refresh tokens: an application that needs the agent again sends them through the
  portal, where the single sign-on session answers without a password.

Security posture: authorize and logout face browsers before authentication; token
and userinfo face the network with client or bearer credentials only.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.util import extract_basic_authorization

from academail.core.clock import Clock
from academail.core.offload import off_loop
from academail.core.secretbox import keyed_hash
from academail.identity.lifecycle import AccountState
from academail.identity.sessions import Session
from academail.identity.sso.claims import SCOPES, oidc_claims
from academail.identity.sso.http import HttpCall, HttpReply, json_reply
from academail.identity.sso.oidc_server import Context, Subject, authlib_request, build_server
from academail.identity.sso.registry import Registry
from academail.identity.sso.signing import ALGORITHM, SigningKeys
from academail.store import AuditEntry, Connection, Store
from academail.store import audit as audit_repo
from academail.store import sessions as session_repo
from academail.store import sso as sso_repo
from academail.store.repos.sessions import SessionRow
from academail.store.repos.sso import ClaimsRow, ClientRow, CodeRow

__all__ = [
    "AuthorizeDecision",
    "Decision",
    "LogoutDecision",
    "OidcProvider",
    "add_query",
]


class Decision(enum.Enum):
    REDIRECT = "redirect"  # to the client: a code, or an error it may see
    ERROR_PAGE = "error_page"  # never redirect: unknown client or unregistered URI
    LOGIN = "login"  # a (fresh) portal sign-in is needed first


@dataclass(frozen=True)
class AuthorizeDecision:
    decision: Decision
    url: str = ""
    message: str = ""  # French, for the agent
    detail: str = ""  # technical (English, from the protocol library), for support
    force: bool = False  # LOGIN even though a session exists (prompt=login, max_age)


@dataclass(frozen=True)
class LogoutDecision:
    error: str = ""
    confirm: bool = False
    redirect: str | None = None
    client_id: str = ""
    client_name: str = ""


_CLAIMS = (
    "sub iss aud exp iat auth_time nonce at_hash amr sid preferred_username name given_name "
    "family_name email email_verified role establishment"
).split()
_REFUSED = (
    "Le portail n'a pas transmis votre connexion : la demande de l'application n'est pas "
    "conforme à son enregistrement."
)
_NOT_ACTIVE = "Ce compte ne peut pas, pour l'instant, se connecter aux applications."


def add_query(url: str, params: list[tuple[str, str]]) -> str:
    """``url`` with ``params`` appended to its query (registered query kept)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + params
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _active(claims: ClaimsRow | None) -> bool:
    return claims is not None and claims.state == AccountState.ACTIVE.value


class OidcProvider:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        issuer: str,
        keys: Callable[[], SigningKeys],
        registry: Registry,
        token_key: bytes,
    ) -> None:
        self._store = store
        self._clock = clock
        self.issuer = issuer
        self._keys = keys
        self._registry = registry
        self._token_key = token_key

    # --- helpers -------------------------------------------------------------------------

    def hash_secret(self, value: str) -> str:
        return keyed_hash(self._token_key, value)

    def sid_of(self, session_hash: str) -> str:
        """The ``sid`` claim: names the portal session without revealing its id hash."""
        return keyed_hash(self._token_key, f"sid|{session_hash}")[:32]

    def _context(self, clients: list[ClientRow]) -> Context:
        return Context(
            issuer=self.issuer,
            now=self._clock.now(),
            keys=self._keys(),
            hash_secret=self.hash_secret,
            secret_matches=self._registry.secret_matches,
            clients={c.client_id: c for c in clients},
        )

    def _subject(self, session_hash: str, row: SessionRow | Session, claims: ClaimsRow) -> Subject:
        amr = tuple(row.data.get("amr") or ("pwd",))
        return Subject(
            claims.account_id, session_hash, self.sid_of(session_hash), row.created_at, amr, claims
        )

    # --- documents -----------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        """OpenID Provider Metadata (Discovery 1.0 §3)."""
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/oidc/authorize",
            "token_endpoint": f"{base}/oidc/token",
            "userinfo_endpoint": f"{base}/oidc/userinfo",
            "jwks_uri": f"{base}/oidc/jwks",
            "end_session_endpoint": f"{base}/oidc/logout",
            "scopes_supported": list(SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "code_challenge_methods_supported": ["S256"],
            "prompt_values_supported": ["none", "login"],
            "claims_supported": list(_CLAIMS),
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "backchannel_logout_supported": True,
            "backchannel_logout_session_supported": True,
            "frontchannel_logout_supported": False,
            "ui_locales_supported": ["fr", "en"],
        }

    def jwks(self) -> dict[str, Any]:
        return self._keys().jwks()

    # --- authorization endpoint ----------------------------------------------------------

    async def authorize(
        self, call: HttpCall, session: Session | None, fresh: bool
    ) -> AuthorizeDecision:
        """OIDC Core §3.1.2: validate, then a code for the signed-in agent, or a reason."""
        client_id = call.arg("client_id") or ""
        nonce = call.arg("nonce")
        signed_in = session is not None and session.signed_in and session.account_id is not None

        def load(conn: Connection) -> tuple[list[ClientRow], bool, ClaimsRow | None]:
            clients = sso_repo.get_clients(conn, [client_id]) if client_id else []
            seen = bool(clients and nonce and sso_repo.nonce_used(conn, client_id, nonce))
            claims = None
            if signed_in and session is not None and session.account_id is not None:
                claims = sso_repo.account_claims(conn, session.account_id)
            return clients, seen, claims

        clients, seen, claims = await self._store.run(load)
        if signed_in and not _active(claims):
            return AuthorizeDecision(Decision.ERROR_PAGE, message=_NOT_ACTIVE)
        ctx = self._context(clients)
        ctx.nonce_seen = seen
        if session is not None and _active(claims) and claims is not None:
            ctx.user = self._subject(session.id_hash, session, claims)
        return await self._authorize(ctx, call, fresh)

    async def _authorize(self, ctx: Context, call: HttpCall, fresh: bool) -> AuthorizeDecision:
        server = build_server(ctx)
        request = authlib_request(call)
        try:
            grant = server.get_consent_grant(request, end_user=ctx.user)
        except OAuth2Error as error:
            if error.redirect_uri:
                reply: HttpReply = server.handle_error_response(request, error)
                return AuthorizeDecision(Decision.REDIRECT, url=reply.location or "")
            detail = str(error.description or error.error)
            return AuthorizeDecision(Decision.ERROR_PAGE, message=_REFUSED, detail=detail)
        if ctx.user is None:
            return AuthorizeDecision(Decision.LOGIN)
        if not fresh and (grant.prompt == "login" or self._too_old(call, ctx.user)):
            return AuthorizeDecision(Decision.LOGIN, force=True)
        reply = server.create_authorization_response(
            request=grant.request, grant_user=ctx.user, grant=grant
        )
        if ctx.new_codes:
            codes = list(ctx.new_codes)

            def save(conn: Connection) -> None:
                for code in codes:
                    sso_repo.add_code(conn, code)

            await self._store.run(save)
        return AuthorizeDecision(Decision.REDIRECT, url=reply.location or "")

    def _too_old(self, call: HttpCall, user: Subject) -> bool:
        """``max_age`` (OIDC Core §3.1.2.1): the sign-in must be at most that old."""
        raw = call.arg("max_age")
        if raw is None or not raw.isdigit():
            return False
        return self._clock.now() - user.auth_time >= dt.timedelta(seconds=int(raw))

    # --- token endpoint ------------------------------------------------------------------

    async def token(self, call: HttpCall) -> HttpReply:
        """RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5) and the ID token (OIDC Core §3.1.3)."""
        basic_id, _ = extract_basic_authorization(
            {"Authorization": call.headers.get("authorization")}
        )
        ids = sorted({i for i in (basic_id, call.form_value("client_id")) if i})
        code = call.form_value("code") or ""
        code_hash = self.hash_secret(code) if code else ""
        now = self._clock.now()

        def load(conn: Connection) -> tuple[list[ClientRow], CodeRow | None, Subject | None]:
            clients = sso_repo.get_clients(conn, ids)
            row = sso_repo.get_code(conn, code_hash) if code_hash else None
            if row is None or row.used_at is not None:
                return clients, row, None
            claims = sso_repo.account_claims(conn, row.account_id)
            web = session_repo.get(conn, row.session_hash)
            live = web is not None and web.revoked_at is None and web.expires_at > now
            if not live or web is None or claims is None or not _active(claims):
                return clients, None, None
            return clients, row, self._subject(row.session_hash, web, claims)

        clients, row, subject = await self._store.run(load)
        if row is not None and row.used_at is not None:
            await self._code_reused(row)
            return json_reply(400, {"error": "invalid_grant", "error_description": "Code used."})
        ctx = self._context(clients)
        ctx.code, ctx.user = row, subject
        reply: HttpReply = await off_loop(self._run_token, ctx, call)
        if reply.status != 200 or ctx.redeemed is None:
            return reply
        if not await self._store.run(lambda c: self._save_tokens(c, ctx)):
            if row is not None:
                await self._code_reused(row)
            return json_reply(400, {"error": "invalid_grant", "error_description": "Code used."})
        return reply

    @staticmethod
    def _run_token(ctx: Context, call: HttpCall) -> HttpReply:
        server = build_server(ctx)
        reply: HttpReply = server.create_token_response(authlib_request(call))
        return reply

    def _save_tokens(self, conn: Connection, ctx: Context) -> bool:
        if ctx.redeemed is None or not sso_repo.use_code(conn, ctx.redeemed, ctx.now):
            return False
        for token in ctx.new_tokens:
            sso_repo.add_token(conn, token)
        if ctx.user is not None and ctx.code is not None:
            details = {"client": ctx.code.client_id, "protocol": "oidc"}
            entry = AuditEntry(ctx.now, "sso", "sso.signin", ctx.user.claims.login, details)
            audit_repo.append(conn, [entry])
        return True

    async def _code_reused(self, row: CodeRow) -> None:
        """RFC 6749 §4.1.2: a code used twice revokes what it gave (here: that client's
        tokens in that portal session)."""
        now = self._clock.now()

        def work(conn: Connection) -> None:
            sso_repo.revoke_tokens(conn, row.session_hash, now, row.client_id)
            details = {"client": row.client_id}
            audit_repo.append(conn, [AuditEntry(now, "sso", "sso.code_reused", "", details)])

        await self._store.run(work)

    # --- userinfo endpoint ---------------------------------------------------------------

    async def userinfo(self, call: HttpCall) -> HttpReply:
        """OIDC Core §5.3 with a bearer token (RFC 6750 §2.1 header or §2.2 form body)."""
        header = call.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        token = token or (call.form_value("access_token") or "")
        if not token:
            return json_reply(401, {"error": "invalid_request"}, ("WWW-Authenticate", "Bearer"))
        now = self._clock.now()
        token_hash = self.hash_secret(token)

        def load(conn: Connection) -> dict[str, Any] | None:
            row = sso_repo.get_token(conn, token_hash)
            if row is None or row.revoked_at is not None or row.expires_at <= now:
                return None
            claims = sso_repo.account_claims(conn, row.account_id)
            if claims is None or not _active(claims) or "openid" not in row.scope.split():
                return None
            return oidc_claims(claims, row.scope)

        found = await self._store.run(load)
        if found is None:
            challenge = 'Bearer error="invalid_token"'
            return json_reply(401, {"error": "invalid_token"}, ("WWW-Authenticate", challenge))
        return json_reply(200, found)

    # --- RP-initiated logout -------------------------------------------------------------

    async def end_session(self, call: HttpCall, session: Session | None) -> LogoutDecision:
        """RP-Initiated Logout 1.0 §2–§3: validate the hint and the return address.

        Without a valid ``id_token_hint`` of the signed-in agent the portal asks the
        agent to confirm (§6: a third party must not log people out silently); a
        ``post_logout_redirect_uri`` is followed only if it is registered for the
        client, exactly.
        """
        hint = call.param("id_token_hint")
        claims = self._keys().verified_claims(hint) if hint else None
        if hint and (claims is None or claims.get("iss") != self.issuer):
            return LogoutDecision(error="Le jeton présenté (id_token_hint) n'est pas valide.")
        audience = claims.get("aud") if claims else None
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        client_id = call.param("client_id") or (audiences[0] if len(audiences) == 1 else None)
        if client_id and claims is not None and client_id not in audiences:
            return LogoutDecision(error="Le client ne correspond pas au jeton présenté.")
        client = await self._registry.client(client_id) if client_id else None
        redirect = self._return_address(call, client)
        if redirect == "":
            return LogoutDecision(error="Adresse de retour non enregistrée pour cette application.")
        signed_in = session is not None and session.signed_in
        same = (
            claims is not None and session is not None and claims.get("sub") == session.account_id
        )
        return LogoutDecision(
            confirm=signed_in and not same,
            redirect=redirect,
            client_id=client.client_id if client else "",
            client_name=client.name if client else "",
        )

    @staticmethod
    def _return_address(call: HttpCall, client: ClientRow | None) -> str | None:
        """None: none asked; "": asked but not registered; else the URL with ``state``."""
        uri = call.param("post_logout_redirect_uri")
        if not uri:
            return None
        if client is None or uri not in client.post_logout_redirect_uris:
            return ""
        state = call.param("state")
        return add_query(uri, [("state", state)]) if state else uri
