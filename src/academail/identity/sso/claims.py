"""What an application learns about the agent: OIDC claims by scope, CAS attributes.

Data minimisation (GDPR art. 5-1-c): a scope gives only its claims (OpenID Connect
Core 1.0 §5.4): ``profile`` the names and the login, ``email`` the académie address,
``academie`` the role (HR code) and the establishment (UAI and name). ``sub`` is the
account id: stable and never reused, unlike a login that a namesake may get after
the identifier reuse delay (§5.7: sub is the only claim to key users on). Nothing
personal beyond that (no NUMEN, no date of birth, no recovery contacts) ever leaves.
"""

from __future__ import annotations

from typing import Any

from academail.store.repos.sso import ClaimsRow

__all__ = ["SCOPES", "cas_attributes", "display_name", "oidc_claims"]

SCOPES = ("openid", "profile", "email", "academie")


def display_name(row: ClaimsRow) -> str:
    return f"{row.first_name} {row.usage_name}".strip()


def oidc_claims(row: ClaimsRow, scope: str) -> dict[str, Any]:
    scopes = set(scope.split())
    claims: dict[str, Any] = {"sub": row.account_id}
    if "profile" in scopes:
        claims.update(
            preferred_username=row.login,
            name=display_name(row),
            given_name=row.first_name,
            family_name=row.usage_name,
        )
    if "email" in scopes:
        claims.update(email=row.address, email_verified=True)
    if "academie" in scopes:
        claims["role"] = row.role
        claims["establishment"] = {"uai": row.uai or "", "name": row.establishment_name}
    return claims


def cas_attributes(row: ClaimsRow) -> list[tuple[str, str]]:
    """CAS 3.0 §3.1.2 attributes (ordered pairs: names may repeat in CAS)."""
    return [
        ("mail", row.address),
        ("displayName", display_name(row)),
        ("givenName", row.first_name),
        ("sn", row.usage_name),
        ("role", row.role),
        ("establishment", row.uai or ""),
        ("establishmentName", row.establishment_name),
    ]
