"""A user who installs the wheel, not the checkout, gets the same product: the devnet starts from there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = ROOT / ".wheelhouse"

pytestmark = [pytest.mark.wheel, pytest.mark.devnet]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet"),
            *("--wheel-dir", str(out), str(ROOT)),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("omareview-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv outside the checkout with only the wheel (and its dependencies) installed, from the
    wheelhouse set-up collected: no registry is asked during the test."""
    assert WHEELHOUSE.is_dir(), "no .wheelhouse/: scripts/test collects the dependencies there"
    venv = tmp_path_factory.mktemp("venv")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [
            *(str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
            *("--no-index", "--find-links", str(WHEELHOUSE), str(wheel)),
        ],
        check=True,
        capture_output=True,
        timeout=900,
    )
    yield venv


def test_the_wheel_carries_the_data_the_devnet_needs(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "omareview/__init__.pyi",
        "omareview/devnet/artifacts/TestUSDC.json",
        "omareview/devnet/npm/package.json",
        "omareview/devnet/npm/package-lock.json",
        "omareview/_schemas/omatrust-eas.json",
        "omareview/serve/templates/reviews.html",
    ):
        assert needed in names, f"the wheel lacks {needed}"


def _run(venv: Path, home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMAREVIEW_", "VIRTUAL_ENV"))}
    # npm takes the toolchain from its cache (filled when set-up installed contracts/): no registry is asked.
    env.update(OMAREVIEW_HOME=str(home), PATH=f"{venv / 'bin'}:{env.get('PATH', '')}", npm_config_offline="true")
    return subprocess.run(
        [str(venv / "bin" / "omareview"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=home,
        timeout=timeout,
        check=False,
    )


def test_a_pip_user_installs_the_toolchain_and_starts_a_devnet(installed: Path, wheel: Path, tmp_path: Path) -> None:
    home = tmp_path / "pip-user-home"
    home.mkdir()
    located = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import omareview; print(omareview.__file__)"],
        capture_output=True,
        text=True,
        cwd=home,
        check=True,
    )
    assert not located.stdout.startswith(str(ROOT)), "the test must run the installed wheel, not the checkout"

    # The base install reads, verifies, submits and serves without web3: only the devnet needs it.
    assert subprocess.run([str(installed / "bin" / "python"), "-c", "import web3"], capture_output=True).returncode
    subject = _run(installed, home, "subject", "https://api.example.com/x", "--json")
    assert subject.returncode == 0 and json.loads(subject.stdout)["did"] == "did:web:api.example.com"
    without = _run(installed, home, "devnet", "up", "--detach")
    assert without.returncode == 3 and without.stderr.strip() == (
        "error: the devnet needs the `devnet` extra (web3 is missing): pip install 'omareview[devnet]'"
    ), without.stderr
    extra = subprocess.run(
        [
            *(str(installed / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
            *("--no-index", "--find-links", str(WHEELHOUSE), f"omareview[devnet] @ {wheel.as_uri()}"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert extra.returncode == 0, extra.stderr

    missing = _run(installed, home, "devnet", "up", "--detach")
    if missing.returncode != 0:
        # No toolchain on PATH: the one-line error says the one command that fixes it.
        assert missing.returncode == 3
        assert missing.stderr.strip().endswith("run `omareview toolchain install`"), missing.stderr
    install = _run(installed, home, "toolchain", "install", "--json", timeout=900)
    assert install.returncode == 0, install.stderr
    assert json.loads(install.stdout)["path"] == str(home / "toolchain")
    again = _run(installed, home, "toolchain", "install")
    assert again.returncode == 0 and "already installed" in again.stderr

    up = _run(installed, home, "devnet", "up", "--detach", "--json")
    try:
        assert up.returncode == 0, up.stderr
        state = json.loads(up.stdout)
        assert state["chainId"] == 31337
        assert state["schemas"]["user-review"] == "0x7ab3911527e5e47eaab9f5a2c571060026532dde8cb4398185553053963b2a47"
        assert state["tokenAddress"].startswith("0x")
        status = _run(installed, home, "devnet", "status", "--json")
        assert json.loads(status.stdout)["answering"] is True
        serve = _run(installed, home, "serve")
        assert serve.returncode == 3, "the provider needs its extra, and says which"
        assert serve.stderr.strip() == (
            "error: serving needs the `serve` extra (starlette is missing): pip install 'omareview[serve]'"
        ), serve.stderr
    finally:
        down = _run(installed, home, "devnet", "down")
    assert down.returncode == 0, down.stderr
