"""The embedded devnet: Anvil on loopback with EAS deployed and every OMATrust schema registered.

Its state (pid, RPC URL, addresses, schema UIDs, dev accounts) is written to the state file
(`omareview._devnet_state`) so that every other command can find it.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from omareview._devnet_state import (
    WITNESS_ACCOUNT,
    DevAccount,
    DevnetState,
    process_alive,
    read_state,
    state_file,
    write_state,
)
from omareview._files import make_private
from omareview.devnet.toolchain import find_anvil
from omareview.eas.rpc import RpcClient
from omareview.errors import ChainError, DevnetError, OmaReviewError, ToolchainError
from omareview.schemas import all_schemas

__all__ = [
    "DEVNET_CHAIN_ID",
    "LOOPBACK",
    "READY_TIMEOUT_S",
    "STOP_TIMEOUT_S",
    "Devnet",
    "Progress",
    "require_deployer",
    "start_devnet",
    "stop_devnet",
]

DEVNET_CHAIN_ID = 31337
LOOPBACK = "127.0.0.1"
READY_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0

Progress = Callable[[str], None]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError as exc:
            raise DevnetError(
                f"port {port} on {LOOPBACK} is already in use",
                reason="port-in-use",
            ) from exc


def _log_tail(log_file: Path, lines: int = 5) -> str:
    with contextlib.suppress(OSError):
        tail = [line.strip() for line in log_file.read_text(errors="replace").splitlines() if line.strip()]
        return " | ".join(tail[-lines:])
    return ""


def _wait_ready(process: subprocess.Popen[bytes], rpc_url: str, log_file: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    rpc = RpcClient(rpc_url, timeout_s=1.0)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DevnetError(
                f"Anvil exited with code {process.returncode} at start: {_log_tail(log_file)}", reason="devnet-failed"
            )
        with contextlib.suppress(ChainError):
            rpc.chain_id()
            return
        time.sleep(0.05)
    raise DevnetError(f"Anvil did not answer at {rpc_url} within {READY_TIMEOUT_S:.0f} s", reason="devnet-failed")


def _exited_within(process: subprocess.Popen[bytes], seconds: float) -> bool:
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Devnet:
    """A devnet this process started; `stop()` (or leaving the `with` block) ends it and clears its state.

    Parameters:
        state: the running devnet's recorded state.
        process: the Anvil process.
        home: the omareview home holding the state (None: `$OMAREVIEW_HOME`).
    """

    def __init__(self, state: DevnetState, process: subprocess.Popen[bytes], home: Path | None) -> None:
        self.state = state
        self.process = process
        self._home = home

    def __enter__(self) -> Devnet:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def wait(self) -> int:
        """Block until Anvil exits (foreground mode)."""
        return self.process.wait()

    def stop(self) -> None:
        _terminate(self.process)
        current = state_file(self._home)
        with contextlib.suppress(OSError, ValidationError):
            if DevnetState.model_validate_json(current.read_text()).pid == self.state.pid:
                current.unlink()


#: What deploying the devnet's contracts imports: the `devnet` extra.
_DEPLOYER_MODULES = ("web3", "hexbytes")


def require_deployer() -> None:
    """Raise ToolchainError (`devnet-extra-missing`) unless the `devnet` extra is installed."""
    missing = next((name for name in _DEPLOYER_MODULES if importlib.util.find_spec(name) is None), None)
    if missing is not None:
        raise ToolchainError(
            f"the devnet needs the `devnet` extra ({missing} is missing): pip install 'omareview[devnet]'",
            reason="devnet-extra-missing",
        )


def start_devnet(
    *,
    port: int | None = None,
    home: Path | None = None,
    detach: bool = False,
    progress: Progress = lambda _: None,
    anvil_args: Sequence[str] = (),
) -> Devnet:
    """Start Anvil, deploy EAS, register the OMATrust schemas, and record the state.

    Nothing is left behind on failure: Anvil is stopped and no state is written. Two starts for one home
    never both run: the second waits for the first's lock, then finds its devnet. Needs the `devnet` extra
    (web3 deploys the contracts), which the rest of omareview does without.
    """
    require_deployer()
    folder = state_file(home).parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with (folder / "start.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _start_locked(port=port, home=home, detach=detach, progress=progress, anvil_args=anvil_args)


def _start_locked(
    *, port: int | None, home: Path | None, detach: bool, progress: Progress, anvil_args: Sequence[str]
) -> Devnet:
    running = read_state(home)
    if running is not None:
        raise DevnetError(
            f"a devnet is already running at {running.rpc_url} (pid {running.pid})", reason="devnet-running"
        )
    anvil = find_anvil()
    if port is None:
        port = _free_port()
    else:
        _check_port_free(port)
    folder = state_file(home).parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    make_private(folder)
    log_file = folder / "anvil.log"
    accounts_file = folder / "anvil-accounts.json"
    accounts_file.unlink(missing_ok=True)
    rpc_url = f"http://{LOOPBACK}:{port}"
    command = [anvil, "--host", LOOPBACK, "--port", str(port), "--chain-id", str(DEVNET_CHAIN_ID)]
    command += ["--config-out", str(accounts_file), *anvil_args]
    progress(f"starting Anvil on {rpc_url}")
    log_file.touch(mode=0o600)
    make_private(log_file)
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    try:
        _wait_ready(process, rpc_url, log_file)
        state = _deploy_and_describe(process, rpc_url, accounts_file, log_file, detach, progress)
    except BaseException as exc:
        anvil_died = _exited_within(process, 0.5)
        _terminate(process)
        if isinstance(exc, OmaReviewError) or not isinstance(exc, Exception):
            raise
        if anvil_died:
            raise DevnetError(
                f"Anvil exited while deploying EAS; log: {_log_tail(log_file)}", reason="devnet-failed"
            ) from exc
        raise DevnetError(f"deploying EAS on the devnet failed: {exc}", reason="devnet-failed") from exc
    finally:
        accounts_file.unlink(missing_ok=True)
    write_state(state, home)
    return Devnet(state, process, home)


def _deploy_and_describe(
    process: subprocess.Popen[bytes],
    rpc_url: str,
    accounts_file: Path,
    log_file: Path,
    detach: bool,
    progress: Progress,
) -> DevnetState:
    from web3 import Web3

    from omareview.devnet.deploy import deploy_eas, deploy_test_token, register_schemas

    config = json.loads(accounts_file.read_text(encoding="utf-8"))
    accounts = [
        DevAccount(address=Web3.to_checksum_address(address), private_key=SecretStr(key))
        for address, key in zip(config["available_accounts"], config["private_keys"], strict=True)
    ]
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 30}))
    deployer = Web3.to_checksum_address(accounts[0].address)
    deployment = deploy_eas(w3, deployer, progress)
    schemas = register_schemas(w3, deployment.schema_registry, deployer, all_schemas(), progress)
    holders = [Web3.to_checksum_address(account.address) for account in accounts]
    token = deploy_test_token(w3, deployer, holders, progress)
    if process.poll() is not None:
        raise DevnetError(f"Anvil exited during deployment: {_log_tail(log_file)}", reason="devnet-failed")
    anchors = accounts_file.parent / "trust-anchors.json"
    anchors.write_text(json.dumps(_trust_anchors(deployment.eas, schemas, accounts[WITNESS_ACCOUNT].address), indent=2))
    return DevnetState(
        pid=process.pid,
        rpc_url=rpc_url,
        chain_id=DEVNET_CHAIN_ID,
        eas_address=deployment.eas,
        schema_registry_address=deployment.schema_registry,
        indexer_address=deployment.indexer,
        token_address=token,
        deployment_block=deployment.block_number,
        schemas=schemas,
        accounts=accounts,
        log_file=str(log_file),
        started_at=int(time.time()),
        detached=detach,
        trust_anchors=str(anchors),
    )


def _trust_anchors(eas: str, schemas: dict[str, str], witness: str) -> dict[str, Any]:
    """The devnet's own trust-anchors document, in OMATrust's shape: its chain, and one approved witness
    issuer (a dev account that `omareview devnet witness` attests with)."""
    return {
        "version": 1,
        "updatedAt": int(time.time()),
        "chains": {f"eip155:{DEVNET_CHAIN_ID}": {"name": "omareview devnet", "easContract": eas, "schemas": schemas}},
        "registries": [
            {
                "type": "approved-issuers",
                "issuers": [
                    {
                        "address": witness,
                        "label": "omareview devnet witness",
                        "schemas": ["controller-witness"],
                        "status": "active",
                        "validFrom": 0,
                    }
                ],
            }
        ],
    }


def stop_devnet(home: Path | None = None) -> DevnetState | None:
    """Stop the recorded devnet, whoever started it. Returns what was stopped, or None if nothing ran."""
    state = read_state(home)
    if state is None:
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while process_alive(state.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if process_alive(state.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(state.pid, signal.SIGKILL)
    state_file(home).unlink(missing_ok=True)
    return state
