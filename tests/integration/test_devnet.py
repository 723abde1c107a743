"""The embedded devnet, against real Anvil and the real EAS bytecode."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from web3 import Web3

from omareview._devnet_state import read_state, state_file
from omareview.devnet.node import Devnet, start_devnet
from omareview.devnet.toolchain import eas_artifact
from omareview.errors import DevnetError
from omareview.schemas import all_schemas
from tests.helpers import pids_with_arg, run_cli

USER_REVIEW_UID = "0x7ab3911527e5e47eaab9f5a2c571060026532dde8cb4398185553053963b2a47"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_session_devnet_has_eas_140_and_every_schema(devnet: Devnet, w3: Web3) -> None:
    state = devnet.state
    eas = w3.eth.contract(address=Web3.to_checksum_address(state.eas_address), abi=eas_artifact("EAS")["abi"])
    assert eas.functions.version().call() == "1.4.0"
    assert eas.functions.getSchemaRegistry().call() == state.schema_registry_address
    indexer = w3.eth.contract(
        address=Web3.to_checksum_address(state.indexer_address), abi=eas_artifact("Indexer")["abi"]
    )
    assert indexer.functions.getEAS().call() == state.eas_address
    registry = w3.eth.contract(
        address=Web3.to_checksum_address(state.schema_registry_address), abi=eas_artifact("SchemaRegistry")["abi"]
    )
    for schema in all_schemas():
        uid, resolver, revocable, text = registry.functions.getSchema(bytes.fromhex(schema.uid[2:])).call()
        assert "0x" + uid.hex() == schema.uid == state.schemas[schema.name]
        assert (resolver, revocable, text) == (
            "0x0000000000000000000000000000000000000000",
            schema.revocable,
            schema.schema_string,
        )
    assert state.schemas["user-review"] == USER_REVIEW_UID
    assert w3.eth.chain_id == 31337
    assert len(state.accounts) == 10
    assert w3.eth.get_balance(Web3.to_checksum_address(state.accounts[9].address)) > 0


def test_library_code_finds_the_running_devnet_by_name(use_devnet: Devnet) -> None:
    """`resolve_network("devnet")` in library code is the devnet running for OMAREVIEW_HOME, with no CLI."""
    from omareview import resolve_network

    network = resolve_network("devnet")
    assert (network.rpc_url, network.eas_address) == (use_devnet.state.rpc_url, use_devnet.state.eas_address)
    assert network.schemas["user-review"] == USER_REVIEW_UID


@pytest.mark.parametrize("round_", [1, 2])
def test_isolated_chain_reverts_between_tests(isolated_chain: Web3, devnet: Devnet, round_: int) -> None:
    before = isolated_chain.eth.block_number
    if round_ == 1:
        test_isolated_chain_reverts_between_tests.block_seen = before  # type: ignore[attr-defined]
    else:
        assert before == test_isolated_chain_reverts_between_tests.block_seen  # type: ignore[attr-defined]
    isolated_chain.provider.make_request("anvil_mine", [5])
    assert isolated_chain.eth.block_number == before + 5


@pytest.mark.chain_isolated
def test_a_revert_more_than_300_s_after_its_snapshot_leaves_the_chain_clock_on_the_wall_clock(
    devnet: Devnet, w3: Web3
) -> None:
    """Anvil's evm_revert also rewinds its clock to the snapshot's block. Here the snapshot's block is 400 s
    old, as after a long test; revert_chain brings the clock back, so a receipt issued now is not in the
    chain's future (it would be more than the 300 s freshness window behind without it)."""
    from omareview.eas.rpc import RpcClient
    from omareview.x402 import VerifyOptions, verify_artifact
    from tests.helpers import revert_chain
    from tests.reviews import artifact, receipt_for

    def call(method: str, params: list[object]) -> object:
        return w3.provider.make_request(method, params)["result"]

    rpc = RpcClient(devnet.state.rpc_url)
    call("anvil_setTime", [int(time.time()) - 400])
    call("evm_mine", [])
    snapshot = call("evm_snapshot", [])
    call("anvil_mine", [3])
    assert revert_chain(call, snapshot)
    assert abs(rpc.next_block_time() - time.time()) < 5
    receipt = artifact(receipt_for(devnet.state.accounts[1].address))
    assert verify_artifact(receipt, VerifyOptions(authorize=False, now=rpc.next_block_time())).valid
    call("evm_mine", [])
    assert abs(int(w3.eth.get_block("latest")["timestamp"]) - time.time()) < 5


@pytest.mark.devnet
def test_cli_up_detach_status_down(omareview_home: Path) -> None:
    up = run_cli("devnet", "up", "--detach", "--json")
    assert up.code == 0, up.stderr
    data = up.json()
    try:
        assert set(data) >= {"rpcUrl", "chainId", "easAddress", "schemaRegistryAddress", "schemas", "accounts"}
        assert data["schemas"]["user-review"] == USER_REVIEW_UID
        assert data["chainId"] == 31337
        assert all(Web3.is_checksum_address(a) for a in data["accounts"])
        assert "privateKey" not in up.stdout and "ac0974bec39a17e36ba4a6b4d238ff944bacb478" not in up.stdout
        assert oct(state_file(omareview_home).stat().st_mode & 0o777) == "0o600"

        status = run_cli("devnet", "status", "--json")
        assert status.code == 0
        assert status.json()["running"] is True
        assert status.json()["answering"] is True
        assert status.json()["blockNumber"] >= 1

        again = run_cli("devnet", "up", "--detach")
        assert again.code == 3
        assert "a devnet is already running at " + data["rpcUrl"] in again.error_line
    finally:
        down = run_cli("devnet", "down", "--json")
    assert down.code == 0
    assert down.json() == {"stopped": True, "pid": data["pid"], "rpcUrl": data["rpcUrl"]}
    assert not pids_with_arg("--port", data["rpcUrl"].rsplit(":", 1)[1])
    assert not state_file(omareview_home).exists()

    nothing = run_cli("devnet", "down")
    assert nothing.code == 0
    assert nothing.stdout.strip() == "no devnet is running"
    assert run_cli("devnet", "status", "--json").json() == {"running": False}


@pytest.mark.devnet
def test_foreground_mode_runs_until_interrupted_and_cleans_up(omareview_home: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "omareview", "devnet", "up", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        data = json.loads(proc.stdout.readline())
        state = read_state(omareview_home)
        assert state is not None and state.pid == data["pid"] and state.detached is False
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not state_file(omareview_home).exists()
    deadline = time.monotonic() + 5
    while pids_with_arg("--port", data["rpcUrl"].rsplit(":", 1)[1]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pids_with_arg("--port", data["rpcUrl"].rsplit(":", 1)[1])


def test_anvil_not_installed_says_how_to_install(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli(
        "devnet", "up", "--detach", env={"PATH": str(Path(sys.executable).parent), "OMAREVIEW_TOOLCHAIN": str(empty)}
    )
    assert result.code == 3
    assert result.error_line == (
        "error: Anvil is not installed (the pinned npm toolchain is missing); run `omareview toolchain install`"
    )


def test_anvil_override_that_is_not_a_program(omareview_home: Path) -> None:
    result = run_cli("devnet", "up", "--detach", env={"OMAREVIEW_ANVIL": "/nonexistent/anvil"})
    assert result.code == 3
    assert "OMAREVIEW_ANVIL is '/nonexistent/anvil', which is not an executable" in result.error_line
    assert not state_file(omareview_home).exists()


def test_busy_port_is_a_clear_error(omareview_home: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = run_cli("devnet", "up", "--detach", "--port", str(port))
    assert result.code == 3
    assert result.error_line == (
        f"error: port {port} on 127.0.0.1 is already in use; pick another with --port, or omit it for a free one"
    )
    assert not state_file(omareview_home).exists()


@pytest.mark.devnet
def test_anvil_dying_during_deploy_leaves_nothing_behind(omareview_home: Path) -> None:
    port = _free_port()

    def kill_anvil_mid_deploy(step: str) -> None:
        if step == "deploying EAS":
            for pid in pids_with_arg("--port", str(port)):
                os.kill(pid, signal.SIGKILL)

    with pytest.raises(DevnetError, match="Anvil exited while deploying EAS"):
        start_devnet(port=port, home=omareview_home, progress=kill_anvil_mid_deploy)
    assert not state_file(omareview_home).exists()
    assert not pids_with_arg("--port", str(port))
    assert read_state(omareview_home) is None


def test_stale_state_is_detected_and_cleared(omareview_home: Path, devnet: Devnet) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = devnet.state.model_copy(update={"pid": dead.pid})
    path = state_file(omareview_home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(stale.model_dump_json(by_alias=True))
    result = run_cli("devnet", "status", "--json")
    assert result.json() == {"running": False}
    assert not path.exists()


def test_corrupt_state_file_is_cleared(omareview_home: Path) -> None:
    path = state_file(omareview_home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    assert read_state(omareview_home) is None
    assert not path.exists()


def test_usage_errors_are_one_line_exit_2() -> None:
    result = run_cli("devnet", "up", "--port", "abc")
    assert result.code == 2
    assert "'abc' is not a valid integer" in result.error_line
    assert run_cli("devnet", "launch").code == 2


@pytest.mark.devnet
def test_two_starts_for_one_home_run_one_devnet(omareview_home: Path) -> None:
    command = [sys.executable, "-m", "omareview", "devnet", "up", "--detach", "--json"]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(proc.wait(60), *proc.communicate()) for proc in procs]
    try:
        codes = sorted(code for code, _, _ in results)
        assert codes == [0, 3], results
        refused = next(err for code, _, err in results if code == 3)
        assert "a devnet is already running" in refused
    finally:
        down = run_cli("devnet", "down", "--json")
    started = next(json.loads(out) for code, out, _ in results if code == 0)
    assert down.json()["pid"] == started["pid"]
    assert not pids_with_arg("--port", started["rpcUrl"].rsplit(":", 1)[1]), "no Anvil is left running"
