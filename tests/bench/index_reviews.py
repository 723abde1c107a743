"""Benchmark: 500 receipt-backed reviews of one subject (plus other subjects' reviews as noise) on one
devnet. omareview's cold `reviews` (sync + judge) and an incremental sync after one new review, against the
OMATrust SDK's algorithm written with ethers in node; round trips counted through counting proxies."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from omareview.eas.client import EasClient, review_request
from omareview.identity import did_address
from omareview.index import ReviewIndex
from omareview.review import review_from_receipt
from omareview.schemas import get_schema
from omareview.signers import signer_from_key
from tests.bench._world import SUBJECT, subject_world
from tests.helpers import run_node
from tests.reviews import artifact, receipt_for
from tests.rpc_proxy import rpc_proxy

ATTESTERS = 100
PER_ATTESTER = 5
NOISE_PER_ATTESTER = 1


def _median_of(run: Callable[[], object], times: int = 9) -> float:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        spent.append(time.perf_counter() - started)
    return statistics.median(spent)


def main() -> dict[str, float]:
    with subject_world(ATTESTERS + 1) as world:
        state, network = world.state, world.network
        signers = [signer_from_key(a.private_key.get_secret_value()) for a in state.accounts[1 : ATTESTERS + 1]]
        for number, signer in enumerate(signers):
            reviews = [
                review_from_receipt(
                    artifact(receipt_for(signer.address, n=number * 100 + k + 1)),
                    signer.address,
                    rating=1 + (number + k) % 5,
                    options=None,
                )[0]
                for k in range(PER_ATTESTER)
            ]
            noise = [
                review_from_receipt(
                    artifact(receipt_for(signer.address, resource=f"https://other{k}.example/x", n=number + 1)),
                    signer.address,
                    rating=3,
                )[0]
                for k in range(NOISE_PER_ATTESTER)
            ]
            EasClient(network, signer).attest_many([review_request(r.recipient, r.encode()) for r in reviews + noise])
        context = world.judge_context()

        with rpc_proxy(state.rpc_url) as (url, ours):
            index = ReviewIndex(
                network.model_copy(update={"rpc_url": url}), home=world.home / "devnet", judge_context=context
            )
            started = time.perf_counter()
            index.sync()
            result = index.reviews(SUBJECT)
            cold_s = time.perf_counter() - started
            cold_trips = ours.round_trips
            assert result.count == ATTESTERS and result.by_level["verified"] == ATTESTERS
            signer = signers[0]
            one = review_from_receipt(artifact(receipt_for(signer.address, n=999_999)), signer.address, rating=5)[0]
            EasClient(network, signer).attest(review_request(one.recipient, one.encode()))
            before = ours.round_trips
            started = time.perf_counter()
            synced = index.sync()
            incremental_s = time.perf_counter() - started
            incremental_trips = ours.round_trips - before
            assert synced.added == 1
            # The CLI finds this devnet and this index under the devnet's home.
            index.reviews(SUBJECT)
            in_process = _median_of(lambda: index.reviews(SUBJECT))
            cli = _median_of(
                lambda: subprocess.run(
                    [sys.executable, "-m", "omareview", "reviews", SUBJECT, "--no-sync", "--json"],
                    check=True,
                    capture_output=True,
                    env={**os.environ, "OMAREVIEW_HOME": str(world.home / "devnet")},
                )
            )

        with rpc_proxy(state.rpc_url) as (url, theirs):
            reference = run_node(
                "omatrust_reference.mjs",
                {
                    "rpcUrl": url,
                    "easAddress": state.eas_address,
                    "recipient": did_address(SUBJECT),
                    "schemaUid": network.schema_uid(),
                    "schema": get_schema("user-review").schema_string,
                    "fromBlock": 0,
                },
                timeout=600,
            )
            their_trips = theirs.round_trips
        assert reference["count"] == ATTESTERS * PER_ATTESTER + 1

    speed = reference["seconds"] / cold_s
    fewer = their_trips / cold_trips
    total = ATTESTERS * PER_ATTESTER
    print(
        f"index: {total} receipt-backed reviews of one subject by {ATTESTERS} attesters (+{ATTESTERS * NOISE_PER_ATTESTER} of other subjects):"
    )
    print(
        f"  omareview cold `reviews` (sync + judge {result.count} latest)  {cold_s:7.3f} s   {cold_trips:5d} round trips"
    )
    print(
        f"  OMATrust SDK algorithm (ethers, node)         {reference['seconds']:7.3f} s   {their_trips:5d} round trips   (logs, then getAttestation per log)"
    )
    print(
        f"  cold speed-up                                 {speed:7.1f}x   (target >= 5x)   {'MET' if speed >= 5 else 'NOT MET'}"
    )
    print(
        f"  round trips, fewer by                         {fewer:7.1f}x   (target >= 10x)  {'MET' if fewer >= 10 else 'NOT MET'}"
    )
    print(
        f"  incremental sync after one new review         {incremental_s:7.3f} s   {incremental_trips:5d} round trips   (target <= 3)  {'MET' if incremental_trips <= 3 else 'NOT MET'}"
    )
    print(
        f"  `omareview reviews SUBJECT --no-sync`, warm store, whole process  p50 {cli * 1000:6.1f} ms   "
        f"(in-process query {in_process * 1000:.1f} ms; target <= 150 ms)  {'MET' if cli <= 0.15 else 'NOT MET'}"
    )
    return {
        "cli_p50_s": cli,
        "in_process_p50_s": in_process,
        "cold_s": cold_s,
        "reference_s": reference["seconds"],
        "cold_trips": cold_trips,
        "reference_trips": their_trips,
        "incremental_trips": incremental_trips,
    }


if __name__ == "__main__":
    main()
