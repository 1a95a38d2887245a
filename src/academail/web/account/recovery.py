"""``/compte/secours``: the recovery e-mail and mobile, changed and verified again.

Whoever controls the recovery address controls the password reset, so changing it
needs the current password (a stolen session must not redirect the recovery), the
new data is verified with codes sent to it, and the académie address and the old
recovery address are both told. New codes may be asked a few times per account
only, and do not give the 5 tries back (identity.credentials).
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from academail.core.errors import AcademailError, LimitReached
from academail.web.account.common import gate, page
from academail.web.i18n import N_
from academail.web.requests import context, platform_of, redirect

__all__ = ["router"]

router = APIRouter()

_PATH = "/compte/secours"
_WRONG_CODE = N_("Code incorrect ou expiré. Vous pouvez demander un nouveau code.")


async def _form(
    request: Request,
    account_id: str,
    errors: list[str],
    status_code: int = 200,
    email: str = "",
    mobile: str = "",
) -> Response:
    record = await platform_of(request).credentials.record(account_id)
    pending = bool(
        (record.recovery_email and record.recovery_email_verified_at is None)
        or (record.recovery_mobile and record.recovery_mobile_verified_at is None)
    )
    return page(
        request,
        "account/recovery.html",
        "secours",
        status_code,
        errors=errors,
        record=record,
        pending=pending,
        email=email,
        mobile=mobile,
    )


@router.get(_PATH)
async def recovery_page(request: Request) -> Response:
    agent = gate(request, _PATH)
    if isinstance(agent, Response):
        return agent
    return await _form(request, agent.account_id, [])


@router.post(_PATH)
async def change_recovery(
    request: Request,
    mot_de_passe_actuel: str = Form(""),
    courriel: str = Form(""),
    mobile: str = Form(""),
) -> Response:
    agent = gate(request, _PATH)
    if isinstance(agent, Response):
        return agent
    platform = platform_of(request)
    previous = (await platform.credentials.record(agent.account_id)).recovery_email
    try:
        await platform.second_factor.reauthenticate(
            agent.account_id, mot_de_passe_actuel, context(request)
        )
        await platform.credentials.set_recovery(agent.account_id, courriel[:254], mobile[:30])
    except AcademailError as exc:
        return await _form(
            request, agent.account_id, [exc.message], 422, courriel[:254], mobile[:30]
        )
    await platform.second_factor.recovery_changed(agent.account_id, previous)
    return redirect(f"{_PATH}?ok=codes-envoyes")


@router.post(f"{_PATH}/confirmer")
async def confirm(
    request: Request, code_courriel: str = Form(""), code_sms: str = Form("")
) -> Response:
    agent = gate(request, _PATH)
    if isinstance(agent, Response):
        return agent
    platform = platform_of(request)
    if await platform.credentials.confirm(
        agent.account_id, code_courriel[:20], code_sms[:20] or None
    ):
        return redirect(f"{_PATH}?ok=secours")
    return await _form(request, agent.account_id, [_WRONG_CODE], 422)


@router.post(f"{_PATH}/renvoyer")
async def resend(request: Request) -> Response:
    agent = gate(request, _PATH)
    if isinstance(agent, Response):
        return agent
    try:
        await platform_of(request).credentials.resend_codes(agent.account_id)
    except LimitReached as exc:
        return await _form(request, agent.account_id, [exc.message], 429)
    return redirect(f"{_PATH}?ok=codes-envoyes")
