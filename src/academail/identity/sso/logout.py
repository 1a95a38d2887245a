"""Single logout: when a portal session ends, tell the applications it signed in.

* OIDC clients with a ``backchannel_logout_uri`` get a POST with a signed
  ``logout_token`` (OpenID Connect Back-Channel Logout 1.0 §2.4–§2.5: ``iss``,
  ``aud``, ``iat``, ``exp``, ``jti``, the ``events`` claim, ``sub`` and ``sid``; no
  ``nonce``; header ``typ: logout+jwt``).
* CAS services with a logout URL get a POST with a SAML ``LogoutRequest`` whose
  ``SessionIndex`` is the service ticket (CAS 3.0 Appendix C).
* The session's access tokens are revoked first, whatever the applications answer.

Messages go only to URLs from the registry, never to a URL a request supplied, and
redirects are not followed (a 302 could bounce the POST elsewhere). The calls run
in worker threads (``core.offload``) with a short timeout, concurrently; a failure
is logged and never raised: logging out must not depend on an application being up
(Back-Channel Logout §2.8 lets the OP ignore failures).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from academail.core.clock import Clock
from academail.core.offload import off_loop
from academail.identity.sso.registry import service_key
from academail.identity.sso.signing import SigningKeys
from academail.observability import get_logger
from academail.store import Connection, Store
from academail.store import sso as sso_repo

__all__ = ["BACKCHANNEL_EVENT", "Delivery", "LogoutFanout", "saml_logout_request"]

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
TIMEOUT_SECONDS = 3.0
_log = get_logger("academail.identity.sso.logout")


@dataclass(frozen=True)
class Delivery:
    """One message to one registered application."""

    target: str  # client id or service URL, for the log
    url: str
    form: dict[str, str]


@dataclass(frozen=True)
class _Plan:
    clients: list[tuple[str, str]]  # (client_id, backchannel_logout_uri)
    tickets: list[tuple[str, str, str]]  # (service_url, logout_url, ticket public half)


def saml_logout_request(ticket: str, now: dt.datetime) -> str:
    """The CAS single-logout message (a SAML 2.0 LogoutRequest, CAS 3.0 Appendix C)."""
    instant = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
        f'ID="LR-{secrets.token_hex(16)}" Version="2.0" IssueInstant="{instant}">'
        "<saml:NameID>@NOT_USED@</saml:NameID>"
        f"<samlp:SessionIndex>{escape(ticket)}</samlp:SessionIndex>"
        "</samlp:LogoutRequest>"
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _post(delivery: Delivery, timeout: float) -> int:
    """Blocking POST (run in a worker thread); the URL comes from the registry only."""
    if not delivery.url.startswith(("https://", "http://")):
        raise ValueError("not an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 - registered http(s) URL, checked above
        delivery.url,
        data=urlencode(delivery.form).encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "academail-sso",
        },
    )
    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(request, timeout=timeout) as response:
        return int(response.status)


class LogoutFanout:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        issuer: str,
        keys: Callable[[], SigningKeys],
        sid_of: Callable[[str], str],
        ticket_value: Callable[[str], str],
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._store = store
        self._clock = clock
        self._issuer = issuer
        self._keys = keys
        self._sid_of = sid_of
        self._ticket_value = ticket_value
        self._timeout = timeout

    async def session_ended(self, session_hash: str, account_id: str) -> dict[str, bool]:
        """Revokes the session's tokens and notifies its applications; target → delivered."""
        now = self._clock.now()
        plan = await self._store.run(lambda c: self._plan(c, session_hash, now))
        if not plan.clients and not plan.tickets:
            return {}
        deliveries = await off_loop(self._deliveries, plan, session_hash, account_id, now)
        results = await asyncio.gather(*(self._send(d) for d in deliveries))
        return {d.target: ok for d, ok in zip(deliveries, results, strict=True)}

    @staticmethod
    def _plan(conn: Connection, session_hash: str, now: dt.datetime) -> _Plan:
        sso_repo.revoke_tokens(conn, session_hash, now)
        client_ids = sso_repo.clients_of_session(conn, session_hash)
        clients = [
            (c.client_id, c.backchannel_logout_uri)
            for c in sso_repo.get_clients(conn, client_ids)
            if c.backchannel_logout_uri
        ]
        services = {s.service_url: s for s in sso_repo.list_services(conn)}
        tickets = []
        for ticket in sso_repo.tickets_of_session(conn, session_hash):
            service = services.get(service_key(ticket.service_url) or "")
            if ticket.used_at is not None and service is not None and service.logout_url:
                tickets.append((ticket.service_url, service.logout_url, ticket.ticket))
        return _Plan(clients, tickets)

    def _deliveries(
        self, plan: _Plan, session_hash: str, account_id: str, now: dt.datetime
    ) -> list[Delivery]:
        """Builds the messages (signing is CPU work: called off the loop)."""
        keys, sid, iat = self._keys(), self._sid_of(session_hash), int(now.timestamp())
        out = []
        for client_id, url in plan.clients:
            claims = {
                "iss": self._issuer,
                "aud": client_id,
                "iat": iat,
                "exp": iat + 120,
                "jti": secrets.token_urlsafe(16),
                "events": {BACKCHANNEL_EVENT: {}},
                "sub": account_id,
                "sid": sid,
            }
            token = keys.sign(claims, typ="logout+jwt")
            out.append(Delivery(client_id, url, {"logout_token": token}))
        for service_url, url, public in plan.tickets:
            message = saml_logout_request(self._ticket_value(public), now)
            out.append(Delivery(service_url, url, {"logoutRequest": message}))
        return out

    async def _send(self, delivery: Delivery) -> bool:
        try:
            status = await off_loop(_post, delivery, self._timeout)
        except (OSError, ValueError, urllib.error.URLError) as exc:
            _log.warning(
                "sso.logout_not_delivered",
                target=delivery.target,
                url=delivery.url,
                error=type(exc).__name__,
            )
            return False
        ok = 200 <= status < 300
        if not ok:
            _log.warning("sso.logout_refused", target=delivery.target, status=status)
        return ok
