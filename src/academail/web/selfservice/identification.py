"""« Je ne connais pas mon identifiant ou mon mot de passe »: NUMEN + date of birth +
captcha → the login is shown and a new password may be set (OTP too if enabled).

Security posture: anonymous until identified. Every failure renders the same page,
with the same status and :data:`identity.messages.SELF_SERVICE_FAILED` (wrong
captcha, unknown NUMEN, wrong date, account that may not recover, NUMEN over its
limit); only the per-IP limit answers otherwise (429), and it says nothing about
accounts. The limits, the captcha, the audit, the notice mailed to the agent at
each success and the revocation of the account's other accesses once the password
is set live in identity.recovery.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from academail.web.requests import client_ip, platform_of, redirect
from academail.web.selfservice.choose import DONE_URL, password_page, submit_password
from academail.web.selfservice.common import grant, identify_page, identify_then_grant
from academail.web.templating import render

__all__ = ["router"]

router = APIRouter()

_PAGE = "/assistance/identifiants"
_CHOOSE = "/assistance/identifiants/mot-de-passe"


@router.get(_PAGE)
async def page(request: Request) -> Response:
    return await identify_page(request, "password")


@router.post(_PAGE)
async def identify(
    request: Request,
    numen: str = Form(""),
    naissance: str = Form(""),
    captcha: str = Form(""),
    captcha_id: str = Form(""),
) -> Response:
    form = {"numen": numen, "naissance": naissance, "captcha": captcha, "captcha_id": captcha_id}
    return await identify_then_grant(request, form, "password", "recovery", _PAGE, _CHOOSE)


@router.get(_CHOOSE)
async def choose_page(request: Request) -> Response:
    session = grant(request, "recovery", "numen")
    if session is None:
        return redirect(_PAGE)
    return await password_page(request, session, _CHOOSE)


@router.post(_CHOOSE)
async def choose(
    request: Request,
    mot_de_passe: str = Form(""),
    confirmation: str = Form(""),
    code: str = Form(""),
) -> Response:
    session = grant(request, "recovery", "numen")
    if session is None or session.account_id is None:
        return redirect(_PAGE)
    account_id = session.account_id
    recovery = platform_of(request).recovery
    ip = client_ip(request)

    async def finish(password: str) -> bool:
        return await recovery.finish_numen(account_id, password, ip)

    answer = await submit_password(
        request, session, _CHOOSE, (mot_de_passe, confirmation, code), finish
    )
    return answer or redirect(_PAGE, None)


@router.get(DONE_URL)
async def done(request: Request) -> Response:
    return render(request, "selfservice/done.html")
