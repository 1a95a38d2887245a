"""First sign-in: temporary password → new password → recovery data → codes → active.

Also the renewal of an expired password, and the live policy check the password
forms call as the agent types (the reasons are shown under the field).

Security posture: the visitor holds a temporary password, an expired one, a
self-service grant or a full session, not necessarily the current password. The
live check (``/mot-de-passe/verifier``) therefore applies only the pure policy
rules, never "not one of your last passwords", which would confirm a guess of the
current one (identity.credentials); it is limited per session and bounded in
length. Resending the confirmation codes is limited per account.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.responses import JSONResponse, Response

from academail.core.errors import InvalidInput, LimitReached
from academail.identity.authenticate import Outcome
from academail.identity.credentials import MAX_PASSWORD_LENGTH, PasswordRejected
from academail.identity.policy import rules_for_display
from academail.web.i18n import N_, gettext
from academail.web.portal.login import after_password, require
from academail.web.requests import client_ip, platform_of, redirect, safe_next, user_agent
from academail.web.templating import render

__all__ = ["router"]

router = APIRouter()

_MISMATCH = N_("Les deux saisies du mot de passe ne sont pas identiques.")
_WRONG_CODE = N_("Code incorrect ou expiré. Vous pouvez demander un nouveau code.")


async def _step(request: Request, account_id: str) -> str:
    record = await platform_of(request).credentials.record(account_id)
    if record.password_hash is None:
        return "password"
    if record.recovery_email is None:
        return "recovery"
    return "confirm"


def _rules(request: Request) -> list[str]:
    return [
        message for _code, message in rules_for_display(platform_of(request).credentials.policy)
    ]


@router.get("/activation")
async def activation(request: Request) -> Response:
    session = require(request, "activation")
    if session is None or session.account_id is None:
        return redirect("/connexion")
    step = await _step(request, session.account_id)
    record = await platform_of(request).credentials.record(session.account_id)
    return render(
        request,
        f"portal/activation_{step}.html",
        errors=[],
        rules=_rules(request),
        record=record,
        email="",
        mobile="",
    )


@router.post("/activation/mot-de-passe")
async def choose_password(
    request: Request, mot_de_passe: str = Form(""), confirmation: str = Form("")
) -> Response:
    session = require(request, "activation")
    if session is None or session.account_id is None:
        return redirect("/connexion")
    record = await platform_of(request).credentials.record(session.account_id)
    errors = await _set_password(
        request, session.account_id, mot_de_passe, confirmation, "activation"
    )
    if errors:
        return render(
            request,
            "portal/activation_password.html",
            status_code=422,
            errors=errors,
            rules=_rules(request),
            record=record,
            email="",
            mobile="",
        )
    # The new password ends every session of the old generation, this one too:
    # the activation continues in a fresh one.
    fresh = await platform_of(request).sessions.advance(
        session, "activation", client_ip(request), user_agent(request), session.data
    )
    return redirect("/activation", fresh)


async def _set_password(
    request: Request, account_id: str, password: str, confirmation: str, how: str
) -> list[str]:
    if password != confirmation:
        return [_MISMATCH]
    platform = platform_of(request)
    record = await platform.credentials.record(account_id)
    try:
        await platform.credentials.set_password(
            account_id, password[:MAX_PASSWORD_LENGTH], record.login, how
        )
    except PasswordRejected as exc:
        return exc.reasons
    return []


@router.post("/activation/secours")
async def recovery(request: Request, courriel: str = Form(""), mobile: str = Form("")) -> Response:
    session = require(request, "activation")
    if session is None or session.account_id is None:
        return redirect("/connexion")
    platform = platform_of(request)
    try:
        await platform.credentials.set_recovery(session.account_id, courriel[:254], mobile[:30])
    except InvalidInput as exc:
        record = await platform.credentials.record(session.account_id)
        return render(
            request,
            "portal/activation_recovery.html",
            status_code=422,
            errors=[exc.message],
            rules=[],
            record=record,
            email=courriel[:254],
            mobile=mobile[:30],
        )
    return redirect("/activation")


@router.post("/activation/confirmer")
async def confirm(
    request: Request, code_courriel: str = Form(""), code_sms: str = Form("")
) -> Response:
    session = require(request, "activation")
    if session is None or session.account_id is None:
        return redirect("/connexion")
    platform = platform_of(request)
    if await platform.credentials.confirm(
        session.account_id, code_courriel[:20], code_sms[:20] or None
    ):
        return await after_password(
            request, session.account_id, Outcome.OK, safe_next(session.data.get("next"))
        )
    return await _confirm_page(request, session.account_id, _WRONG_CODE, 422)


async def _confirm_page(request: Request, account_id: str, error: str, status: int) -> Response:
    record = await platform_of(request).credentials.record(account_id)
    return render(
        request,
        "portal/activation_confirm.html",
        status_code=status,
        errors=[error],
        rules=[],
        record=record,
        email="",
        mobile="",
    )


@router.post("/activation/renvoyer")
async def resend(request: Request) -> Response:
    session = require(request, "activation")
    if session is None or session.account_id is None:
        return redirect("/connexion")
    try:
        await platform_of(request).credentials.resend_codes(session.account_id)
    except LimitReached as exc:
        return await _confirm_page(request, session.account_id, exc.message, 429)
    return redirect("/activation")


@router.post("/activation/modifier-secours")
async def change_recovery(request: Request) -> Response:
    """Back to the recovery step (a typo in the address): forget the pending data."""
    session = require(request, "activation")
    if session is None or session.account_id is None:
        return redirect("/connexion")
    platform = platform_of(request)
    record = await platform.credentials.record(session.account_id)
    return render(
        request,
        "portal/activation_recovery.html",
        errors=[],
        rules=[],
        record=record,
        email=record.recovery_email or "",
        mobile="",
    )


@router.get("/mot-de-passe/renouveler")
async def renew_page(request: Request) -> Response:
    session = require(request, "expired")
    if session is None:
        return redirect("/connexion")
    return render(request, "portal/renew.html", errors=[], rules=_rules(request))


@router.post("/mot-de-passe/renouveler")
async def renew(
    request: Request, mot_de_passe: str = Form(""), confirmation: str = Form("")
) -> Response:
    session = require(request, "expired")
    if session is None or session.account_id is None:
        return redirect("/connexion")
    errors = await _set_password(request, session.account_id, mot_de_passe, confirmation, "expired")
    if errors:
        return render(
            request, "portal/renew.html", status_code=422, errors=errors, rules=_rules(request)
        )
    return await after_password(
        request, session.account_id, Outcome.OK, safe_next(session.data.get("next"))
    )


@router.post("/mot-de-passe/verifier")
async def check(request: Request, mot_de_passe: str = Form("")) -> Response:
    """The reasons a candidate password would be refused, for the live hints.

    Pure policy rules only (no history: see the module docstring); 429 beyond the
    per-session limit, with the reason in the same shape so the page shows it.
    """
    session = require(request, "activation", "expired", "full", "recovery")
    if session is None or session.account_id is None:
        return JSONResponse({"reasons": []}, status_code=401)
    try:
        reasons = await platform_of(request).credentials.check_rules_only(
            session.account_id, mot_de_passe[:MAX_PASSWORD_LENGTH], session.id_hash
        )
    except LimitReached as exc:
        return JSONResponse({"reasons": [gettext(exc.message)]}, status_code=429)
    return JSONResponse({"reasons": [gettext(reason) for reason in reasons]})
