"""The programs and data the devnet takes from the pinned npm toolchain, and its installation.

Where the toolchain is looked for: `OMAREVIEW_TOOLCHAIN` (a folder holding `node_modules`), then a source
checkout's `contracts/`, then `$OMAREVIEW_HOME/toolchain`, where `install_toolchain()` puts it from the
`package.json` and lock shipped inside this package. `OMAREVIEW_ANVIL` names an Anvil binary outright.
omareview's own contracts (the test token) ship compiled in `artifacts/`, so no compiler is needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

from omareview._home import home_dir
from omareview._json import JsonObject
from omareview.errors import ToolchainError

__all__ = [
    "EAS_CONTRACTS_PACKAGE",
    "eas_artifact",
    "find_anvil",
    "install_toolchain",
    "installed_toolchain",
    "project_artifact",
    "toolchain_dir",
]

EAS_CONTRACTS_PACKAGE = "@ethereum-attestation-service/eas-contracts"
_HERE = Path(__file__).resolve().parent
_SHIPPED_NPM = _HERE / "npm"
_ARTIFACTS = _HERE / "artifacts"
_CHECKOUT_CONTRACTS = _HERE.parents[1] / "contracts"
_STAMP = ".omareview-toolchain"
_NPM_TIMEOUT_S = 900


def _home_toolchain(home: Path | None = None) -> Path:
    return (home or home_dir()) / "toolchain"


def toolchain_dir(home: Path | None = None) -> Path | None:
    """The folder whose `node_modules` holds the pinned toolchain, if one is installed."""
    configured = os.environ.get("OMAREVIEW_TOOLCHAIN")
    if configured:
        return Path(configured).expanduser()
    candidates = [_CHECKOUT_CONTRACTS, _home_toolchain(home)]
    return next((c for c in candidates if (c / "node_modules").is_dir()), None)


def _lock_fingerprint() -> str:
    return hashlib.sha256((_SHIPPED_NPM / "package-lock.json").read_bytes()).hexdigest()[:16]


def installed_toolchain(home: Path | None = None) -> Path | None:
    """`$OMAREVIEW_HOME/toolchain` when it holds the toolchain this version of omareview pins, else None."""
    target = _home_toolchain(home)
    try:
        installed = (target / "node_modules" / _STAMP).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return target if installed == _lock_fingerprint() else None


#: How often a running `npm ci` is reported, so a person sees it is still working.
_TICK_S = 5.0


def install_toolchain(home: Path | None = None, progress: Callable[[str], None] = lambda _: None) -> Path:
    """Install the pinned npm toolchain (Anvil, the EAS artifacts) under `$OMAREVIEW_HOME/toolchain`.

    Idempotent: a toolchain installed from the same lock is left as it is. Needs Node.js and npm.
    """
    current = installed_toolchain(home)
    if current is not None:
        progress(f"the pinned toolchain is already installed in {current}")
        return current
    npm = shutil.which("npm")
    if npm is None:
        raise ToolchainError("npm is not installed; install Node.js 20 or newer with npm", reason="npm-missing")
    target = _home_toolchain(home)
    target.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(_SHIPPED_NPM / name, target / name)
    progress(f"installing Anvil and the EAS contract artifacts into {target} with npm ci (about 20 s)")
    # `npm ci`: exactly the shipped lock, which lists every platform's optional Anvil build and is the
    # checkout's own lock cut down to these packages, so a cache the checkout's set-up filled serves it.
    with subprocess.Popen(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=target,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as npm_ci:
        started = time.monotonic()
        while True:
            try:
                _, stderr = npm_ci.communicate(timeout=_TICK_S)
                break
            except subprocess.TimeoutExpired:
                waited = time.monotonic() - started
                if waited > _NPM_TIMEOUT_S:
                    npm_ci.kill()
                    raise ToolchainError(f"npm ci did not finish in {_NPM_TIMEOUT_S} s", reason="npm-failed") from None
                progress(f"npm ci still running ({waited:.0f} s)")
    if npm_ci.returncode != 0:
        raise ToolchainError(f"npm ci failed in {target}: {_npm_error(stderr)}", reason="npm-failed")
    progress("checking the installed Anvil")
    if not any(os.access(b, os.X_OK) for b in (target / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")):
        raise ToolchainError(f"npm ci installed no Anvil build for this platform in {target}", reason="npm-failed")
    (target / "node_modules" / _STAMP).write_text(_lock_fingerprint() + "\n", encoding="utf-8")
    progress("toolchain installed")
    return target


def _npm_error(stderr: str) -> str:
    """npm's own error lines (`npm error …`), without the pointer to its log file, on one line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [
        line.removeprefix("npm error").removeprefix("npm ERR!").strip()
        for line in lines
        if line.startswith(("npm error", "npm ERR!"))
    ]
    kept = [line for line in errors if line and not line.startswith(("A complete log", "/"))] or lines[-3:]
    return "; ".join(kept)[:600] or "no output"


def _missing(what: str) -> ToolchainError:
    return ToolchainError(f"{what} is not installed (the pinned npm toolchain is missing)", reason="toolchain-missing")


def find_anvil() -> str:
    """Path of the Anvil binary: `$OMAREVIEW_ANVIL`, then `PATH`, then the pinned toolchain."""
    configured = os.environ.get("OMAREVIEW_ANVIL")
    if configured:
        if shutil.which(configured) is None:
            raise ToolchainError(
                f"OMAREVIEW_ANVIL is {configured!r}, which is not an executable; fix or unset it", reason="bad-anvil"
            )
        return configured
    on_path = shutil.which("anvil")
    if on_path:
        return on_path
    root = toolchain_dir()
    if root is not None:
        for binary in sorted((root / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")):
            if os.access(binary, os.X_OK):
                return str(binary)
    raise _missing("Anvil")


def _read_json(path: Path) -> JsonObject:
    artifact: JsonObject = json.loads(path.read_text(encoding="utf-8"))
    return artifact


@cache
def eas_artifact(contract: str) -> JsonObject:
    """The hardhat artifact (`abi`, `bytecode`) of an eas-contracts contract, e.g. `EAS` or `SchemaRegistry`."""
    root = toolchain_dir()
    if root is not None:
        path = root / "node_modules" / EAS_CONTRACTS_PACKAGE / "artifacts" / "contracts" / f"{contract}.sol"
        if (path / f"{contract}.json").is_file():
            return _read_json(path / f"{contract}.json")
    raise _missing(f"the EAS contract artifacts ({EAS_CONTRACTS_PACKAGE})")


@cache
def project_artifact(contract: str) -> JsonObject:
    """A contract of omareview's own (`contracts/src`), as compiled into the package by `contracts/build.mjs`."""
    path = _ARTIFACTS / f"{contract}.json"
    if not path.is_file():
        raise ToolchainError(f"omareview ships no compiled contract named {contract!r}", reason="no-artifact")
    return _read_json(path)
