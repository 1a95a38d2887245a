"""Web pages: account (routes are added to ``router`` by the modules of this package)."""

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
