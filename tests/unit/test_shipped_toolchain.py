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


def test_the_shipped_lock_pins_the_repository_versions() -> None:
    repository = json.loads((ROOT / "contracts" / "package-lock.json").read_text())["packages"]
    shipped = json.loads((SHIPPED / "npm" / "package-lock.json").read_text())["packages"]
    wanted = json.loads((SHIPPED / "npm" / "package.json").read_text())["dependencies"]
    assert set(wanted) == {"@foundry-rs/anvil", "@ethereum-attestation-service/eas-contracts"}
    for name, version in wanted.items():
        key = f"node_modules/{name}"
        assert shipped[key]["version"] == repository[key]["version"] == version
        assert shipped[key]["integrity"] == repository[key]["integrity"]
