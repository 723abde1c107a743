"""Benchmark: judge 500 payment-backed reviews of one subject cold, with their payments checked on the
payment network (no review names its settlement, so each is found around its receipt's issuedAt; refunds;
the self-dealing checks), round trips counted through a counting proxy, beside judging them without payment
checks and without the funding check, in the same run, on both store engines. Targets: at most 10 round
trips to the payment network and at most 2x the time of no payment checks; the self-dealing funding check
at most 2 more round trips and 1.5x the time of judging without it."""

from __future__ import annotations

import dataclasses
import time

from web3 import Web3

from omareview.devnet.toolchain import project_artifact
from omareview.eas.client import EasClient, review_request
from omareview.index import ReviewIndex
from omareview.networks import PaymentNetwork
from omareview.review import review_from_receipt
from omareview.review.payment import PaymentVerifier
from omareview.signers import signer_from_key
from omareview.x402 import load_artifacts, offer_payload
from tests.bench._world import SUBJECT, subject_world
from tests.postgres import fresh_database, postgres_cluster
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

        def judge(payments: PaymentVerifier, folder: str, store: str | None, hops: int) -> tuple[float, dict[str, int]]:
            context = dataclasses.replace(world.judge_context(payments), funding_hops=hops)
            index = ReviewIndex(network, home=world.home / folder, judge_context=context, store=store)
            index.sync()
            began = time.perf_counter()
            result = index.reviews(SUBJECT, rejudge=True)
            return time.perf_counter() - began, result.by_level

        results: dict[str, float] = {}
        with postgres_cluster() as cluster:
            for engine in ("sqlite", "postgresql"):
                rows: dict[str, tuple[float, int]] = {}
                for name, payments, hops in (
                    ("none", PaymentVerifier({}), 1),
                    ("no funding", None, 0),
                    ("all", None, 1),
                ):
                    store = fresh_database(cluster) if engine == "postgresql" else None
                    if payments is not None:
                        seconds, levels = judge(payments, f"{engine}-{name}", store, hops)
                        assert levels["verified"] == REVIEWS, levels
                        rows[name] = (seconds, 0)
                        continue
                    with rpc_proxy(state.rpc_url) as (url, stats):
                        verifier = PaymentVerifier({"eip155:31337": PaymentNetwork(url, 1)})
                        seconds, levels = judge(verifier, f"{engine}-{name}", store, hops)
                        rows[name] = (seconds, stats.round_trips)
                    assert levels["paid"] == REVIEWS, levels
                none_s, (nofund_s, nofund_trips), (all_s, all_trips) = rows["none"][0], rows["no funding"], rows["all"]
                ratio, funding = all_s / none_s, all_s / nofund_s
                print(f"payment checks, {engine}: {REVIEWS} payment-backed reviews of one subject, judged cold:")
                print(f"  without payment checks                 {none_s:7.3f} s")
                print(f"  payments and refunds, no funding check {nofund_s:7.3f} s   {nofund_trips:3d} round trips")
                print(
                    f"  with the self-dealing checks too       {all_s:7.3f} s   {all_trips:3d} round trips   "
                    f"{ratio:5.2f}x none (target <= 2x) {'MET' if ratio <= 2 else 'NOT MET'}   "
                    f"{funding:5.2f}x, +{all_trips - nofund_trips} trips over no funding check "
                    f"(target <= 1.5x, <= +2) {'MET' if funding <= 1.5 and all_trips - nofund_trips <= 2 else 'NOT MET'}"
                )
                results |= {f"{engine}_ratio": ratio, f"{engine}_trips": float(all_trips), f"{engine}_funding": funding}
    return results


if __name__ == "__main__":
    main()
