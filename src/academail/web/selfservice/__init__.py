"""Self-service pages (before sign-in): identification by NUMEN, forgotten password,
mail settings and the discovery URLs of mail clients, "it wasn't me".

Each module has its own router; this one gathers them (as ``web/portal`` does).
"""

from fastapi import APIRouter

from academail.web.selfservice import (
    captcha_media,
    discovery,
    identification,
    mail_settings,
    not_me,
    reset,
)

__all__ = ["router"]

router = APIRouter()
for _module in (captcha_media, identification, reset, mail_settings, discovery, not_me):
    router.include_router(_module.router)
