"""Benchmark: costs that must not grow with history. The duplicate check an attester's next submission runs,
with 400 earlier reviews against none (its ledger warm, as after the first submission), and the round trips
of a sync after a gap wider than the node's `eth_getLogs` range, against the minimum ceil(G/L)."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from omareview.eas.client import EasClient, review_request
from omareview.eas.rpc import RpcClient
from omareview.index import ReviewIndex
from omareview.review import review_from_receipt
from omareview.review.duplicates import SETTLED_DEPTH, reviewed_receipts
from omareview.review.outbox import Outbox
from omareview.signers import signer_from_key
from tests.bench._world import subject_world
from tests.reviews import artifact, receipt_for
from tests.rpc_proxy import rpc_proxy

PRIOR = 400
RUNS = 15
GAP = 10_000
NODE_LIMIT = 1_000


def _median_ms(run: Callable[[], Any]) -> float:
    spent = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        spent.append(time.perf_counter() - started)
    return statistics.median(spent) * 1000


def main() -> dict[str, float]:
    with subject_world(10) as world, tempfile.TemporaryDirectory() as folder:
        network, accounts = world.network, world.state.accounts
        busy, fresh, late_writer = (signer_from_key(accounts[k].private_key.get_secret_value()) for k in (1, 2, 3))
        rpc = RpcClient(network.rpc_url, timeout_s=600)
        # The gap first: Anvil mines an empty block more slowly the more storage EAS holds.
        with rpc_proxy(network.rpc_url, max_log_range=NODE_LIMIT) as (url, stats):
            index = ReviewIndex(network.model_copy(update={"rpc_url": url}), home=Path(folder) / "index")
            index.sync()
            rpc.call("anvil_mine", [hex(GAP)])
            payer = late_writer.address
            late = review_from_receipt(artifact(receipt_for(payer, n=999)), payer, rating=5)[0]
            EasClient(network, late_writer).attest(review_request(late.recipient, late.encode()))
            before, calls_before = stats.round_trips, len(stats.methods)
            caught_up = index.sync()
            trips = stats.round_trips - before
            calls = Counter(stats.methods[calls_before:])
            index.close()
        reviews = [
            review_from_receipt(artifact(receipt_for(busy.address, n=k + 1)), busy.address, rating=4)[0]
            for k in range(PRIOR)
        ]
        EasClient(network, busy).attest_many([review_request(r.recipient, r.encode()) for r in reviews])
        rpc.call("anvil_mine", [hex(SETTLED_DEPTH + 1)])
        client = EasClient(network)
        timings = {}
        for name, signer in (("none", fresh), ("prior", busy)):
            ledger = Outbox(Path(folder) / f"{name}.sqlite3")
            found = reviewed_receipts(client, signer.address, ledger)  # the first check fills the ledger
            assert len(found) == (PRIOR if name == "prior" else 0)
            # What a submission asks: is this new receipt (and an earlier one, for the prior case) reviewed?
            asked = {"0x" + "00" * 32, *list(found)[:1]}
            check = partial(reviewed_receipts, client, signer.address, ledger, among=asked)
            assert len(check()) == (1 if name == "prior" else 0)
            timings[name] = _median_ms(check)
        ratio = timings["prior"] / timings["none"]
        gap = caught_up.to_block - caught_up.from_block + 1
        minimum = -(-gap // NODE_LIMIT)

    print(f"duplicate check before a submission, ledger warm (median of {RUNS}):")
    print(f"  with {PRIOR} earlier reviews by the attester   {timings['prior']:6.2f} ms")
    print(f"  with none                                  {timings['none']:6.2f} ms")
    met = "MET" if ratio <= 2 else "NOT MET"
    print(f"  ratio                                      {ratio:6.2f}x   (target <= 2x)  {met}")
    print(f"sync after a gap of {gap:,} blocks, node range limit {NODE_LIMIT:,}:")
    met = "MET" if trips <= minimum + 4 else "NOT MET"
    print(f"  round trips {trips}   (minimum ceil(G/L) = {minimum}; target <= {minimum + 4})  {met}")
    print(
        f"  added {caught_up.added}, from block {caught_up.from_block:,}; calls: {dict(calls)}, refused {stats.refused_ranges}"
    )
    return {"prior_ms": timings["prior"], "none_ms": timings["none"], "ratio": ratio, "trips": trips}


if __name__ == "__main__":
    main()
