"""Web pages: "My account" (``/compte``): password, recovery data, OTP, application
passwords, sessions and devices. Each module adds its routes to ``router``."""

from fastapi import APIRouter

from academail.web.account import app_passwords, otp, overview, password, recovery, sessions

__all__ = ["router"]

router = APIRouter()
router.include_router(overview.router)
router.include_router(password.router)
router.include_router(recovery.router)
router.include_router(otp.router)
router.include_router(app_passwords.router)
router.include_router(sessions.router)
