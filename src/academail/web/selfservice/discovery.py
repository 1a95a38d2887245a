"""Standard discovery URLs that mail clients fetch by themselves, without anyone
signed in: Thunderbird autoconfig and Outlook (POX) autodiscover.

Security posture: anonymous, machine-to-machine, never reveals whether an address
exists. Thunderbird gets one document with ``%EMAILADDRESS%`` placeholders
whatever ``emailaddress`` says; Outlook gets the same settings for any address of
our domains (the address as login: our sign-in accepts it). Autodiscover reads a
request body from anyone: at most 16 KiB, no DTD, no entities (see clientconfig);
it is exempt from CSRF (``web/app.py``) because no cookie gives it any authority.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import PlainTextResponse, Response

from academail.web.requests import platform_of
from academail.web.selfservice import clientconfig
from academail.web.selfservice.mail_settings import servers_of

__all__ = ["MAX_REQUEST", "router"]

router = APIRouter()

MAX_REQUEST = 16 * 1024
_XML = "application/xml"


@router.get("/.well-known/autoconfig/mail/config-v1.1.xml")
@router.get("/mail/config-v1.1.xml")
async def autoconfig(request: Request) -> Response:
    return Response(clientconfig.thunderbird_config(servers_of(request)), media_type=_XML)


async def _body(request: Request) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_REQUEST:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/autodiscover/autodiscover.xml")
@router.post("/Autodiscover/Autodiscover.xml")
async def autodiscover(request: Request) -> Response:
    body = await _body(request)
    if body is None:
        return PlainTextResponse("request too large", status_code=413)
    try:
        asked = clientconfig.parse_autodiscover_request(body)
    except clientconfig.UnsafeXml:
        return PlainTextResponse("malformed or unsafe XML", status_code=400)
    if asked.schema != clientconfig.AUTODISCOVER_SCHEMA:
        answer = clientconfig.autodiscover_error("601", "Provider is not available")
        return Response(answer, media_type=_XML)
    if not _ours(request, asked.email):
        answer = clientconfig.autodiscover_error("600", "Invalid Request")
        return Response(answer, media_type=_XML)
    name = platform_of(request).settings.academie.name
    account = clientconfig.Account(asked.email.lower(), f"Messagerie – {name}")
    answer = clientconfig.autodiscover_response(servers_of(request), account)
    return Response(answer, media_type=_XML)


def _ours(request: Request, email: str) -> bool:
    local, at, domain = email.lower().rpartition("@")
    if not at or not local or any(c.isspace() or c in "<>\"'&" for c in email):
        return False
    return domain in servers_of(request).domains
