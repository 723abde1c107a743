"""Benchmark: 100 receipt-backed reviews to one devnet (Osaka per-transaction gas cap on): omareview
batched, omareview one by one, and eas-sdk's `attest` one by one in node, measured in the same run."""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

from omareview.devnet.node import network_of, start_devnet
from omareview.eas.client import EasClient, review_request
from omareview.keys import signer_from_key
from omareview.review import review_from_receipt
from omareview.schemas import get_schema
from tests.helpers import run_node
from tests.reviews import artifact, receipt_for

COUNT = 100


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

        schema = get_schema("user-review").schema_string
        types = ["string", "string", "uint256", "string", "string[]", "string[]"]
        names = ["subject", "version", "ratingValue", "reviewBody", "screenshotUrls", "proofs"]
        sdk = run_node(
            "eas_reference.mjs",
            {
                "action": "attest",
                "rpcUrl": state.rpc_url,
                "easAddress": state.eas_address,
                "privateKey": keys[3],
                "schemaUid": network.schema_uid(),
                "schema": schema,
                "reviews": [
                    {
                        "recipient": r.recipient,
                        "fields": [
                            {"name": n, "type": t, "value": v}
                            for n, t, v in zip(names, types, r.field_values(), strict=True)
                        ],
                    }
                    for r in sdk_reviews
                ],
            },
            timeout=600,
        )
        sdk_s = sdk["seconds"]
        sdk_gas = sum(int(r["gasUsed"]) for r in sdk["results"]) / COUNT
        assert len(batched) == len(singles) == len(sdk["results"]) == COUNT

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
    return {
        "batched_per_s": rate["batched"],
        "sdk_per_s": rate["sdk"],
        "ratio": ratio,
        "gas_batched": batched_gas,
        "gas_single": single_gas,
    }


if __name__ == "__main__":
    main()
