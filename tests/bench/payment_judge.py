"""Benchmark: judge 500 payment-backed reviews of one subject cold, with their payments checked on the
payment network (round trips counted through a counting proxy), beside judging them without payment checks,
in the same run. Targets: at most 10 round trips to the payment network, at most 2x the time."""

from __future__ import annotations

import time

from web3 import Web3

from omareview.devnet.toolchain import project_artifact
from omareview.eas.client import EasClient, review_request
from omareview.index import ReviewIndex
from omareview.keys import signer_from_key
from omareview.networks import PaymentNetwork
from omareview.review import review_from_receipt
from omareview.review.payment import PaymentVerifier
from omareview.x402 import load_artifacts, offer_payload
from tests.bench._world import SUBJECT, subject_world
from tests.reviews import RESOURCE, SERVER, artifact, receipt_for
from tests.rpc_proxy import rpc_proxy

REVIEWS = 500
PRICE = 10_000


def main() -> dict[str, float]:
    with subject_world(REVIEWS + 1) as world:
        state, network = world.state, world.network
        w3 = Web3(Web3.HTTPProvider(state.rpc_url))
        token = w3.eth.contract(
            address=Web3.to_checksum_address(state.token_address), abi=project_artifact("TestUSDC")["abi"]
        )
        pay_to = state.accounts[0].address
        requirements = {
            "scheme": "exact",
            "network": "eip155:31337",
            "asset": state.token_address,
            "payTo": pay_to,
            "amount": str(PRICE),
        }
        (offer,) = load_artifacts(SERVER.sign_offer(offer_payload(RESOURCE, requirements)))
        started = time.perf_counter()
        for account in state.accounts[1 : REVIEWS + 1]:
            signer = signer_from_key(account.private_key.get_secret_value())
            token.functions.transfer(Web3.to_checksum_address(pay_to), PRICE).transact({"from": account.address})
            # No pointer to the settlement: the judge finds each one around its receipt's issuedAt.
            review, _ = review_from_receipt(
                artifact(receipt_for(signer.address)),
                signer.address,
                rating=4,
                offer=offer,
            )
            EasClient(network, signer).attest(review_request(review.recipient, review.encode()))
        print(f"  (wrote {REVIEWS} paid reviews in {time.perf_counter() - started:.1f} s)")

        def judge(payments: PaymentVerifier, folder: str) -> tuple[float, dict[str, int]]:
            index = ReviewIndex(network, home=world.home / folder, judge_context=world.judge_context(payments))
            index.sync()
            began = time.perf_counter()
            result = index.reviews(SUBJECT, rejudge=True)
            return time.perf_counter() - began, result.by_level

        without_s, without_levels = judge(PaymentVerifier({}), "without")
        with rpc_proxy(state.rpc_url) as (url, stats):
            with_s, with_levels = judge(PaymentVerifier({"eip155:31337": PaymentNetwork(url, 1)}), "with")
            trips = stats.round_trips
        assert with_levels["paid"] == REVIEWS, with_levels
        assert without_levels["verified"] == REVIEWS, without_levels

    ratio = with_s / without_s
    print(f"payment checks: {REVIEWS} payment-backed reviews of one subject, judged cold:")
    print(f"  without payment checks               {without_s:7.3f} s")
    print(
        f"  with payment checks                  {with_s:7.3f} s   {ratio:5.2f}x   (target <= 2x)  {'MET' if ratio <= 2 else 'NOT MET'}"
    )
    print(
        f"  round trips to the payment network   {trips:7d}     (target <= 10)  {'MET' if trips <= 10 else 'NOT MET'}"
    )
    return {"without_s": without_s, "with_s": with_s, "ratio": ratio, "trips": trips}


if __name__ == "__main__":
    main()
