"""The single sign-on service the platform exposes: registry, OIDC, CAS, single logout.

Built once by ``runtime`` (one field of ``Platform``). Keys are derived from the
platform's token key, one label per use (``core.secretbox.derive_key``): client
secrets, codes and tokens, CAS ticket MACs. The RS256 signing key is read from the
data directory; if ``academail init`` has not made it yet, only the OIDC endpoints
fail (with a message saying so) and the rest of the platform works.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from academail.config import Settings
from academail.core.clock import Clock
from academail.core.errors import TemporaryFailure
from academail.core.keys import Keys
from academail.core.secretbox import derive_key
from academail.identity.sessions import Session
from academail.identity.sso.cas import CasServer
from academail.identity.sso.logout import LogoutFanout
from academail.identity.sso.oidc import OidcProvider
from academail.identity.sso.registry import Registry
from academail.identity.sso.signing import SigningKeys, load_signing_keys
from academail.store import Store
from academail.store import sso as sso_repo

__all__ = ["SsoService", "issuer_of"]


def issuer_of(settings: Settings) -> str:
    """The OIDC issuer and CAS base: the portal's public URL, without trailing slash."""
    return (settings.web.public_url or settings.academie.portal_url).rstrip("/")


class SsoService:
    def __init__(
        self, store: Store, clock: Clock, keys: Keys, settings: Settings, data_dir: Path
    ) -> None:
        self._store = store
        self._clock = clock
        self._data_dir = data_dir
        self._signing: SigningKeys | None = load_signing_keys(data_dir)
        self._session_lifetime = dt.timedelta(hours=settings.auth.session_absolute_hours)
        self.issuer = issuer_of(settings)
        self.registry = Registry(store, clock, derive_key(keys.tokens, "sso-client-secret"))
        self.oidc = OidcProvider(
            store,
            clock,
            self.issuer,
            self.signing_keys,
            self.registry,
            derive_key(keys.tokens, "sso-oidc"),
        )
        self.cas = CasServer(store, clock, self.registry, derive_key(keys.tokens, "sso-cas"))
        self._fanout = LogoutFanout(
            store, clock, self.issuer, self.signing_keys, self.oidc.sid_of, self.cas.ticket_value
        )

    def signing_keys(self) -> SigningKeys:
        if self._signing is None:
            self._signing = load_signing_keys(self._data_dir)
        if self._signing is None:
            raise TemporaryFailure("clé de signature OIDC absente : lancez « academail init »")
        return self._signing

    async def signed_out(self, session: Session) -> dict[str, bool]:
        """After a portal session ended: revoke its tokens, tell its applications."""
        if session.account_id is None:
            return {}
        return await self._fanout.session_ended(session.id_hash, session.account_id)

    async def purge(self) -> int:
        """Deletes codes, tickets and tokens no session can need any more (a worker's job)."""
        before = self._clock.now() - self._session_lifetime
        return await self._store.run(lambda c: sso_repo.purge_expired(c, before))
