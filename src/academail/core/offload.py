"""The one way to run blocking or CPU-heavy work off the event loop.

argon2, PDF rendering, large parsing and fsync go through :func:`off_loop` so the
loop keeps serving other connections (style.md §10). argon2 and zlib release the
GIL, so the default thread pool gives real parallelism for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["INLINE_BYTES", "off_loop", "off_loop_if_large"]

# Below this many bytes of input, parsing costs less than the trip to a thread
# and back (a queue, a wake-up of the worker, a wake-up of the loop: several
# system calls), so the work runs inline; above it, in a thread.
INLINE_BYTES = 32 * 1024

P = ParamSpec("P")
T = TypeVar("T")


async def off_loop(func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Runs ``func`` in a worker thread and awaits its result."""
    return await asyncio.to_thread(func, *args, **kwargs)


async def off_loop_if_large(
    size: int, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """Runs ``func`` inline when its input (``size`` bytes) is small, else in a thread."""
    if size <= INLINE_BYTES:
        return func(*args, **kwargs)
    return await asyncio.to_thread(func, *args, **kwargs)
