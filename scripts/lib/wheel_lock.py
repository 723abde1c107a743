"""Writes omareview/devnet/npm/package-lock.json from contracts/package-lock.json: the packages the wheel's
package.json needs, resolved the way Node resolves them, each entry copied as the repository's lock has it
(same path, version and integrity). So `omareview toolchain install` installs exactly what the checkout's
set-up installs and caches, and `npm ci` can take it offline. Run it after changing either package.json:
`python scripts/lib/wheel_lock.py`; tests/unit/test_shipped_toolchain.py fails while the two disagree."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
REPOSITORY_LOCK = ROOT / "contracts" / "package-lock.json"
SHIPPED = ROOT / "omareview" / "devnet" / "npm"


def resolve(packages: dict[str, Any], parent: str, name: str) -> str | None:
    """The lock path Node finds `name` at when `parent` (a lock path, "" for the root) requires it."""
    base = parent
    while True:
        candidate = f"{base}/node_modules/{name}" if base else f"node_modules/{name}"
        if candidate in packages:
            return candidate
        if not base:
            return None
        cut = base.rfind("/node_modules/")
        base = base[:cut] if cut >= 0 else ""


def wheel_lock(repository: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    packages = repository["packages"]
    wanted: dict[str, Any] = {}
    todo = [("", name) for name in manifest["dependencies"]]
    while todo:
        parent, name = todo.pop()
        path = resolve(packages, parent, name)
        if path is None or path in wanted:
            continue
        entry = packages[path]
        wanted[path] = entry
        needs = {**entry.get("dependencies", {}), **entry.get("optionalDependencies", {})}
        todo += [(path, dependency) for dependency in needs]
    root = {
        "name": manifest["name"],
        "license": manifest.get("license"),
        "dependencies": manifest["dependencies"],
    }
    return {
        "name": manifest["name"],
        "lockfileVersion": repository["lockfileVersion"],
        "requires": True,
        "packages": {"": root, **dict(sorted(wanted.items()))},
    }


def main() -> int:
    repository = json.loads(REPOSITORY_LOCK.read_text())
    manifest = json.loads((SHIPPED / "package.json").read_text())
    lock = wheel_lock(repository, manifest)
    (SHIPPED / "package-lock.json").write_text(json.dumps(lock, indent=2) + "\n")
    print(f"wrote {SHIPPED / 'package-lock.json'}: {len(lock['packages']) - 1} packages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
