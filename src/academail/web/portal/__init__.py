"""The portal: sign-in, activation, applications."""

from fastapi import APIRouter

from academail.web.portal import activation, applications, login

__all__ = ["router"]

router = APIRouter()
router.include_router(login.router)
router.include_router(activation.router)
router.include_router(applications.router)
