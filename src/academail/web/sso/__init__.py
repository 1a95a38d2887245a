"""Single sign-on pages: the OpenID Connect provider and the CAS 3.0 server."""

from fastapi import APIRouter

from academail.web.sso import cas, oidc

__all__ = ["router"]

router = APIRouter()
router.include_router(oidc.router)
router.include_router(cas.router)
