"""The `omareview` command: a thin layer over the library."""

from omareview.cli.app import main

__all__ = ["main"]
