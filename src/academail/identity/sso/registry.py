"""The registry of applications allowed to sign agents in: OIDC clients, CAS services.

Only registered applications get codes or tickets, and only to URLs registered
*exactly* (RFC 6749 §3.1.2.2 and OAuth 2.0 Security BCP, RFC 9700 §4.1.3: exact
string matching of redirect URIs; CAS 3.0 §2.2.1 leaves matching to the server and
we take the same strict rule on the service URL without its query string). Loose
matching (prefixes, wildcards) is the classic way codes and tickets leak to an
attacker's page.

Client secrets are random (256 bits), shown once, stored as HMAC-SHA-256 under a
key derived from the platform's token key: a copy of the database alone does not
give working secrets, and verifying one costs nothing (no argon2 needed for
random secrets).

URLs must be ``https``; plain ``http`` is accepted only on the loopback interface
(RFC 8252 §7.3 reasons likewise for native apps) so that tests and local tools work
without weakening production.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from academail.core.clock import Clock
from academail.core.errors import AlreadyExists, InvalidInput, NotFound
from academail.core.secretbox import keyed_hash
from academail.store import AuditEntry, Connection, Store
from academail.store import audit as audit_repo
from academail.store import sso as sso_repo
from academail.store.repos.sso import ClientRow, ServiceRow

__all__ = ["Registry", "check_url", "service_key"]

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_URL_MAX = 500  # the size of the URL columns
_CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")


def check_url(url: str, what: str) -> str:
    """An absolute https URL without fragment or credentials; raises InvalidInput."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"{what} : adresse invalide ({url})") from exc
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    if not secure or not parts.hostname or port == 0:
        raise InvalidInput(f"{what} : https obligatoire (http seulement en local) : {url}")
    if parts.fragment or "#" in url or parts.username or parts.password or len(url) > _URL_MAX:
        raise InvalidInput(f"{what} : ni fragment, ni identifiants, 500 caractères au plus : {url}")
    return url


def service_key(url: str) -> str | None:
    """A CAS service URL without its query string, as registered; None if malformed."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc or parts.fragment:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _slug(name: str) -> str:
    ascii_name = name.lower().encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:60] or "client"


class Registry:
    def __init__(self, store: Store, clock: Clock, secret_key: bytes) -> None:
        self._store = store
        self._clock = clock
        self._secret_key = secret_key

    def secret_matches(self, client: ClientRow, secret: str) -> bool:
        if client.secret_hash is None:
            return False
        given = keyed_hash(self._secret_key, secret)
        return hmac.compare_digest(given, client.secret_hash)

    async def add_client(
        self,
        name: str,
        redirect_uris: Sequence[str],
        post_logout_redirect_uris: Sequence[str] = (),
        backchannel_logout_uri: str | None = None,
        public: bool = False,
        client_id: str | None = None,
    ) -> tuple[ClientRow, str | None]:
        """Registers a client; returns it with its secret (None for a public client)."""
        client_id = client_id or _slug(name)
        if not _CLIENT_ID.match(client_id):
            raise InvalidInput(f"identifiant de client invalide : {client_id}")
        if not redirect_uris:
            raise InvalidInput("au moins une adresse de retour (redirect_uri) est nécessaire")
        secret = None if public else secrets.token_urlsafe(32)
        row = ClientRow(
            client_id=client_id,
            name=name.strip()[:120] or client_id,
            secret_hash=keyed_hash(self._secret_key, secret) if secret else None,
            redirect_uris=tuple(check_url(u, "redirect_uri") for u in redirect_uris),
            post_logout_redirect_uris=tuple(
                check_url(u, "post_logout_redirect_uri") for u in post_logout_redirect_uris
            ),
            backchannel_logout_uri=(
                check_url(backchannel_logout_uri, "backchannel_logout_uri")
                if backchannel_logout_uri
                else None
            ),
            created_at=self._clock.now(),
        )

        def work(conn: Connection) -> bool:
            if sso_repo.get_clients(conn, [client_id]):
                return False
            sso_repo.add_client(conn, row)
            self._audit(conn, "sso.client_added", client_id, {"public": public})
            return True

        if not await self._store.run(work):
            raise AlreadyExists(f"le client {client_id} existe déjà")
        return row, secret

    async def client(self, client_id: str) -> ClientRow | None:
        found = await self._store.run(lambda c: sso_repo.get_clients(c, [client_id]))
        return found[0] if found else None

    async def clients(self) -> list[ClientRow]:
        return await self._store.run(sso_repo.list_clients)

    async def remove_client(self, client_id: str) -> None:
        def work(conn: Connection) -> bool:
            done = sso_repo.remove_client(conn, client_id)
            if done:
                self._audit(conn, "sso.client_removed", client_id, {})
            return done

        if not await self._store.run(work):
            raise NotFound(f"aucun client {client_id}")

    async def add_service(self, name: str, url: str, logout_url: str | None = None) -> ServiceRow:
        url = check_url(url, "service")
        if service_key(url) != url:
            raise InvalidInput("service : enregistrez l'adresse sans paramètres (?…)")
        logout = check_url(logout_url, "logout_url") if logout_url else None
        now = self._clock.now()

        def work(conn: Connection) -> ServiceRow | None:
            if sso_repo.service_by_url(conn, url) is not None:
                return None
            ident = sso_repo.add_service(conn, name.strip()[:120] or url, url, logout, now)
            self._audit(conn, "sso.service_added", url, {})
            return ServiceRow(ident, name.strip()[:120] or url, url, logout, now)

        row = await self._store.run(work)
        if row is None:
            raise AlreadyExists(f"le service {url} existe déjà")
        return row

    async def service_for(self, service: str) -> ServiceRow | None:
        """The registered service a requested ``service`` URL belongs to, if any."""
        key = service_key(service)
        if key is None or len(service) > _URL_MAX:
            return None
        return await self._store.run(lambda c: sso_repo.service_by_url(c, key))

    async def services(self) -> list[ServiceRow]:
        return await self._store.run(sso_repo.list_services)

    async def remove_service(self, url: str) -> None:
        def work(conn: Connection) -> bool:
            done = sso_repo.remove_service(conn, url)
            if done:
                self._audit(conn, "sso.service_removed", url, {})
            return done

        if not await self._store.run(work):
            raise NotFound(f"aucun service {url}")

    def _audit(self, conn: Connection, action: str, target: str, details: dict[str, bool]) -> None:
        entry = AuditEntry(self._clock.now(), "cli", action, target, dict(details))
        audit_repo.append(conn, [entry])
