"""Benchmark: 100 receipt-backed reviews to one devnet (Osaka per-transaction gas cap on): omareview
batched, omareview one by one, and eas-sdk's `attest` one by one in node, measured in the same run."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from omareview._devnet_state import network_of
from omareview.devnet.node import start_devnet
from omareview.eas.client import EasClient, review_request
from omareview.review import review_from_receipt
from omareview.schemas import get_schema
from omareview.signers import signer_from_key
from tests.helpers import run_node
from tests.reviews import artifact, receipt_for

COUNT = 100
WHOLE = {40: 0.15, 400: 0.03}  # submit-many size → target ratio to eas-sdk one by one, whole process


def _whole_process(
    home: str, state: Any, network: Any, account: int, count: int, keys: list[str]
) -> tuple[float, float]:
    """`omareview review submit-many` of `count` reviews as a fresh process, and eas-sdk attesting the same
    number one by one (20 ms polling) in node: seconds each."""
    payer = signer_from_key(keys[account]).address
    lines = [
        json.dumps({"receipt": receipt_for(payer, n=n), "ratingValue": 1 + n % 5, "reviewBody": f"many {n}"})
        for n in range(1, count + 1)
    ]
    path = Path(home) / f"many-{count}.jsonl"
    path.write_text("\n".join(lines))
    command = [
        sys.executable,
        "-m",
        "omareview",
        "review",
        "submit-many",
        str(path),
        "--no-authorize",
        "--json",
        "--dev-account",
        str(account),
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "OMAREVIEW_HOME": home})
    ours = time.perf_counter() - started
    reviews = [review_from_receipt(artifact(receipt_for(payer, n=n + count)), payer, rating=3)[0] for n in range(count)]
    sdk = _sdk_attest(state, network, keys[account + 1], reviews)
    return ours, sdk["seconds"]


def _sdk_attest(state: Any, network: Any, key: str, reviews: list[Any]) -> dict[str, Any]:
    types = ["string", "string", "uint256", "string", "string[]", "string[]"]
    names = ["subject", "version", "ratingValue", "reviewBody", "screenshotUrls", "proofs"]
    return run_node(
        "eas_reference.mjs",
        {
            "action": "attest",
            "rpcUrl": state.rpc_url,
            "easAddress": state.eas_address,
            "privateKey": key,
            "schemaUid": network.schema_uid(),
            "schema": get_schema("user-review").schema_string,
            "reviews": [
                {
                    "recipient": r.recipient,
                    "fields": [
                        {"name": n, "type": t, "value": v}
                        for n, t, v in zip(names, types, r.field_values(), strict=True)
                    ],
                }
                for r in reviews
            ],
        },
        timeout=900,
    )


def main() -> dict[str, float]:
    with (
        tempfile.TemporaryDirectory() as home,
        start_devnet(home=Path(home), anvil_args=["--enable-tx-gas-limit"]) as devnet,
    ):
        state = devnet.state
        network = network_of(state)
        keys = [a.private_key.get_secret_value() for a in state.accounts]

        def reviews_of(index: int) -> list:
            signer = signer_from_key(keys[index])
            return [
                review_from_receipt(
                    artifact(receipt_for(signer.address, n=n)), signer.address, rating=1 + n % 5, body=f"review {n}"
                )[0]
                for n in range(1, COUNT + 1)
            ]

        batched_reviews, single_reviews, sdk_reviews = reviews_of(1), reviews_of(2), reviews_of(3)

        client = EasClient(network, signer_from_key(keys[1]))
        started = time.perf_counter()
        batched = client.attest_many([review_request(r.recipient, r.encode()) for r in batched_reviews])
        batched_s = time.perf_counter() - started
        batched_gas = sum({s.tx_hash: s.gas_used for s in batched}.values()) / COUNT

        client = EasClient(network, signer_from_key(keys[2]))
        started = time.perf_counter()
        singles = [client.attest(review_request(r.recipient, r.encode())) for r in single_reviews]
        single_s = time.perf_counter() - started
        single_gas = sum(s.gas_used for s in singles) / COUNT

        sdk = _sdk_attest(state, network, keys[3], sdk_reviews)
        sdk_s = sdk["seconds"]
        sdk_gas = sum(int(r["gasUsed"]) for r in sdk["results"]) / COUNT
        assert len(batched) == len(singles) == len(sdk["results"]) == COUNT
        whole = {count: _whole_process(home, state, network, 4 + 2 * i, count, keys) for i, count in enumerate(WHOLE)}

    size = len(batched_reviews[0].encode())
    floor = (1 + math.ceil(size / 32)) * 22_100
    rate = {name: COUNT / seconds for name, seconds in (("batched", batched_s), ("single", single_s), ("sdk", sdk_s))}
    print(
        f"submit {COUNT} receipt-backed reviews ({size}-byte attestation data), one devnet, 16,777,216 gas cap per tx:"
    )
    print(
        f"  omareview batched (multiAttest)  {rate['batched']:8.1f} reviews/s   {batched_gas:10,.0f} gas/review   {len({s.tx_hash for s in batched})} txs"
    )
    print(f"  omareview one by one (attest)    {rate['single']:8.1f} reviews/s   {single_gas:10,.0f} gas/review")
    print(f"  eas-sdk attest one by one (node) {rate['sdk']:8.1f} reviews/s   {sdk_gas:10,.0f} gas/review")
    ratio = rate["batched"] / rate["sdk"]
    print(f"  batched / eas-sdk reviews/s      {ratio:8.1f}x   (target >= 5x)  {'MET' if ratio >= 5 else 'NOT MET'}")
    print(f"  one by one / eas-sdk reviews/s   {rate['single'] / rate['sdk']:8.1f}x")
    below = batched_gas < single_gas
    print(
        f"  gas/review batched vs single     {batched_gas / single_gas:8.3f}    (target < 1)  {'MET' if below else 'NOT MET'}"
    )
    print(f"  storage floor of the data        {floor:10,} gas/review  ({1 + math.ceil(size / 32)} new slots x 22,100)")
    for count, (ours, theirs) in whole.items():
        ratio_whole = ours / theirs
        met = "MET" if ratio_whole <= WHOLE[count] else "NOT MET"
        print(
            f"  submit-many {count:3d}, whole process {ours:6.2f} s vs eas-sdk one by one {theirs:6.2f} s: "
            f"{ratio_whole:5.3f}x   (target <= {WHOLE[count]}x)  {met}"
        )
    return {
        **{f"submit_many_{count}_ratio": ours / theirs for count, (ours, theirs) in whole.items()},
        "batched_per_s": rate["batched"],
        "sdk_per_s": rate["sdk"],
        "ratio": ratio,
        "gas_batched": batched_gas,
        "gas_single": single_gas,
    }


if __name__ == "__main__":
    main()
