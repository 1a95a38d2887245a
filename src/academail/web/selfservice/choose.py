"""Choosing the new password once identified (NUMEN page or reset link).

With OTP enabled the TOTP code (or a recovery code) is asked first, once: a right
code is remembered in the grant, so a password refused by the policy does not ask
for a second code (a TOTP code is accepted only once). Wrong codes count towards
the account's lockout like wrong passwords (identity.authenticate).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from academail.identity.recovery import PasswordRejected
from academail.identity.sessions import Session
from academail.web.i18n import N_
from academail.web.requests import context, platform_of, redirect
from academail.web.selfservice.common import password_rules
from academail.web.templating import render

__all__ = ["DONE_URL", "password_page", "submit_password"]

DONE_URL = "/assistance/mot-de-passe-enregistre"
_WRONG_CODE = N_("Code de vérification incorrect ou déjà utilisé.")
_MISMATCH = N_("Les deux saisies du mot de passe ne sont pas identiques.")


async def password_page(
    request: Request,
    session: Session,
    action: str,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    assert session.account_id is not None  # noqa: S101 - grants always name an account
    profile = await platform_of(request).recovery.profile(session.account_id)
    return render(
        request,
        "selfservice/password.html",
        status_code=status_code,
        action=action,
        profile=profile,
        needs_otp=profile.has_otp and not session.data.get("otp_ok"),
        errors=errors or [],
        rules=password_rules(request),
    )


async def submit_password(
    request: Request,
    session: Session,
    action: str,
    fields: tuple[str, str, str],
    finish: Callable[[str], Awaitable[bool]],
) -> Response | None:
    """Checks the code, then calls ``finish(password)``; None when it says the grant is gone.

    ``fields`` are the password, its confirmation and the OTP code as typed.
    """
    password, confirmation, code = fields
    platform = platform_of(request)
    assert session.account_id is not None  # noqa: S101 - grants always name an account
    profile = await platform.recovery.profile(session.account_id)
    if profile.has_otp and not session.data.get("otp_ok"):
        if not await platform.recovery.second_factor(session.account_id, code, context(request)):
            return await password_page(request, session, action, [_WRONG_CODE], 422)
        session = await platform.sessions.set_data(session, {**session.data, "otp_ok": True})
    if password != confirmation:
        return await password_page(request, session, action, [_MISMATCH], 422)
    try:
        done = await finish(password[:256])
    except PasswordRejected as exc:
        return await password_page(request, session, action, exc.reasons, 422)
    await platform.sessions.end(session)
    return redirect(DONE_URL, None) if done else None
