"""Payment-backed reviews on the devnet, whose TestUSDC is a real ERC-20: what reads `paid`, and the forgeries
that must not."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from web3 import Web3

from omareview.devnet.node import Devnet
from omareview.devnet.toolchain import project_artifact
from omareview.eas.client import EasClient, review_request
from omareview.identity import DidWebResolver, SafeFetcher, did_address
from omareview.index import JudgeContext, ReviewIndex
from omareview.networks import DEFAULT_CONFIRMATIONS, Network, PaymentNetwork
from omareview.review import review_from_receipt
from omareview.review.payment import PaymentVerifier
from omareview.review.proofs import Proof
from omareview.signers import Signer
from omareview.x402 import DidKey, Eip712Issuer, did_document, load_artifacts, offer_payload, receipt_payload
from omareview.x402.verify import VerifyOptions
from tests.servers import Reply, http_server

pytestmark = [pytest.mark.devnet, pytest.mark.chain_isolated]

HOST = "shop.example"
RESOURCE = f"https://{HOST}/premium"
QUIET = "https://quiet.example/premium"  # a service that publishes no did.json, like most x402 services
SERVER = Eip712Issuer("0x" + "61" * 32)
ATTACKER = Eip712Issuer("0x" + "62" * 32)
PRICE = 10_000
PAYER, OTHER_PAYER, PAY_TO, ATTACKER_WALLET = 2, 3, 8, 7
CONTROLLER, FUNDED, FUNDED_LONG_AGO = 5, 6, 4  # the shop's did.json lists CONTROLLER's address too
FUNDED_BY_CONTROLLER, LINKED, WITNESSED = 1, 9, 0  # the devnet's trusted witness (account 8) names WITNESSED


@dataclass
class Shop:
    devnet: Devnet
    network: Network
    w3: Web3
    token: Any
    signer: Callable[[int], Signer]
    tmp: Path
    dns: str

    def address(self, account: int) -> str:
        return self.devnet.state.accounts[account].address

    def transfer(self, sender: int, to: str, amount: int, *, gas: int | None = None) -> str:
        extra = {"gas": gas} if gas else {}
        tx = self.token.functions.transfer(Web3.to_checksum_address(to), amount).transact(
            {"from": self.address(sender), **extra}
        )
        self.w3.eth.wait_for_transaction_receipt(tx)
        return str(tx.to_0x_hex())

    def review(
        self,
        payer: int,
        tx_hash: str | None,
        *,
        issued_at: int | None = None,
        issuer: Eip712Issuer = SERVER,
        pay_to: int = PAY_TO,
        asset: str | None = None,
        network: str = "eip155:31337",
        rating: int = 5,
        resource: str = RESOURCE,
    ) -> None:
        requirements = {
            "scheme": "exact",
            "network": "eip155:31337",
            "asset": asset or self.devnet.state.token_address,
            "payTo": self.address(pay_to),
            "amount": str(PRICE),
        }
        offer = issuer.sign_offer(offer_payload(resource, requirements))
        receipt = issuer.sign_receipt(
            receipt_payload(resource, self.address(payer), "eip155:31337", issued_at=issued_at)
        )
        (loaded_receipt,) = load_artifacts(receipt)
        (loaded_offer,) = load_artifacts(offer)
        review, _ = review_from_receipt(
            loaded_receipt,
            self.address(payer),
            rating=rating,
            offer=loaded_offer,
            options=VerifyOptions(authorize=False, now=issued_at),
        )
        if tx_hash:
            # As reviews written before carry it: a `tx-interaction` pointer to the settlement.
            pointer = Proof.wrap("tx-interaction", {"chainId": network, "txHash": tx_hash}).to_text()
            review = review.model_copy(update={"proofs": (*review.proofs, pointer)})
        EasClient(self.network, self.signer(payer)).attest(review_request(review.recipient, review.encode()))

    def index(
        self,
        *,
        finality: int | Literal["finalized"] = 1,
        rpc_url: str | None = None,
        funding_window_s: float = 86_400,
        funding_hops: int = 1,
    ) -> ReviewIndex:
        fetcher = SafeFetcher(overrides={HOST: self.server, "quiet.example": self.quiet})
        payments = PaymentVerifier({"eip155:31337": PaymentNetwork(rpc_url or self.network.rpc_url, finality)})
        context = JudgeContext(
            resolver=DidWebResolver(fetcher=fetcher),
            dns_server=self.dns,
            payments=payments,
            funding_window_s=funding_window_s,
            funding_hops=funding_hops,
        )
        index = ReviewIndex(self.network, home=self.tmp, judge_context=context)
        index.sync()
        return index

    server: str = ""
    quiet: str = ""


@pytest.fixture
def shop(
    use_devnet: Devnet, network: Network, w3: Web3, dev_signer: Callable[[int], Signer], tmp_path: Path
) -> Iterator[Shop]:
    """A shop whose did.json authorizes its receipt and offer signer (SERVER), and whose offers name PAY_TO."""
    from tests.servers import dns_server

    controller = use_devnet.state.accounts[CONTROLLER].address
    document = did_document(
        f"did:web:{HOST}", [DidKey("#receipts", address=SERVER.address), DidKey("#owner", address=controller)]
    )
    abi = project_artifact("TestUSDC")["abi"]
    token = w3.eth.contract(address=Web3.to_checksum_address(use_devnet.state.token_address), abi=abi)
    routes = {"/.well-known/did.json": Reply(body=_json(document))}
    accepts = {
        "scheme": "exact",
        "network": "eip155:31337",
        "asset": use_devnet.state.token_address,
        "payTo": use_devnet.state.accounts[PAY_TO].address,
        "amount": str(PRICE),
    }
    advertised = {"/premium": Reply(402, _json({"x402Version": 2, "accepts": [accepts]}))}
    with dns_server({}) as dns, http_server(routes) as server, http_server(advertised) as quiet:
        shop = Shop(use_devnet, network, w3, token, dev_signer, tmp_path, dns)
        shop.server, shop.quiet = server.base_url, quiet.base_url
        yield shop


def _json(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


def _only(index: ReviewIndex, resource: str = RESOURCE) -> Any:
    (review,) = index.reviews(resource, rejudge=True).reviews
    return review


def test_an_honest_payment_reads_paid_with_its_amount(shop: Shop) -> None:
    tx = shop.transfer(PAYER, shop.address(PAY_TO), PRICE)
    shop.review(PAYER, tx)
    review = _only(shop.index())
    assert review.level == "paid"
    payment = review.evidence.payment
    assert (payment.amount, payment.pay_to, payment.tx_hash) == (str(PRICE), shop.address(PAY_TO), tx)


def test_a_self_signed_receipt_paying_the_attackers_own_wallet_is_not_paid(shop: Shop) -> None:
    tx = shop.transfer(PAYER, shop.address(ATTACKER_WALLET), PRICE)
    shop.review(PAYER, tx, issuer=ATTACKER, pay_to=ATTACKER_WALLET, resource=QUIET)
    review = _only(shop.index(), QUIET)
    assert review.level == "signed", "anyone can produce this level"
    assert review.evidence.payment.status == "unpaid"
    assert "not bound to the subject" in review.evidence.payment.reason


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("short", "less than the offered"),
        ("other-asset", "another asset"),
        ("other-payer", "moved nothing from the payer"),
        ("reverted", "reverted"),
        ("unknown-tx", "no such transaction"),
    ],
)
def test_forged_payments_stay_verified_at_best(shop: Shop, case: str, reason: str) -> None:
    asset = None
    if case == "short":
        tx = shop.transfer(PAYER, shop.address(PAY_TO), PRICE // 2)
    elif case == "other-asset":
        tx = shop.transfer(PAYER, shop.address(PAY_TO), PRICE)
        asset = "0x" + "ab" * 20
    elif case == "other-payer":
        tx = shop.transfer(OTHER_PAYER, shop.address(PAY_TO), PRICE)
    elif case == "reverted":
        tx = shop.transfer(PAYER, shop.address(PAY_TO), 10**30, gas=100_000)
    else:
        tx = "0x" + "77" * 32
    shop.review(PAYER, tx, asset=asset)
    review = _only(shop.index())
    assert review.level == "verified"
    assert review.evidence.payment.status == "unpaid" and reason in review.evidence.payment.reason


def test_a_refunded_payment_is_shown_as_refunded(shop: Shop) -> None:
    tx = shop.transfer(PAYER, shop.address(PAY_TO), PRICE)
    shop.review(PAYER, tx)
    shop.transfer(PAY_TO, shop.address(PAYER), PRICE)
    review = _only(shop.index())
    assert review.level == "verified"
    assert review.evidence.payment.status == "refunded" and review.evidence.payment.refunded is True


def test_a_refund_after_the_judgement_is_seen_by_the_next_follower_round(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long-lived index judged the review `paid` and keeps its judgement; the service then refunds the
    payer. The next round of `judge_pending` (what `index follow` and the provider run) asks the payment
    network and judges it again: `refunded` within a round, not after the judgement's hour-long lifetime;
    and the provider's page says so."""
    from omareview.serve.page import render_reviews_page

    monkeypatch.setattr("omareview.index.query.REFUND_WATCH_S", 0.0)
    tx = shop.transfer(PAYER, shop.address(PAY_TO), PRICE)
    shop.review(PAYER, tx)
    index = shop.index()
    index.judge_pending()
    (before,) = index.reviews(RESOURCE).reviews
    assert before.level == "paid"
    shop.transfer(PAY_TO, shop.address(PAYER), PRICE)
    (kept,) = index.reviews(RESOURCE).reviews
    assert kept.level == "paid", "a read alone keeps the judgement"
    index.judge_pending()
    assert index.watch_refunds() == 0, "judged again already: nothing paid is left to watch"
    result = index.reviews(RESOURCE)
    (after,) = result.reviews
    assert after.level == "verified" and after.evidence.payment.status == "refunded"
    page = render_reviews_page(result, base="", previous=None, next_page=None)
    assert "the payment was refunded" in page


def _chain_now(shop: Shop) -> int:
    return int(shop.w3.eth.get_block("latest")["timestamp"])


def test_a_privacy_minimal_receipt_without_any_pointer_reads_paid(shop: Shop) -> None:
    """The receipt names no transaction and the review carries no `tx-interaction` proof: the judge finds
    the payer's transfer to the bound payTo around the receipt's issuedAt."""
    tx = shop.transfer(PAYER, shop.address(PAY_TO), PRICE)
    shop.review(PAYER, None, issued_at=_chain_now(shop))
    review = _only(shop.index())
    assert review.level == "paid", review.evidence
    assert review.evidence.payment.tx_hash == tx.lower()
    assert not any(p.proof_type == "tx-interaction" for p in review.proofs)


def test_an_unnamed_settlement_outside_the_receipt_s_window_is_not_found(shop: Shop) -> None:
    shop.transfer(PAYER, shop.address(PAY_TO), PRICE)
    shop.w3.provider.make_request("evm_increaseTime", [1000])
    shop.w3.provider.make_request("evm_mine", [])
    shop.review(PAYER, None, issued_at=_chain_now(shop))
    review = _only(shop.index())
    assert review.level == "verified"
    assert review.evidence.payment.status == "unpaid"
    assert "around the receipt's issuedAt" in review.evidence.payment.reason


def test_a_payment_on_another_chain_than_the_review_reads_paid(shop: Shop, tmp_path: Path) -> None:
    """The money moves on one chain (a second devnet, standing for Base) and the review is written on
    another (the session's devnet, standing for OMAchain); the receipt names no transaction."""
    from omareview.devnet.node import start_devnet

    with start_devnet(home=tmp_path / "payments") as payments:
        w3 = Web3(Web3.HTTPProvider(payments.state.rpc_url))
        abi = project_artifact("TestUSDC")["abi"]
        token = w3.eth.contract(address=Web3.to_checksum_address(payments.state.token_address), abi=abi)
        payer, pay_to = payments.state.accounts[PAYER].address, payments.state.accounts[PAY_TO].address
        sent = token.functions.transfer(pay_to, PRICE).transact({"from": payer})
        w3.eth.wait_for_transaction_receipt(sent)
        shop.review(PAYER, None, issued_at=int(w3.eth.get_block("latest")["timestamp"]) + 1, asset=token.address)
        review = _only(shop.index(rpc_url=payments.state.rpc_url))
    assert shop.network.rpc_url != payments.state.rpc_url
    assert review.level == "paid", review.evidence
    assert review.evidence.payment.tx_hash == sent.to_0x_hex().lower()


def test_a_payment_not_yet_final_is_pending_then_paid(shop: Shop) -> None:
    tx = shop.transfer(PAYER, shop.address(PAY_TO), PRICE)
    shop.review(PAYER, tx)
    index = shop.index(finality=5)
    pending = _only(index)
    assert pending.level == "verified" and pending.evidence.payment.status == "pending"
    shop.w3.provider.make_request("anvil_mine", ["0x5"])  # type: ignore[arg-type]
    later = index.reviews(RESOURCE).reviews[0]
    assert later.level == "paid", "an undecided payment is judged again, not cached"


def test_finality_follows_the_nodes_finalized_block_or_counts_confirmations_without_one(shop: Shop) -> None:
    from tests.rpc_proxy import rpc_proxy

    tx = shop.transfer(PAYER, shop.address(PAY_TO), PRICE)
    shop.review(PAYER, tx)
    finalized = shop.index(finality="finalized")
    assert _only(finalized).evidence.payment.status == "pending", "Anvil finalizes 64 blocks behind"

    def no_finalized_tag(method: str, n: int) -> str | None:
        return "rpc-error" if method == "eth_getBlockByNumber" else None

    with rpc_proxy(shop.network.rpc_url, faults=no_finalized_tag) as (url, _):
        counting = shop.index(finality="finalized", rpc_url=url)
        assert _only(counting).evidence.payment.status == "pending"
        shop.w3.provider.make_request("anvil_mine", [hex(DEFAULT_CONFIRMATIONS)])  # type: ignore[arg-type]
        assert counting.reviews(RESOURCE).reviews[0].level == "paid", "confirmations counted instead"
    assert _only(finalized).evidence.payment.status == "pending", "still 64 blocks behind for the node"


def test_a_failed_batch_on_a_confirmations_network_is_unavailable_then_judged_again(shop: Shop) -> None:
    from tests.rpc_proxy import rpc_proxy

    tx = shop.transfer(PAYER, shop.address(PAY_TO), PRICE)
    shop.review(PAYER, tx)

    def first_receipt_fails(method: str, n: int) -> str | None:
        return "rpc-error" if (method, n) == ("eth_getTransactionReceipt", 1) else None

    with rpc_proxy(shop.network.rpc_url, faults=first_receipt_fails) as (url, _):
        index = shop.index(rpc_url=url)
        assert _only(index).evidence.payment.status == "unavailable"
        assert index.reviews(RESOURCE).reviews[0].level == "paid"


def test_the_payment_network_down_keeps_the_other_evidence_and_judges_again(shop: Shop) -> None:
    tx = shop.transfer(PAYER, shop.address(PAY_TO), PRICE)
    shop.review(PAYER, tx)
    down = shop.index(rpc_url="http://127.0.0.1:9")
    review = _only(down)
    assert review.level == "verified", "a network down is never a verdict"
    assert review.evidence.payment.status == "unavailable"
    stored = down.store.reviews_of(did_address(did(RESOURCE)), down.schema_uids)
    assert all(row.judged_at == 0 for row in stored), "a judgement made while the network was down is not kept"


def test_a_payment_on_a_network_without_rpc_is_unavailable_not_invalid(shop: Shop) -> None:
    shop.review(PAYER, "0x" + "55" * 32, network="eip155:1")
    review = _only(shop.index())
    assert review.level == "verified"
    assert review.evidence.payment.status == "unavailable"


def test_a_forged_signed_review_does_not_move_the_average(shop: Shop) -> None:
    """On a service that publishes no did.json, its own 402 binds its payTo: the honest payment reads `paid`,
    the attacker's self-signed review paying its own wallet reads `signed`, and only the first is averaged."""
    honest = shop.transfer(PAYER, shop.address(PAY_TO), PRICE)
    shop.review(PAYER, honest, rating=5, resource=QUIET)
    forged = shop.transfer(OTHER_PAYER, shop.address(ATTACKER_WALLET), PRICE)
    shop.review(OTHER_PAYER, forged, issuer=ATTACKER, pay_to=ATTACKER_WALLET, rating=1, resource=QUIET)
    result = shop.index().reviews(QUIET, rejudge=True)
    assert sorted(r.level for r in result.reviews) == ["paid", "signed"]
    assert (result.average_rating, result.histogram["1"]) == (5.0, 0)
    assert shop.index().reviews(QUIET, average_from="signed").average_rating == 3.0


def did(url: str) -> str:
    from omareview.identity import subject_did

    return subject_did(url)


def test_self_dealing_reviews_are_listed_but_not_counted(shop: Shop) -> None:
    """Real transfers on the devnet: an honest customer; the payTo paying itself; the service's controller
    (its did.json lists the wallet), and one a trusted Controller Witness names; a wallet the payTo funded
    just before it paid, and one the controller funded; a wallet a Linked Identifier ties to the controller;
    one the payTo funded long before (outside the window). Only the honest ones count, each other one says
    why."""
    from omareview.identity.keys import did_pkh_from_address
    from omareview.identity.pop import make_pop_eip712
    from omareview.review.identity_requests import controller_witness_request, linked_identifier_request

    pay_to = shop.address(PAY_TO)
    shop.transfer(PAY_TO, shop.address(FUNDED_LONG_AGO), PRICE)
    shop.w3.provider.make_request("evm_increaseTime", [7200])
    shop.w3.provider.make_request("evm_mine", [])
    shop.transfer(PAY_TO, shop.address(FUNDED), PRICE)
    shop.transfer(CONTROLLER, shop.address(FUNDED_BY_CONTROLLER), PRICE)
    linked, controller = shop.signer(LINKED), shop.signer(CONTROLLER)
    linked_did, controller_did = (did_pkh_from_address(a, 31337) for a in (linked.address, controller.address))
    now = _chain_now(shop)
    proofs = [
        make_pop_eip712(linked, controller_did, 1, now, 3600),
        make_pop_eip712(controller, linked_did, 1, now, 3600),
    ]
    link = linked_identifier_request(linked_did, controller_did, proofs, issued_at=now)
    EasClient(shop.network, linked).attest(link, shop.network.schema_uid("linked-identifier"))
    witnessed = did_pkh_from_address(shop.address(WITNESSED), 31337)
    witness = controller_witness_request(f"did:web:{HOST}", witnessed, "dns-txt", now)
    EasClient(shop.network, shop.signer(PAY_TO)).attest(witness, shop.network.schema_uid("controller-witness"))
    shop.w3.provider.make_request("evm_increaseTime", [2])
    ratings = {PAYER: 5, FUNDED_LONG_AGO: 3, PAY_TO: 1, CONTROLLER: 1, FUNDED: 1, FUNDED_BY_CONTROLLER: 1, LINKED: 1}
    ratings[WITNESSED] = 1
    for account, rating in ratings.items():
        tx = shop.transfer(account, pay_to, PRICE)
        shop.review(account, None if account != PAY_TO else tx, rating=rating, issued_at=_chain_now(shop))
    index = shop.index(funding_window_s=3600)
    result = index.reviews(RESOURCE, rejudge=True)
    why = {r.attester: (r.counted, r.not_counted_because) for r in result.reviews}
    assert why == {
        shop.address(PAYER): (True, None),
        shop.address(FUNDED_LONG_AGO): (True, None),
        shop.address(PAY_TO): (False, "self-payment"),
        shop.address(CONTROLLER): (False, "controller"),
        shop.address(FUNDED): (False, "funded-by-service"),
        shop.address(FUNDED_BY_CONTROLLER): (False, "funded-by-service"),
        shop.address(LINKED): (False, "controller"),
        shop.address(WITNESSED): (False, "controller"),
    }
    assert (result.counted, result.average_rating) == (2, 4.0), "the honest customers' average"
    assert result.count == 8, "self-dealing reviews stay listed"
    everything = index.reviews(RESOURCE, count_self_dealing=True)
    assert (everything.counted, everything.average_rating) == (7, 1.86), "the old average, on request"
    shown = everything.to_json()["reviews"][0]
    assert {"counted", "notCountedBecause"} <= set(shown)
    from omareview.gate.decide import _summary

    figures = _summary(result.reviews, stale=False, synced_to=None)
    assert (figures.verified_count, figures.verified_average) == (2, 4.0), "the gate decides on the same"
    assert figures.not_counted == {"self-payment": 1, "controller": 3, "funded-by-service": 2}
    from omareview.serve.page import render_reviews_page

    page = render_reviews_page(result, base="", previous=None, next_page=None)
    assert "Not counted in the average: the service funded the reviewer&#39;s wallet just before the payment" in page
    # Counted 5 and 3 (average 4.0): one more 1-star review takes it to 3.0 or below; at PRICE each.
    assert result.cost_to_move is not None
    assert (result.cost_to_move.reviews, result.cost_to_move.direction) == (1, "down")
    assert result.cost_to_move.amount == str(PRICE)
    assert "would take 1 more paid purchase, about 10000 units of" in page
    assert figures.cost_to_move is not None and figures.cost_to_move.amount == str(PRICE)
    from omareview.gate import DEFAULT_POLICY, Gate
    from omareview.x402.required import PaymentRequired

    accepts = {"network": "eip155:31337", "asset": shop.devnet.state.token_address, "payTo": pay_to, "amount": "1"}
    cheap = DEFAULT_POLICY.model_copy(update={"min_cost_to_move": PRICE + 1})
    reasons: list[str] = []
    required = PaymentRequired.model_validate({"accepts": [accepts]})
    action, _, _ = Gate(None, cheap)._apply(figures, None, required, None, reasons)
    assert action == "refuse" and "min_cost_to_move" in reasons[-1], reasons


def test_a_wallet_funded_through_another_is_self_dealing_only_within_the_hops_set(shop: Shop) -> None:
    """The payTo funds wallet A, A funds wallet B, B pays: one hop (the default) does not see it, two do."""
    middle, payer = 1, 9
    shop.transfer(PAY_TO, shop.address(middle), PRICE)
    shop.transfer(middle, shop.address(payer), PRICE)
    shop.transfer(payer, shop.address(PAY_TO), PRICE)
    shop.review(payer, None, issued_at=_chain_now(shop))
    one = _only(shop.index())
    assert (one.counted, one.not_counted_because) == (True, None)
    two = shop.index(funding_hops=2).reviews(RESOURCE, rejudge=True).reviews[0]
    assert (two.counted, two.not_counted_because) == (False, "funded-by-service")
