"""Past one machine: `omareview index follow` writing one store while `omareview serve --no-sync` processes
read it, on the devnet, with PostgreSQL (and SQLite where a single machine suffices)."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from omareview.devnet.node import Devnet
from omareview.eas.client import EasClient, review_request
from omareview.eas.rpc import RpcClient
from omareview.index import ReviewIndex
from omareview.networks import Network
from omareview.review import review_of_subject
from omareview.signers import Signer
from tests.helpers import free_port, revert_chain
from tests.postgres import fresh_database
from tests.rpc_proxy import rpc_proxy

pytestmark = pytest.mark.chain_isolated

BATCH = 5
SUBJECT = "did:web:followed.example"


def _batch(network: Network, signer: Signer, tag: str) -> None:
    """BATCH reviews in one multiAttest: one transaction, one block."""
    reviews = [review_of_subject(SUBJECT, rating=1 + i % 5, body=f"{tag}-{i}") for i in range(BATCH)]
    EasClient(network, signer).attest_many([review_request(r.recipient, r.encode()) for r in reviews])


@contextmanager
def _process(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "omareview", *args],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def _until(check: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _reviews_gauge(port: int) -> int | None:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return None
    found = re.search(r"^omareview_reviews (\S+)$", text, re.M)
    return int(float(found.group(1))) if found else None


def _synced(network: Network, home: Path, url: str | None = None) -> int:
    with ReviewIndex(network, home=home, store=url) as index:
        return index.synced_to() or -1


def test_one_follower_and_three_readers_share_a_store_through_a_reorg(
    postgres: str, network: Network, dev_signer: Callable[[int], Signer], cli_env: dict[str, str], tmp_path: Path
) -> None:
    url = fresh_database(postgres)
    env = {**cli_env, "OMAREVIEW_STORE": url}
    rpc = RpcClient(network.rpc_url)
    ports = [free_port() for _ in range(3)]
    metrics_port = free_port()
    with _process(["index", "follow", "--interval", "0.2", "--metrics-port", str(metrics_port)], env) as follower:
        _until(lambda: _synced(network, tmp_path, url) >= rpc.block_number(), "the follower's first round")
        readers = [
            stack
            for port in ports
            for stack in [_process(["serve", "--no-sync", "--port", str(port), "--requests-per-minute", "100000"], env)]
        ]
        with readers[0], readers[1], readers[2]:
            _until(lambda: all(_reviews_gauge(p) is not None for p in ports), "three readers")
            base = _reviews_gauge(ports[0])
            assert base is not None
            seen: list[int] = []
            stop = threading.Event()

            def poll() -> None:
                while not stop.is_set():
                    for port in ports:
                        value = _reviews_gauge(port)
                        if value is not None:
                            seen.append(value - base)

            poller = threading.Thread(target=poll)
            poller.start()
            try:
                for n in range(4):
                    _batch(network, dev_signer(1 + n), f"kept{n}")
                snapshot = rpc.call("evm_snapshot")
                for n in range(3):
                    _batch(network, dev_signer(5 + n), f"orphan{n}")
                _until(lambda: _reviews_gauge(ports[1]) == base + 7 * BATCH, "the readers to see 7 batches")
                revert_chain(rpc.call, snapshot)
                for _ in range(4):  # the new fork is longer than the orphaned one
                    rpc.call("evm_mine")
                _batch(network, dev_signer(8), "replacing")
                _until(
                    lambda: all(_reviews_gauge(p) == base + 5 * BATCH for p in ports), "the reorg to reach the readers"
                )
            finally:
                stop.set()
                poller.join()
        exposed = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        assert re.search(r"^omareview_lag_blocks \d", exposed, re.M), "the follower reports its lag"
        assert re.search(r"^omareview_indexed_block \d", exposed, re.M)
        follower.send_signal(signal.SIGTERM)
        _, stderr = follower.communicate(timeout=30)
    assert follower.returncode == 0 and stderr.rstrip().endswith("stopped"), stderr
    assert seen and all(value % BATCH == 0 for value in seen), f"a reader saw a half-applied block: {sorted(set(seen))}"
    assert max(seen) <= 7 * BATCH and seen[-1] == 5 * BATCH
    with ReviewIndex(network, home=tmp_path, store=url) as index:
        subject = index.reviews(SUBJECT)
    assert subject.count == 5 and not any("orphan" in (r.review_body or "") for r in subject.reviews)


@pytest.mark.usefixtures("store_engine")
def test_a_killed_follower_resumes_to_the_same_result_as_a_clean_sync(
    network: Network, dev_signer: Callable[[int], Signer], cli_env: dict[str, str], tmp_path: Path
) -> None:
    for n in range(8):
        _batch(network, dev_signer(1 + n % 9), f"r{n}")
        RpcClient(network.rpc_url).call("anvil_mine", [hex(40)])
    with rpc_proxy(network.rpc_url, max_log_range=8) as (slow_url, _):
        env = {**cli_env, "OMAREVIEW_STORE": os.environ.get("OMAREVIEW_STORE", "")}
        env = {k: v for k, v in env.items() if v}
        args = ["--rpc-url", slow_url, "index", "follow", "--interval", "0.2"]
        with _process(args, env) as first:
            time.sleep(random.uniform(0.3, 1.5))
            first.send_signal(signal.SIGKILL)
        head = RpcClient(network.rpc_url).block_number()
        with _process(args, env) as second:
            home = Path(cli_env["OMAREVIEW_HOME"])
            slow = network.model_copy(update={"rpc_url": slow_url})
            _until(lambda: _synced(slow, home) >= head, "the second follower", 120)
            second.send_signal(signal.SIGTERM)
            second.communicate(timeout=30)
            with ReviewIndex(slow, home=home) as index:
                resumed = index.store.contents()
    with ReviewIndex(network, home=tmp_path / "clean", store=_clean_store()) as clean:
        clean.sync()
        assert resumed == clean.store.contents() and len(resumed) >= 8 * BATCH


def _clean_store() -> str | None:
    url = os.environ.get("OMAREVIEW_STORE")
    return url.rsplit("/", 1)[0] + "/" + _fresh_name(url) if url else None


def _fresh_name(url: str) -> str:
    import psycopg

    name = f"clean{os.getpid()}_{random.randrange(10**9)}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return name


@pytest.mark.usefixtures("store_engine")
def test_a_second_follower_waits_for_the_lock(cli_env: dict[str, str], devnet: Devnet) -> None:
    env = {**cli_env, **({"OMAREVIEW_STORE": os.environ["OMAREVIEW_STORE"]} if "OMAREVIEW_STORE" in os.environ else {})}
    with _process(["index", "follow", "--interval", "0.2"], env) as first:
        assert first.stderr is not None
        assert first.stderr.readline().startswith("following devnet")
        with _process(["index", "follow", "--interval", "0.2"], env) as second:
            assert second.stderr is not None
            assert second.stderr.readline().strip() == "another follower holds this store's lock; waiting for it"
            first.send_signal(signal.SIGTERM)
            first.communicate(timeout=30)
            assert first.returncode == 0
            assert second.stderr.readline().startswith("following devnet"), "it took the lock once it was free"
            second.send_signal(signal.SIGKILL)
        with _process(["index", "follow", "--interval", "0.2"], env) as third:
            assert third.stderr is not None
            assert third.stderr.readline().startswith("following devnet"), "a killed follower's lock is taken over"
