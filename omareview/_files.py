"""Reading input files safely and keeping state files private.

An input path may name a device, a FIFO or a huge file (`/dev/zero` would be read forever): only regular
files are read, and never more than the bound. omareview's home, outbox, index and logs hold receipts,
payments and dev keys, so they are created readable by their owner only.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from omareview.errors import InputError

__all__ = ["PRIVATE_DIR_MODE", "PRIVATE_FILE_MODE", "human_size", "make_private", "read_regular"]

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def human_size(count: int) -> str:
    """`8 MiB`, `64 KiB` or `300 bytes`: a bound as a person reads it."""
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if count >= size and count % size == 0:
            return f"{count // size} {unit}"
    return f"{count} bytes"


def read_regular(path: Path, max_bytes: int, what: str | None = None) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; InputError (reason `unreadable-file`) otherwise."""
    name = what or str(path)
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise InputError(f"{name} is not a regular file", reason="unreadable-file")
            if info.st_size > max_bytes:
                raise InputError(f"{name} is larger than {human_size(max_bytes)}", reason="unreadable-file")
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file", reason="unreadable-file") from None
    except IsADirectoryError:
        raise InputError(f"{name} is a directory", reason="unreadable-file") from None
    except PermissionError:
        raise InputError(f"{name}: permission denied", reason="unreadable-file") from None
    except OSError as exc:
        raise InputError(
            f"{name} cannot be read ({exc.strerror or type(exc).__name__})", reason="unreadable-file"
        ) from None
    if len(data) > max_bytes:
        raise InputError(f"{name} is larger than {human_size(max_bytes)}", reason="unreadable-file")
    return data


def make_private(path: Path) -> None:
    """Owner-only permissions on a state file or folder omareview created (best effort on odd filesystems)."""
    with contextlib.suppress(OSError):
        path.chmod(PRIVATE_DIR_MODE if path.is_dir() else PRIVATE_FILE_MODE)
