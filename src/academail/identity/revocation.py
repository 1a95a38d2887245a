"""Ending every standing access to an account, in one place.

Threat: an intruder who held an account (a guessed or phished password, a stolen
session) mints access that outlives the password: application passwords for
IMAP/SMTP/POP, OIDC access tokens held by the applications, web sessions. A new
password ends the web sessions (they follow the credential *generation*), but not
the other two, so a recovery that only changes the password leaves the intruder
reading the mail. OWASP ASVS 4.0 V3.3.3 (after a password change, reset or
recovery, other sessions end, federated logins and relying parties included); NIST
SP 800-63B §6.1.2.3 (a compromised authenticator, and what it granted, stops
working).

Every path that takes an account back calls :func:`revoke_access_in` inside its own
unit of work: the reset link and the NUMEN recovery (identity.recovery), "it wasn't
me" (identity.recovery), "I lost my phone" (identity.second_factor) and a new
letter (letters.issue, which also bumps the generation: the temporary password of
the new letter replaces any password, so sessions of the old one end). The caller
then drops the account from the verified-credentials cache
(``Authenticator.invalidate``), once its unit of work is committed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from academail.store import Connection
from academail.store import credentials as cred_repo
from academail.store.repos import second_factor as sf_repo
from academail.store.repos import sso as sso_repo

__all__ = ["Revoked", "revoke_access_in"]


@dataclass(frozen=True)
class Revoked:
    """How many of each access were ended (audited; nothing secret)."""

    app_passwords: int
    oidc_tokens: int

    def details(self) -> dict[str, int]:
        return {"app_passwords": self.app_passwords, "oidc_tokens": self.oidc_tokens}


def revoke_access_in(
    conn: Connection,
    account_id: str,
    now: dt.datetime,
    *,
    keep_session: str | None = None,
    end_sessions: bool = False,
) -> Revoked:
    """Revokes every application password and OIDC token of the account.

    ``keep_session`` (a session id hash) keeps the tokens of the caller's own session
    ("I lost my phone" from this browser). ``end_sessions`` also bumps the credential
    generation, which ends every web session of the account, for the paths that do
    not set a password themselves (a new letter).
    """
    if end_sessions:
        record = cred_repo.load_for_auth(conn, account_id=account_id)
        if record is not None:
            cred_repo.update(conn, account_id, generation=record.generation + 1)
    apps = sf_repo.revoke_all_app_passwords(conn, account_id, now)
    tokens = sso_repo.revoke_tokens_of_account(conn, account_id, now, keep_session)
    return Revoked(apps, int(tokens))
