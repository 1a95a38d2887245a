"""The administration console (grows in later issues): the demo outbox, captured mail."""

from fastapi import APIRouter

from academail.web.console import captured, outbox

__all__ = ["router"]

router = APIRouter()
router.include_router(outbox.router)
router.include_router(captured.router)
