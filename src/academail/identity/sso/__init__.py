"""Single sign-on: the portal as OpenID Connect provider and CAS 3.0 server.

This ``__init__`` is the package's API (style.md §11). The web adapter
(``web/sso``) translates HTTP to :class:`HttpCall` values and renders the typed
decisions; everything protocol-related lives here.
"""

from academail.identity.sso.cas import TICKET_SECONDS, CasFailure, CasResult, CasServer
from academail.identity.sso.claims import SCOPES
from academail.identity.sso.http import HttpCall, HttpReply
from academail.identity.sso.logout import BACKCHANNEL_EVENT, saml_logout_request
from academail.identity.sso.oidc import (
    AuthorizeDecision,
    Decision,
    LogoutDecision,
    OidcProvider,
    add_query,
)
from academail.identity.sso.oidc_server import ACCESS_TOKEN_SECONDS, CODE_SECONDS
from academail.identity.sso.registry import Registry, check_url, service_key
from academail.identity.sso.service import SsoService, issuer_of
from academail.identity.sso.signing import (
    SigningKeys,
    ensure_signing_key,
    load_signing_keys,
    rotate_signing_key,
)
from academail.store.repos.sso import ClientRow, ServiceRow

__all__ = [
    "ACCESS_TOKEN_SECONDS",
    "BACKCHANNEL_EVENT",
    "CODE_SECONDS",
    "SCOPES",
    "TICKET_SECONDS",
    "AuthorizeDecision",
    "CasFailure",
    "CasResult",
    "CasServer",
    "ClientRow",
    "Decision",
    "HttpCall",
    "HttpReply",
    "LogoutDecision",
    "OidcProvider",
    "Registry",
    "ServiceRow",
    "SigningKeys",
    "SsoService",
    "add_query",
    "check_url",
    "ensure_signing_key",
    "issuer_of",
    "load_signing_keys",
    "rotate_signing_key",
    "saml_logout_request",
    "service_key",
]
