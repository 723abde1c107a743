"""Naming the process that holds a claim or a lock, and telling when it is gone."""

from __future__ import annotations

import os
import socket
import uuid

__all__ = ["new_owner", "owner_is_gone"]


def new_owner() -> str:
    """An owner name: host, process and a random part (one per claimant)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_gone(owner: str) -> bool:
    """A claim held by a process of this host that no longer runs can be taken over at once."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
