"""`omareview devnet up|down|status`."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

import click
import httpx

from omareview._devnet_state import DevnetState, read_state
from omareview.cli.output import JSON_OPTION, emit, note
from omareview.devnet.node import require_deployer, start_devnet, stop_devnet
from omareview.devnet.toolchain import eas_artifact, find_anvil, install_toolchain
from omareview.errors import ConfigError, ToolchainError


def _describe(state: DevnetState) -> Iterator[str]:
    yield f"devnet at {state.rpc_url} (chain {state.chain_id}, pid {state.pid})"
    yield f"  EAS             {state.eas_address}"
    yield f"  SchemaRegistry  {state.schema_registry_address}"
    yield f"  Indexer         {state.indexer_address}"
    yield f"  TestUSDC        {state.token_address}  (EIP-3009, 6 decimals, 1,000,000 per dev account)"
    yield "  schemas:"
    width = max(len(name) for name in state.schemas)
    for name, uid in state.schemas.items():
        yield f"    {name:<{width}}  {uid}"
    yield f"  accounts: {len(state.accounts)} funded dev accounts, first {state.accounts[0].address}"
    yield f"  log: {state.log_file}"


def _offer_toolchain(as_json: bool) -> None:
    """On first run from a terminal, offer to install the missing toolchain; elsewhere the error says how."""
    try:
        find_anvil()
        eas_artifact("EAS")
    except ToolchainError as exc:
        if exc.reason != "toolchain-missing" or as_json or not sys.stdin.isatty():
            raise
        if not click.confirm(f"{exc}. Install it now (npm install under $OMAREVIEW_HOME/toolchain)?", default=True):
            raise
        install_toolchain(progress=lambda step: note(f"… {step}"))


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.group()
def devnet() -> None:
    """The embedded devnet: Anvil with EAS and the OMATrust schemas, on 127.0.0.1."""


@devnet.command()
@click.option("--port", type=click.IntRange(1, 65535), help="Port on 127.0.0.1 (default: a free one).")
@click.option("--detach", is_flag=True, help="Leave it running in the background and return.")
@JSON_OPTION
def up(port: int | None, detach: bool, as_json: bool) -> None:
    """Start Anvil, deploy SchemaRegistry, EAS and Indexer, and register the OMATrust schemas."""
    require_deployer()
    _offer_toolchain(as_json)
    running = start_devnet(port=port, detach=detach, progress=lambda step: None if as_json else note(f"… {step}"))
    if detach:
        emit(running.state.public().model_dump(mode="json", by_alias=True), as_json, lambda: _describe(running.state))
        if not as_json:
            note("running in the background; `omareview devnet down` stops it")
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        # Announced inside the try: an interrupt that arrives as soon as the state is out still stops it cleanly.
        emit(running.state.public().model_dump(mode="json", by_alias=True), as_json, lambda: _describe(running.state))
        if not as_json:
            note("running in the foreground; Ctrl-C stops it")
        running.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        running.stop()
        if not as_json:
            note("devnet stopped")


@devnet.command()
@JSON_OPTION
def down(as_json: bool) -> None:
    """Stop the running devnet and clear its state."""
    stopped = stop_devnet()
    data: dict[str, Any] = {"stopped": stopped is not None}
    if stopped is not None:
        data.update(pid=stopped.pid, rpcUrl=stopped.rpc_url)
    emit(data, as_json, lambda: [f"stopped the devnet at {stopped.rpc_url}" if stopped else "no devnet is running"])


def _block_number(rpc_url: str) -> int | None:
    payload = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
    try:
        return int(httpx.post(rpc_url, json=payload, timeout=2.0).json()["result"], 16)
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None


@devnet.command()
@click.argument("subject")
@click.argument("controller")
@click.option(
    "--method",
    type=click.Choice(["dns-txt", "did-json", "social-profile", "manual"]),
    default="dns-txt",
    show_default=True,
    help="How the controller was observed.",
)
@click.option(
    "--observed-at", type=click.IntRange(0), metavar="UNIX", help="When it was observed (default: the chain's now)."
)
@JSON_OPTION
def witness(subject: str, controller: str, method: str, observed_at: int | None, as_json: bool) -> None:
    """As the devnet's trusted witness, attest that SUBJECT (a did:web) names CONTROLLER (a DID) as controller.

    The devnet's trust anchors list this witness as an approved issuer, so `reviews` counts what it attests."""
    from omareview._devnet_state import WITNESS_ACCOUNT, network_of
    from omareview.cli.common import chain_time
    from omareview.eas.client import EasClient
    from omareview.review.identity_requests import controller_witness_request
    from omareview.signers import signer_from_key

    state = read_state()
    if state is None:
        raise ConfigError("no devnet is running; start one with `omareview devnet up`")
    network = network_of(state)
    signer = signer_from_key(state.accounts[WITNESS_ACCOUNT].private_key.get_secret_value())
    observed = observed_at if observed_at is not None else chain_time(network)
    request = controller_witness_request(subject, controller, method, observed)
    submitted = EasClient(network, signer).attest(request, network.schema_uid("controller-witness"))
    data = {"uid": submitted.uid, "witness": signer.address, "subject": subject, "controller": controller}
    emit(data, as_json, lambda: [f"controller-witness {submitted.uid} by the devnet witness {signer.address}"])


@devnet.command()
@JSON_OPTION
def status(as_json: bool) -> None:
    """Describe the running devnet, if any."""
    state = read_state()
    if state is None:
        emit({"running": False}, as_json, lambda: ["no devnet is running"])
        return
    block = _block_number(state.rpc_url)
    data = {
        "running": True,
        "answering": block is not None,
        "blockNumber": block,
        **state.public().model_dump(mode="json", by_alias=True),
    }

    def human() -> Iterator[str]:
        yield from _describe(state)
        yield f"  block: {block}" if block is not None else "  not answering RPC requests"

    emit(data, as_json, human)
