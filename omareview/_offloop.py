"""Running blocking work off the event loop, for the async faces of the index, the EAS client, the gate and
the submitter.

An async face mirrors its sync object one for one: each method is `async_face(Sync.method, via)`, with the
sync method's own signature, so the two cannot drift (a test compares every pair). asyncio is imported only
when a coroutine runs: it costs a command that never awaits anything ~25 ms of start-up.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

__all__ = ["async_face", "off_loop"]

P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S")


async def off_loop(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`function(*args, **kwargs)` in a worker thread, awaited."""
    import asyncio

    return await asyncio.to_thread(function, *args, **kwargs)


def async_face(
    method: Callable[Concatenate[S, P], T], via: str
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]:
    """The async face of the sync `method`: the same parameters (its signature is the method's), the call run
    in a worker thread on the sync object the async one holds as its attribute `via`."""
    name = method.__name__

    @functools.wraps(method)
    async def face(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        bound: Callable[P, T] = getattr(getattr(self, via), name)
        return await off_loop(bound, *args, **kwargs)

    return face
