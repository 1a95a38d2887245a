"""What every command needs: the settings, a way to run async work, one error mapping.

The CLI's single mapping of errors (style.md §4): an
:class:`~academail.core.errors.AcademailError` is printed in French on stderr and the
command exits with status 2; a database or system error is printed as its kind only
and exits with status 1. No traceback reaches the terminal: it could carry SQL
parameters (names, dates of birth). The engines also hide parameters from their
exception text (``hide_parameters``), and the log line names the error class only.
Nothing half-done is printed as a success.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from academail.config import Settings, load_settings
from academail.core.errors import AcademailError
from academail.observability import configure_logging, get_logger
from academail.runtime import DatabaseError, Platform, open_platform

__all__ = ["ERR", "OUT", "fail", "run_async", "settings_from", "with_platform"]

T = TypeVar("T")
OUT = Console(highlight=False)
ERR = Console(stderr=True, highlight=False)
_log = get_logger("academail.cli")


def fail(message: str, code: int = 2) -> NoReturn:
    ERR.print(f"[bold red]erreur[/] : {message}")
    raise typer.Exit(code)


def settings_from(ctx: typer.Context) -> Settings:
    obj: dict[str, Any] = ctx.ensure_object(dict)
    if "settings" not in obj:
        environ = dict(os.environ)
        if obj.get("data_dir") is not None:
            environ["ACADEMAIL_DATA_DIR"] = str(obj["data_dir"])
        config: Path | None = obj.get("config")
        try:
            settings = load_settings(config, environ)
        except AcademailError as exc:
            fail(exc.message)
        configure_logging(settings.logging.level, settings.logging.json)
        obj["settings"] = settings
    result: Settings = obj["settings"]
    return result


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Runs a coroutine; maps domain errors and missing files to clear messages."""
    try:
        return asyncio.run(coro)
    except AcademailError as exc:
        fail(exc.message)
    except FileNotFoundError as exc:
        fail(str(exc))
    except DatabaseError as exc:
        cause = getattr(exc, "orig", None)
        _log.error(
            "database_error",
            error=type(exc).__name__,
            cause=type(cause).__name__ if cause is not None else "",
        )
        fail(f"erreur de base de données : {type(exc).__name__}", code=1)
    except OSError as exc:
        _log.error("system_error", error=type(exc).__name__, errno=exc.errno)
        fail(f"erreur système : {exc.strerror or type(exc).__name__}", code=1)


def with_platform(ctx: typer.Context, work: Callable[[Platform], Awaitable[T]]) -> T:
    settings = settings_from(ctx)

    async def go() -> T:
        async with open_platform(settings) as platform:
            return await work(platform)

    return run_async(go())
