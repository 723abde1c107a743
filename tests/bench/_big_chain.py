"""The chain the scale benchmarks share: 100,000 User Reviews of 10,000 subjects on a 1,000,000-block devnet.

Built once and cached in `.bench-cache/` (Anvil's own state dump, blocks and logs included), so later runs
load it in seconds. Anvil's cost per block grows with contract storage, so the empty blocks are mined first
(`--hardfork paris --prune-history`, about 0.13 ms a block) and the reviews follow in `multiAttest` batches of
40, one transaction a block, sent with a fixed gas limit. The sizes can be lowered for a quick look (`OMAREVIEW_BENCH_REVIEWS`,
`OMAREVIEW_BENCH_BLOCKS`); the figures in the docs are at the full size.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from omareview._devnet_state import network_of
from omareview.devnet.node import Devnet, start_devnet
from omareview.devnet.toolchain import find_anvil
from omareview.eas._tx import TxSender
from omareview.eas.abi import multi_attest_call
from omareview.eas.client import EasClient, review_request
from omareview.eas.rpc import RpcClient
from omareview.errors import ChainError
from omareview.networks import Network
from omareview.review import review_of_subject
from omareview.signers import signer_from_key
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
REVIEWS = int(os.environ.get("OMAREVIEW_BENCH_REVIEWS", "100000"))
SUBJECTS = int(os.environ.get("OMAREVIEW_BENCH_SUBJECTS", "10000"))
BLOCKS = int(os.environ.get("OMAREVIEW_BENCH_BLOCKS", "1000000"))
PER_TX = 40
ANVIL_ARGS = ["--hardfork", "paris", "--prune-history", "--gas-limit", "60000000"]
MINE_STEP = 50_000
BATCH_GAS = 16_000_000


def subject(n: int) -> str:
    return f"did:web:s{n}.bench.example"


@dataclass(frozen=True)
class BigChain:
    network: Network
    home: Path
    built_s: float | None
    loaded_s: float | None


def _build(devnet: Devnet, network: Network) -> None:
    rpc = RpcClient(network.rpc_url, timeout_s=600)
    started = time.monotonic()
    target = BLOCKS - REVIEWS // PER_TX
    while rpc.block_number() < target:
        rpc.call("anvil_mine", [hex(min(MINE_STEP, target - rpc.block_number()))])
    print(f"  [build] {rpc.block_number():,} empty blocks in {time.monotonic() - started:.0f} s", flush=True)
    signers = [signer_from_key(a.private_key.get_secret_value()) for a in devnet.state.accounts[1:10]]
    senders = [EasClient(network, signer).sender() for signer in signers]
    schema = network.schema_uid()
    pending: list[tuple[TxSender, str]] = []
    for batch in range(REVIEWS // PER_TX):
        reviews = [
            review_of_subject(subject((batch * PER_TX + k) % SUBJECTS), rating=1 + (batch + k) % 5, body=f"b{batch}")
            for k in range(PER_TX)
        ]
        call = multi_attest_call(schema, [review_request(r.recipient, r.encode()) for r in reviews])
        # A fixed gas limit (40 short reviews use about 15M): no estimate per batch on a growing state.
        sender = senders[batch % len(senders)]
        pending.append((sender, sender.send(network.eas_address, call, "multiAttest", gas=BATCH_GAS)))
        if len(pending) == 50 or batch == REVIEWS // PER_TX - 1:
            for waiting, tx_hash in pending:
                waiting.wait(tx_hash, "multiAttest")
            pending = []
            print(f"  [build] {(batch + 1) * PER_TX:,} reviews, {time.monotonic() - started:.0f} s", flush=True)


@contextmanager
def _loaded(cache: Path, network: Network) -> Iterator[str]:
    """Anvil started on the cached state (blocks and logs included); yields its RPC URL."""
    port = free_port()
    command = [find_anvil(), "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(network.chain_id)]
    process = subprocess.Popen(
        [*command, *ANVIL_ARGS, "--load-state", str(cache)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 900
        while True:
            try:
                RpcClient(url, timeout_s=5).block_number()
                break
            except ChainError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(60)


@contextmanager
def big_chain() -> Iterator[BigChain]:
    """The benchmark chain, loaded from the cache, or built (on a devnet that dumps its state when it stops)
    and then loaded."""
    cache = ROOT / ".bench-cache" / f"chain-{REVIEWS}-{SUBJECTS}-{BLOCKS}.state"
    described = cache.with_suffix(".network.json")
    built = None
    with tempfile.TemporaryDirectory() as home:
        if not cache.exists() or not described.exists():
            print(f"  building the chain ({REVIEWS:,} reviews, {BLOCKS:,} blocks); cached for later runs", flush=True)
            cache.parent.mkdir(exist_ok=True)
            started = time.monotonic()
            args = [*ANVIL_ARGS, "--dump-state", str(cache)]
            with start_devnet(home=Path(home) / "devnet", anvil_args=args) as devnet:
                network = network_of(devnet.state)
                _build(devnet, network)
                # Anvil writes the dump as it exits; a large chain takes minutes, so wait for it here
                # (the devnet's own stop would kill it after a few seconds, leaving half a file).
                devnet.process.terminate()
                devnet.process.wait(1800)
            described.write_text(network.model_dump_json())
            built = time.monotonic() - started
        network = Network.model_validate_json(described.read_text())
        started = time.monotonic()
        with _loaded(cache, network) as url:
            loaded = time.monotonic() - started
            yield BigChain(network.model_copy(update={"rpc_url": url}), Path(home), built, loaded)
