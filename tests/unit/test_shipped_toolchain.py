"""What the package ships for pip users stays true to the repository: the compiled test token and the npm lock."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "omareview" / "devnet"


def test_the_shipped_test_token_is_what_the_pinned_solc_builds_from_source(tmp_path: Path) -> None:
    subprocess.run(["node", str(ROOT / "contracts" / "build.mjs"), str(tmp_path)], check=True, capture_output=True)
    fresh = json.loads((tmp_path / "TestUSDC.json").read_text())
    shipped = json.loads((SHIPPED / "artifacts" / "TestUSDC.json").read_text())
    assert fresh == shipped, "contracts/src changed: run `node contracts/build.mjs` and commit the artifact"


def test_the_shipped_lock_is_the_repository_lock_cut_down_entry_by_entry() -> None:
    """Every package the wheel's lock names stands in the repository's lock at the same path with the same
    version and integrity, so the checkout's set-up caches everything `toolchain install` asks npm for."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("wheel_lock", ROOT / "scripts" / "lib" / "wheel_lock.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    repository = json.loads((ROOT / "contracts" / "package-lock.json").read_text())
    shipped = json.loads((SHIPPED / "npm" / "package-lock.json").read_text())
    drifted = [
        path
        for path, entry in shipped["packages"].items()
        if path
        and (
            path not in repository["packages"]
            or any(entry.get(f) != repository["packages"][path].get(f) for f in ("version", "integrity", "resolved"))
        )
    ]
    assert not drifted, f"the wheel's npm lock drifted ({drifted[:5]}): run `python scripts/lib/wheel_lock.py`"
    manifest = json.loads((SHIPPED / "npm" / "package.json").read_text())
    assert shipped == generator.wheel_lock(repository, manifest), "run `python scripts/lib/wheel_lock.py`"
    anvil_builds = {p for p in shipped["packages"] if p.startswith("node_modules/@foundry-rs/anvil-")}
    assert len(anvil_builds) >= 4, "every platform's optional Anvil build is listed, so `npm ci` takes the lock"


def test_the_shipped_lock_pins_the_repository_versions() -> None:
    repository = json.loads((ROOT / "contracts" / "package-lock.json").read_text())["packages"]
    shipped = json.loads((SHIPPED / "npm" / "package-lock.json").read_text())["packages"]
    wanted = json.loads((SHIPPED / "npm" / "package.json").read_text())["dependencies"]
    assert set(wanted) == {"@foundry-rs/anvil", "@ethereum-attestation-service/eas-contracts"}
    for name, version in wanted.items():
        key = f"node_modules/{name}"
        assert shipped[key]["version"] == repository[key]["version"] == version
        assert shipped[key]["integrity"] == repository[key]["integrity"]


def test_a_failed_npm_run_shows_npm_s_own_error_lines_not_its_log_path() -> None:
    from omareview.devnet.toolchain import _npm_error

    stderr = (
        "npm error code ENOTCACHED\n"
        "npm error request to undici-types failed: cache mode is 'only-if-cached' but no cached response is available.\n"
        "npm error A complete log of this run can be found in: /root/.npm/_logs/2026-12-03-debug-0.log\n"
    )
    shown = _npm_error(stderr)
    assert "ENOTCACHED" in shown and "undici-types" in shown
    assert "A complete log" not in shown and "_logs" not in shown
