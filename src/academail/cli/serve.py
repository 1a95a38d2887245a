"""``academail serve``: runs the platform (today the HTTPS portal) until Ctrl-C."""

from __future__ import annotations

import asyncio

import typer

from academail.cli.context import OUT, settings_from
from academail.runtime import serve as serve_platform

__all__ = ["serve"]


def serve(ctx: typer.Context) -> None:
    """Démarre le portail (HTTPS) sur l'adresse et le port des réglages [web]."""
    settings = settings_from(ctx)
    OUT.print(f"Portail : https://{settings.web.host}:{settings.web.port}/  (Ctrl-C pour arrêter)")
    try:
        asyncio.run(serve_platform(settings))
    except KeyboardInterrupt:
        OUT.print("Arrêt.")
