"""Running blocking work off the event loop, for the async faces of the index, the EAS client and the gate.

asyncio is imported only when a coroutine runs: it costs a command that never awaits anything ~25 ms of
start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["off_loop"]

T = TypeVar("T")


async def off_loop(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in a worker thread, awaited."""
    import asyncio

    return await asyncio.to_thread(function, *args)
