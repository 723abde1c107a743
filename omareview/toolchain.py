"""Finds the programs and data omareview takes from the pinned npm toolchain in `contracts/`.

`OMAREVIEW_TOOLCHAIN` names a folder holding `node_modules` (by default the repository's `contracts/`,
then `$OMAREVIEW_HOME/toolchain`); `OMAREVIEW_ANVIL` names an Anvil binary outright.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from omareview.errors import ToolchainError
from omareview.home import home_dir

EAS_CONTRACTS_PACKAGE = "@ethereum-attestation-service/eas-contracts"
INSTALL_HINT = "run `npm ci` in the repository's contracts/ folder (scripts/test and scripts/demo do it)"


def toolchain_dir() -> Path | None:
    """The folder whose `node_modules` holds the pinned toolchain, if one is installed."""
    configured = os.environ.get("OMAREVIEW_TOOLCHAIN")
    if configured:
        return Path(configured).expanduser()
    candidates = [Path(__file__).resolve().parent.parent / "contracts", home_dir() / "toolchain"]
    return next((c for c in candidates if (c / "node_modules").is_dir()), None)


def find_anvil() -> str:
    """Path of the Anvil binary: `$OMAREVIEW_ANVIL`, then `PATH`, then the pinned toolchain."""
    configured = os.environ.get("OMAREVIEW_ANVIL")
    if configured:
        if shutil.which(configured) is None:
            raise ToolchainError(f"OMAREVIEW_ANVIL is {configured!r}, which is not an executable; fix or unset it")
        return configured
    on_path = shutil.which("anvil")
    if on_path:
        return on_path
    root = toolchain_dir()
    if root is not None:
        for binary in sorted((root / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")):
            if os.access(binary, os.X_OK):
                return str(binary)
    raise ToolchainError(
        f"Anvil is not installed: {INSTALL_HINT}, install Foundry, or set OMAREVIEW_ANVIL to an anvil binary"
    )


@cache
def eas_artifact(contract: str) -> dict[str, Any]:
    """The hardhat artifact (`abi`, `bytecode`) of an eas-contracts contract, e.g. `EAS` or `SchemaRegistry`."""
    root = toolchain_dir()
    path = (
        root
        / "node_modules"
        / EAS_CONTRACTS_PACKAGE
        / "artifacts"
        / "contracts"
        / f"{contract}.sol"
        / f"{contract}.json"
        if root is not None
        else None
    )
    if path is None or not path.is_file():
        raise ToolchainError(f"the EAS contract artifacts ({EAS_CONTRACTS_PACKAGE}) are not installed: {INSTALL_HINT}")
    artifact: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return artifact


@cache
def project_artifact(contract: str) -> dict[str, Any]:
    """A contract of omareview's own (`contracts/src`), compiled by `contracts/build.mjs` on first use."""
    root = toolchain_dir()
    if root is None:
        raise ToolchainError(f"the project's contracts are not built: {INSTALL_HINT}")
    path = root / "build" / f"{contract}.json"
    if not path.is_file():
        script = root / "build.mjs"
        node = shutil.which("node")
        if not script.is_file() or node is None:
            raise ToolchainError(f"{path} is missing and cannot be built here (needs node and contracts/build.mjs)")
        built = subprocess.run([node, str(script)], cwd=root, capture_output=True, text=True, check=False)
        if built.returncode != 0 or not path.is_file():
            raise ToolchainError(f"building the project's contracts failed: {built.stderr.strip()[:300]}")
    artifact: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return artifact
