"""`omareview toolchain install|status`."""

from __future__ import annotations

import click

from omareview.cli.output import JSON_OPTION, emit, note
from omareview.devnet.toolchain import find_anvil, install_toolchain, toolchain_dir
from omareview.errors import ToolchainError


@click.group()
def toolchain() -> None:
    """The pinned npm toolchain the devnet runs on (Anvil, the EAS contract artifacts)."""


@toolchain.command()
@JSON_OPTION
def install(as_json: bool) -> None:
    """Install the pinned toolchain under $OMAREVIEW_HOME/toolchain (needs Node.js and npm; idempotent)."""
    path = install_toolchain(progress=lambda step: None if as_json else note(f"… {step}"))
    emit({"installed": True, "path": str(path)}, as_json, lambda: [f"toolchain ready in {path}"])


@toolchain.command()
@JSON_OPTION
def status(as_json: bool) -> None:
    """Say where the toolchain is and which Anvil the devnet would run."""
    root = toolchain_dir()
    try:
        anvil: str | None = find_anvil()
    except ToolchainError:
        anvil = None
    data = {"installed": root is not None, "path": str(root) if root else None, "anvil": anvil}
    emit(
        data,
        as_json,
        lambda: [
            f"toolchain: {root or 'not installed (omareview toolchain install)'}",
            f"anvil: {anvil or 'not found'}",
        ],
    )
