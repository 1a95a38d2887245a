"""« Mes paramètres de messagerie »: NUMEN + date of birth + captcha → login, address,
servers, ports and security, and files that configure Thunderbird, Outlook and
Apple devices for this account.

Security posture: anonymous until identified, exactly like the identification page
(same limits, same single failure message); each success is mailed to the agent
(identity.recovery), since reading the settings is a use of the NUMEN too. What is
shown is the login and the address, never a password: the files leave it to the
device to ask.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from academail.identity.recovery import Profile
from academail.web.requests import platform_of, redirect
from academail.web.selfservice import clientconfig
from academail.web.selfservice.common import grant, identify_page, identify_then_grant
from academail.web.templating import render

__all__ = ["router", "servers_of"]

router = APIRouter()

_PAGE = "/assistance/parametres"
_RESULT = "/assistance/parametres/compte"


def servers_of(request: Request) -> clientconfig.MailServers:
    settings = platform_of(request).settings
    academie = settings.academie
    return clientconfig.MailServers(
        imap_host=settings.web.imap_host,
        smtp_host=settings.web.smtp_host,
        pop_host=settings.web.pop_host,
        domains=(academie.domain, *academie.extra_domains),
        organisation=academie.name,
    )


@router.get(_PAGE)
async def page(request: Request) -> Response:
    return await identify_page(request, "settings")


@router.post(_PAGE)
async def identify(
    request: Request,
    numen: str = Form(""),
    naissance: str = Form(""),
    captcha: str = Form(""),
    captcha_id: str = Form(""),
) -> Response:
    form = {"numen": numen, "naissance": naissance, "captcha": captcha, "captcha_id": captcha_id}
    return await identify_then_grant(request, form, "settings", "settings", _PAGE, _RESULT)


async def _profile(request: Request) -> Profile | None:
    session = grant(request, "settings")
    if session is None or session.account_id is None:
        return None
    return await platform_of(request).recovery.profile(session.account_id)


@router.get(_RESULT)
async def result(request: Request) -> Response:
    profile = await _profile(request)
    if profile is None:
        return redirect(_PAGE)
    return render(
        request, "selfservice/settings.html", profile=profile, servers=servers_of(request)
    )


_Builder = Callable[[clientconfig.MailServers, clientconfig.Account], bytes]
_FILES: dict[str, tuple[_Builder, str, str]] = {
    "thunderbird.xml": (clientconfig.thunderbird_config, "application/xml", "config-v1.1.xml"),
    "outlook.xml": (clientconfig.autodiscover_response, "application/xml", "autodiscover.xml"),
    "apple.mobileconfig": (
        clientconfig.apple_profile,
        "application/x-apple-aspen-config",
        "messagerie.mobileconfig",
    ),
}


@router.get(_PAGE + "/{name}")
async def download(request: Request, name: str) -> Response:
    entry = _FILES.get(name)
    profile = await _profile(request) if entry else None
    if entry is None or profile is None:
        return redirect(_PAGE)
    build, media_type, filename = entry
    account = clientconfig.Account(profile.address, profile.display_name)
    headers = {"content-disposition": f'attachment; filename="{filename}"'}
    return Response(build(servers_of(request), account), media_type=media_type, headers=headers)
