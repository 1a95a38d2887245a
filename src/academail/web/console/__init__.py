"""The administration console (grows in later issues): today the demo outbox."""

from fastapi import APIRouter

from academail.web.console import outbox

__all__ = ["router"]

router = APIRouter()
router.include_router(outbox.router)
