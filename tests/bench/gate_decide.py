"""Benchmark: pre-payment decision latency with a warm index and a warm DID cache, over 1,000 decisions
about one 402 (fetched once: the 402 itself is the only network round trip a decision may need)."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from omareview._devnet_state import network_of
from omareview.devnet.node import start_devnet
from omareview.eas.client import EasClient, review_request
from omareview.gate import Gate
from omareview.gate.policy import DEFAULT_POLICY
from omareview.identity import DidWebResolver, SafeFetcher
from omareview.index import JudgeContext, ReviewIndex
from omareview.review import Proof, new_review
from omareview.signers import signer_from_key
from omareview.x402 import (
    DidKey,
    Eip712Issuer,
    did_document,
    receipt_payload,
)
from tests.reviews import payment_required
from tests.rpc_proxy import rpc_proxy
from tests.servers import Reply, dns_server, http_server

DECISIONS = 1000
SERVICE = Eip712Issuer("0x" + "71" * 32)


def main() -> dict[str, float]:
    doc = did_document("did:web:127.0.0.1", [DidKey("offers", address=SERVICE.address)])
    routes: dict[str, Reply] = {}
    with (
        tempfile.TemporaryDirectory() as home,
        start_devnet(home=Path(home) / "devnet") as devnet,
        http_server({"/.well-known/did.json": Reply(body=json.dumps(doc).encode())}) as did_server,
        http_server(routes) as service,  # type: ignore[arg-type]
        dns_server({}) as dns,
    ):
        state = devnet.state
        network = network_of(state)
        url = f"http://127.0.0.1:{service.port}/paid"
        for index in range(1, 10):
            signer = signer_from_key(state.accounts[index].private_key.get_secret_value())
            receipt = SERVICE.sign_receipt(receipt_payload(url, signer.address, "eip155:31337"))
            review = new_review(
                subject="did:web:127.0.0.1",
                rating_value=4 + index % 2,
                proofs=(Proof.wrap("x402-receipt", receipt).to_text(),),
            )
            EasClient(network, signer).attest(review_request(review.recipient, review.encode()))
        accepts = {
            "scheme": "exact",
            "network": "eip155:31337",
            "asset": state.token_address,
            "payTo": state.accounts[9].address,
            "amount": "10000",
            "maxTimeoutSeconds": 60,
        }
        routes["/paid"] = Reply(402, b"{}", headers={"PAYMENT-REQUIRED": payment_required(SERVICE, url, accepts)})

        with rpc_proxy(state.rpc_url) as (rpc_url, rpc_stats):
            resolver = DidWebResolver(fetcher=SafeFetcher(overrides={"127.0.0.1": did_server.base_url}))
            index_db = ReviewIndex(
                network.model_copy(update={"rpc_url": rpc_url}),
                home=Path(home),
                judge_context=JudgeContext(resolver=resolver, dns_server=dns),
            )
            gate = Gate(index_db, DEFAULT_POLICY, resolver=resolver, dns_server=dns)
            response = httpx.get(url)
            first = gate.decide(url, response.status_code, response.headers, response.content)
            assert first.action == "pay" and first.tier == "proven", first.reasons
            did_fetches, rpc_trips = len(did_server.seen), rpc_stats.round_trips
            timings = []
            for _ in range(DECISIONS):
                started = time.perf_counter()
                decision = gate.decide(url, response.status_code, response.headers, response.content)
                timings.append((time.perf_counter() - started) * 1000)
                assert decision.action == "pay"
            extra_rpc = rpc_stats.round_trips - rpc_trips
            extra_did = len(did_server.seen) - did_fetches
    mean, p95 = statistics.fmean(timings), sorted(timings)[int(DECISIONS * 0.95)]
    print(
        f"gate: {DECISIONS} decisions about one 402 (authorized offer, 9 verified reviews), warm index and DID cache:"
    )
    print(
        f"  mean {mean:6.2f} ms   median {statistics.median(timings):6.2f} ms   p95 {p95:6.2f} ms   (target < 5 ms)  {'MET' if p95 < 5 else 'NOT MET'}"
    )
    print(
        f"  network during the decisions: {extra_rpc} RPC round trips, {extra_did} DID fetches   (target 0)  {'MET' if extra_rpc == extra_did == 0 else 'NOT MET'}"
    )
    return {"mean_ms": mean, "p95_ms": p95, "rpc": extra_rpc, "did": extra_did}


if __name__ == "__main__":
    main()
