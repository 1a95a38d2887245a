"""The one way to run blocking or CPU-heavy work off the event loop.

argon2, PDF rendering, large parsing and fsync go through :func:`off_loop` so the
loop keeps serving other connections (style.md §10). argon2 and zlib release the
GIL, so the default thread pool gives real parallelism for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["off_loop"]

P = ParamSpec("P")
T = TypeVar("T")


async def off_loop(func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Runs ``func`` in a worker thread and awaits its result."""
    return await asyncio.to_thread(func, *args, **kwargs)
