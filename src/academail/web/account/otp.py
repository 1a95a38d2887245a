"""``/compte/otp``: the TOTP second factor (RFC 6238) — enrolment, recovery codes, off.

Enrolment shows the QR code inline (segno's SVG carries no ``style`` attribute, so
the strict CSP allows it) and the secret as text for people who cannot scan; the
pending secret waits *sealed* in the session data until a first code proves the app
has it. Then ten recovery codes are shown once, in the answer to that form, and never
again. A session at stage ``enrol_otp`` (a role that must have OTP) reaches only
these pages; once enrolled it continues at stage ``full`` towards where it was going.
From a ``full`` session, enrolling also needs the current password: an intruder on
an open session must not bind the account to their own phone.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from markupsafe import Markup
from starlette.responses import Response

from academail.core.errors import AcademailError
from academail.web.account.common import ENROL_PATH, Agent, gate, page
from academail.web.requests import (
    client_ip,
    context,
    platform_of,
    redirect,
    safe_next,
    user_agent,
)
from academail.web.security import session_cookie

__all__ = ["router"]

router = APIRouter()

_PENDING = "otp_pending"
_STAGES = ("full", "enrol_otp")


async def _show(
    request: Request, agent: Agent, errors: list[str], status_code: int = 200
) -> Response:
    platform = platform_of(request)
    status = await platform.second_factor.status(agent.account_id)
    context_: dict[str, Any] = {"status": status, "forced": agent.session.stage == "enrol_otp"}
    if status.otp_enabled_at is None:
        pending = agent.session.data.get(_PENDING)
        enrolment = await platform.second_factor.enrolment(agent.account_id, pending)
        if enrolment.sealed != pending:
            data = {**agent.session.data, _PENDING: enrolment.sealed}
            await platform.sessions.set_data(agent.session, data)
        context_.update(enrolment=enrolment, qr=Markup(enrolment.svg))  # noqa: S704 - segno's SVG
    return page(request, "account/otp.html", "otp", status_code, errors=errors, **context_)


@router.get(ENROL_PATH)
async def otp_page(request: Request) -> Response:
    agent = gate(request, ENROL_PATH, *_STAGES)
    if isinstance(agent, Response):
        return agent
    return await _show(request, agent, [])


@router.post(f"{ENROL_PATH}/activer")
async def enable(
    request: Request, code: str = Form(""), mot_de_passe_actuel: str = Form("")
) -> Response:
    agent = gate(request, ENROL_PATH, *_STAGES)
    if isinstance(agent, Response):
        return agent
    platform = platform_of(request)
    pending = str(agent.session.data.get(_PENDING, ""))
    try:
        if agent.session.stage == "full":
            await platform.second_factor.reauthenticate(
                agent.account_id, mot_de_passe_actuel, context(request)
            )
        codes = await platform.second_factor.confirm_enrolment(agent.account_id, pending, code[:40])
    except AcademailError as exc:
        return await _show(request, agent, [exc.message], 422)
    data = {k: v for k, v in agent.session.data.items() if k != _PENDING}
    if agent.session.stage == "full":
        await platform.sessions.set_data(agent.session, data)
        return _codes(request, codes, ENROL_PATH, first=True)
    # The first code proved the second factor: amr (RFC 8176) as the OTP sign-in step sets it.
    data["amr"] = ["pwd", "otp"]
    fresh = await platform.sessions.advance(
        agent.session, "full", client_ip(request), user_agent(request), data
    )
    response = _codes(request, codes, safe_next(data.get("next")), first=True)
    response.headers.append("set-cookie", session_cookie(fresh.raw_id))
    return response


def _codes(request: Request, codes: list[str], next_url: str, first: bool) -> Response:
    return page(
        request, "account/recovery_codes.html", "otp", codes=codes, next_url=next_url, first=first
    )


@router.post(f"{ENROL_PATH}/codes")
async def new_codes(request: Request, mot_de_passe_actuel: str = Form("")) -> Response:
    agent = gate(request, ENROL_PATH)
    if isinstance(agent, Response):
        return agent
    try:
        codes = await platform_of(request).second_factor.regenerate_recovery_codes(
            agent.account_id, mot_de_passe_actuel, context(request)
        )
    except AcademailError as exc:
        return await _show(request, agent, [exc.message], 422)
    return _codes(request, codes, ENROL_PATH, first=False)


@router.post(f"{ENROL_PATH}/desactiver")
async def disable(
    request: Request, mot_de_passe_actuel: str = Form(""), code: str = Form("")
) -> Response:
    agent = gate(request, ENROL_PATH)
    if isinstance(agent, Response):
        return agent
    try:
        await platform_of(request).second_factor.disable_otp(
            agent.account_id, mot_de_passe_actuel, code, context(request)
        )
    except AcademailError as exc:
        return await _show(request, agent, [exc.message], 422)
    return redirect(f"{ENROL_PATH}?ok=otp-off")
