"""The captcha's picture and sound: ``/assistance/captcha/{id}.png`` and ``.wav``.

Security posture: anonymous. The id is 128 random bits and names a challenge that
lives 10 minutes and is used up at the first answer; the answer never appears in
the page, the URL or the ``alt`` text. The sound costs CPU (about 0.3 s), so it is
limited per IP address by the recovery service (429 beyond).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import PlainTextResponse, Response

from academail.core.errors import AcademailError
from academail.web.requests import client_ip, platform_of
from academail.web.selfservice.common import status_of

__all__ = ["router"]

router = APIRouter()


@router.get("/assistance/captcha/{challenge_id}.png")
async def image(request: Request, challenge_id: str) -> Response:
    try:
        data = await platform_of(request).recovery.captcha_image(challenge_id)
    except AcademailError as exc:
        return PlainTextResponse(exc.message, status_code=status_of(exc))
    return Response(data, media_type="image/png")


@router.get("/assistance/captcha/{challenge_id}.wav")
async def sound(request: Request, challenge_id: str) -> Response:
    try:
        data = await platform_of(request).recovery.captcha_audio(challenge_id, client_ip(request))
    except AcademailError as exc:
        return PlainTextResponse(exc.message, status_code=status_of(exc))
    return Response(data, media_type="audio/wav")
