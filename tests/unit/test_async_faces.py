"""Each async face mirrors its sync object one for one: every public method of the sync class has an async
method of the same name and signature (parameters, defaults, annotations), except the few that do no I/O,
listed here with the sync attribute to use instead."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from omareview.eas.client import AsyncEasClient, EasClient
from omareview.gate.decide import AsyncGate, Gate
from omareview.hooks.submitter import AsyncSubmitter, Submitter
from omareview.index.query import AsyncReviewIndex, ReviewIndex

PAIRS = [(EasClient, AsyncEasClient), (ReviewIndex, AsyncReviewIndex), (Gate, AsyncGate), (Submitter, AsyncSubmitter)]
#: Methods without I/O, left sync (reached through the async face's `client` / `gate`).
NO_IO = {"EasClient": {"sender", "uids_in"}, "Gate": {"last_decision"}}


@pytest.mark.parametrize(("sync", "face"), PAIRS, ids=[face.__name__ for _, face in PAIRS])
def test_every_sync_method_has_an_async_twin_with_its_signature(sync: type, face: type) -> None:
    public = {name for name, _ in inspect.getmembers(sync, inspect.isfunction) if not name.startswith("_")}
    mirrored = public - NO_IO.get(sync.__name__, set())
    assert mirrored, sync
    for name in sorted(mirrored):
        twin = getattr(face, name, None)
        assert twin is not None, f"{face.__name__} lacks {name}"
        assert inspect.iscoroutinefunction(twin), f"{face.__name__}.{name} is not async"
        assert inspect.signature(twin) == inspect.signature(getattr(sync, name)), f"{face.__name__}.{name} drifted"


def test_a_face_runs_the_sync_method_off_the_loop_with_its_arguments() -> None:
    import threading

    class Probe:
        def reviews(self, subject: str, *, limit: int | None = None) -> tuple[str, int | None, str]:
            return subject, limit, threading.current_thread().name

    from omareview._offloop import async_face

    class AsyncProbe:
        def __init__(self, probe: Probe) -> None:
            self.probe = probe

        reviews = async_face(Probe.reviews, "probe")

    subject, limit, thread = asyncio.run(AsyncProbe(Probe()).reviews("did:web:x", limit=3))
    assert (subject, limit) == ("did:web:x", 3) and thread != threading.main_thread().name
