"""Fixtures: an isolated OMAREVIEW_HOME per test, and one real devnet (Anvil + EAS) per session."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from web3 import Web3

from omareview._devnet_state import network_of
from omareview.devnet.node import Devnet, start_devnet
from omareview.eas.client import reset_nonce_tracking
from omareview.networks import Network
from omareview.signers import Signer, signer_from_key
from tests.helpers import revert_chain
from tests.servers import dns_server

pytest_plugins = ["tests.provider_world"]

SEAL = Path(__file__).parent / "seal"
_STUB = ExitStack()


def pytest_unconfigure(config: pytest.Config) -> None:
    _STUB.close()


def pytest_configure(config: pytest.Config) -> None:
    """Seal the suite: this process and every Python subprocess refuse DNS and connections off loopback."""
    log = Path(tempfile.mkdtemp(prefix="omareview-seal-")) / "escapes.log"
    log.touch()
    os.environ["OMAREVIEW_SEAL_LOG"] = str(log)
    # Every name a fixture mentions resolves through a loopback DNS stub (NXDOMAIN unless a test serves
    # its own), never through the system resolver.
    os.environ["OMAREVIEW_DNS_SERVER"] = _STUB.enter_context(dns_server({}))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SEAL), os.environ.get("PYTHONPATH")]))
    sys.path.insert(0, str(SEAL))
    import sitecustomize

    if getattr(sitecustomize, "__file__", "").startswith(str(SEAL)):
        sitecustomize.install()
    else:  # another sitecustomize was imported first: load ours by path
        import importlib.util

        spec = importlib.util.spec_from_file_location("omareview_seal", SEAL / "sitecustomize.py")
        assert spec is not None and spec.loader is not None
        seal = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(seal)
        seal.install()


@pytest.fixture(autouse=True)
def _sealed() -> Iterator[None]:
    """Fail the test when it, or anything it started, tried to leave loopback."""
    log = Path(os.environ["OMAREVIEW_SEAL_LOG"])
    before = log.stat().st_size
    yield
    with log.open(encoding="utf-8") as handle:
        handle.seek(before)
        escapes = handle.read().strip()
    assert not escapes, f"the test tried to leave loopback:\n{escapes}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the session devnet is marked `devnet`, so `-m "not devnet"` runs without Anvil."""
    for item in items:
        if "devnet" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.devnet)


@pytest.fixture(autouse=True)
def _chain_isolation(request: pytest.FixtureRequest) -> None:
    """In modules marked `chain_isolated`, a test that uses the devnet has its chain changes undone; a test
    that does not use it starts no Anvil."""
    if request.node.get_closest_marker("chain_isolated") and "devnet" in request.fixturenames:
        request.getfixturevalue("isolated_chain")


@pytest.fixture(autouse=True)
def omareview_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own state folder, so none touches ~/.omareview or another test's devnet."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("OMAREVIEW_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def devnet_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("devnet-home")


@pytest.fixture(scope="session")
def devnet(devnet_home: Path) -> Iterator[Devnet]:
    """One devnet for the whole session, started through the same module `devnet up` uses."""
    with start_devnet(home=devnet_home) as running:
        yield running


@pytest.fixture
def use_devnet(devnet: Devnet, devnet_home: Path, monkeypatch: pytest.MonkeyPatch) -> Devnet:
    """Point OMAREVIEW_HOME at the session devnet, so CLI commands run in this test find it."""
    monkeypatch.setenv("OMAREVIEW_HOME", str(devnet_home))
    return devnet


@pytest.fixture
def w3(devnet: Devnet) -> Web3:
    return Web3(Web3.HTTPProvider(devnet.state.rpc_url))


@pytest.fixture
def isolated_chain(w3: Web3) -> Iterator[Web3]:
    """Whatever the test does to the chain is undone afterwards (evm_snapshot / evm_revert)."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    yield w3
    reverted = revert_chain(lambda method, params: w3.provider.make_request(method, params)["result"], snapshot)
    reset_nonce_tracking()
    assert reverted, "evm_revert failed: the snapshot was lost"


@pytest.fixture
def network(devnet: Devnet) -> Network:
    return network_of(devnet.state)


@pytest.fixture
def dev_signer(devnet: Devnet) -> Callable[[int], Signer]:
    return lambda index: signer_from_key(devnet.state.accounts[index].private_key.get_secret_value())


@pytest.fixture
def devnet_key(devnet: Devnet) -> Callable[[int], str]:
    """A dev account's key, for handing to the reference packages in node."""
    return lambda index: devnet.state.accounts[index].private_key.get_secret_value()


@pytest.fixture
def cli_env(use_devnet: Devnet, tmp_path: Path) -> dict[str, str]:
    """Environment for CLI subprocesses: a private OMAREVIEW_HOME (own outbox and index) that knows the
    session devnet."""
    home = tmp_path / "cli-home"
    (home / "devnet").mkdir(parents=True)
    (home / "devnet" / "state.json").write_text(use_devnet.state.model_dump_json(by_alias=True))
    return {"OMAREVIEW_HOME": str(home)}


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """One throwaway PostgreSQL cluster for the session; its `postgres` database URL."""
    from tests.postgres import postgres_cluster

    with postgres_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """Runs a test once per storage engine: the embedded SQLite index, then a fresh PostgreSQL database
    (through `$OMAREVIEW_STORE`, so every index the test opens, in-process or in a subprocess, uses it)."""
    if request.param == "sqlite":
        monkeypatch.delenv("OMAREVIEW_STORE", raising=False)
        return None
    from tests.postgres import fresh_database

    url = fresh_database(request.getfixturevalue("postgres"))
    monkeypatch.setenv("OMAREVIEW_STORE", url)
    return url
