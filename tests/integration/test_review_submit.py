"""Writing User Reviews on the devnet: single, batched, delegated, relayed, and every refusal."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from web3 import Web3

from omareview._devnet_state import network_of
from omareview.devnet.node import start_devnet
from omareview.eas.abi import RequestData
from omareview.eas.client import EasClient, review_request
from omareview.eas.uids import attestation_uid
from omareview.errors import ChainError, InputError
from omareview.networks import Network
from omareview.review import decode_user_review, new_review, review_from_receipt
from omareview.review.outbox import Outbox
from omareview.review.submit import ReviewJob, submit_reviews
from omareview.signers import Signer
from tests.relay_server import relay_server
from tests.reviews import artifact, receipt_for

pytestmark = pytest.mark.chain_isolated


def test_a_review_reads_back_field_by_field(network: Network, dev_signer: Callable[[int], Signer], w3: Web3) -> None:
    attester = dev_signer(1)
    review, _ = review_from_receipt(
        artifact(receipt_for(attester.address)),
        attester.address,
        rating=4,
        body="Quick and correct — merci",
        screenshots=["https://shots.example/1.png"],
        version="2.1",
    )
    client = EasClient(network, attester)
    submitted = client.attest(review_request(review.recipient, review.encode()))
    (onchain,) = client.attestations([submitted.uid])
    assert onchain.uid == submitted.uid
    assert onchain.attester == attester.address
    assert onchain.recipient.lower() == review.recipient == submitted.recipient
    assert onchain.schema == network.schema_uid()
    assert (onchain.revocable, onchain.expiration_time, onchain.revocation_time) == (False, 0, 0)
    assert onchain.data == review.encode()
    fields = decode_user_review(onchain.data)
    assert fields == {
        "subject": "did:web:api.example.com",
        "version": "2.1",
        "ratingValue": 4,
        "reviewBody": "Quick and correct — merci",
        "screenshotUrls": ("https://shots.example/1.png",),
        "proofs": review.proofs,
    }
    assert json.loads(fields["proofs"][0])["proofObject"]["payload"]["payer"] == attester.address
    recomputed = attestation_uid(
        network.schema_uid(), review.recipient, attester.address, onchain.time, 0, False, "0x" + "00" * 32, onchain.data
    )
    assert recomputed == submitted.uid
    block = w3.eth.get_block(submitted.block_number)
    assert block["timestamp"] == onchain.time


def test_many_reviews_in_few_transactions(network: Network, dev_signer: Callable[[int], Signer]) -> None:
    attester = dev_signer(2)
    reviews = [
        review_from_receipt(artifact(receipt_for(attester.address, n=n)), attester.address, rating=1 + n % 5)[0]
        for n in range(1, 13)
    ]
    client = EasClient(network, attester)
    results = client.attest_many([review_request(r.recipient, r.encode()) for r in reviews])
    assert len(results) == 12 and len({r.uid for r in results}) == 12
    assert len({r.tx_hash for r in results}) == 1, "twelve reviews fit one transaction"
    bodies = client.attestations([r.uid for r in results])
    assert [decode_user_review(b.data)["ratingValue"] for b in bodies] == [1 + n % 5 for n in range(1, 13)]


@pytest.mark.devnet
def test_batches_respect_the_osaka_gas_cap(tmp_path: Path) -> None:
    with start_devnet(home=tmp_path, anvil_args=["--enable-tx-gas-limit"]) as capped:
        state = capped.state
        network = network_of(state)
        from omareview.signers import signer_from_key

        attester = signer_from_key(state.accounts[3].private_key.get_secret_value())
        reviews = [
            review_from_receipt(artifact(receipt_for(attester.address, n=n)), attester.address, rating=5)[0]
            for n in range(1, 41)
        ]
        client = EasClient(network, attester)
        results = client.attest_many([review_request(r.recipient, r.encode()) for r in reviews])
        assert len(results) == 40 and len({r.uid for r in results}) == 40
        gas_by_tx = {r.tx_hash: r.gas_used for r in results}
        assert len(gas_by_tx) >= 2, "40 proof-carrying reviews cannot fit one transaction under the cap"
        assert all(gas <= 16_777_216 for gas in gas_by_tx.values())
        single = client.attest(review_request(reviews[0].recipient, reviews[0].encode())).gas_used
        assert sum(gas_by_tx.values()) / 40 < single, "batched gas per review is below a single attest"


def test_delegated_attestation_is_judged_by_the_contract(network: Network, dev_signer: Callable[[int], Signer]) -> None:
    attester, relayer = dev_signer(4), dev_signer(0)
    review = new_review(subject="did:web:api.example.com", rating_value=3, review_body="delegated")
    request = review_request(review.recipient, review.encode())
    relaying = EasClient(network, relayer)
    assert relaying.domain().version == "1.4.0" and relaying.domain().type_set == "v2"
    delegated = relaying.sign_delegated(request, attester)
    submitted = relaying.submit_delegated(delegated)
    (onchain,) = relaying.attestations([submitted.uid])
    assert onchain.attester == attester.address, "the attester, not the relayer, is on record"

    stale = relaying.sign_delegated(request, attester, nonce=delegated.nonce)
    with pytest.raises(InputError, match=r"stale or reused nonce \(InvalidSignature\(\)\)"):
        relaying.submit_delegated(stale)
    expired = relaying.sign_delegated(request, attester, deadline=int(time.time()) - 3600)
    with pytest.raises(InputError, match=r"deadline has passed; sign it again \(DeadlineExpired\(\)\)"):
        relaying.submit_delegated(expired)


def test_relay_posts_follow_redirects_with_the_method_kept(
    network: Network, dev_signer: Callable[[int], Signer]
) -> None:
    attester = dev_signer(5)
    job = ReviewJob(
        review_from_receipt(artifact(receipt_for(attester.address)), attester.address, rating=5)[0],
        artifact(receipt_for(attester.address)),
    )
    with relay_server(EasClient(network, dev_signer(0))) as (relay_url, seen):
        (outcome,) = submit_reviews(EasClient(network), [job], attester, mode="relay", relay_url=relay_url)
    assert outcome.error is None and outcome.submitted is not None
    assert seen == ["POST /v1/delegated-attest", "POST /relay/v1/delegated-attest"]
    (onchain,) = EasClient(network).attestations([outcome.submitted.uid])
    assert onchain.attester == attester.address


def test_irrevocable_schema_and_unknown_schema_are_refused(
    network: Network, dev_signer: Callable[[int], Signer], w3: Web3
) -> None:
    client = EasClient(network, dev_signer(6))
    review = new_review(subject="did:web:api.example.com", rating_value=5)
    before = w3.eth.block_number
    revocable = RequestData(Web3.to_checksum_address(review.recipient), 0, True, "0x" + "00" * 32, review.encode())
    with pytest.raises(InputError, match=r"irrevocable.*\(Irrevocable\(\)\)"):
        client.attest(revocable)
    with pytest.raises(InputError, match=r"not registered on this EAS.*\(InvalidSchema\(\)\)"):
        client.attest(review_request(review.recipient, review.encode()), schema_uid="0x" + "ab" * 32)
    assert w3.eth.block_number == before, "nothing was sent"


def test_unreachable_rpc_is_a_chain_error_and_records_the_receipt_for_later(
    tmp_path: Path, dev_signer: Callable[[int], Signer], network: Network
) -> None:
    attester = dev_signer(7)
    offline = network.model_copy(update={"rpc_url": "http://127.0.0.1:9"})
    receipt = artifact(receipt_for(attester.address))
    job = ReviewJob(review_from_receipt(receipt, attester.address, rating=5)[0], receipt)
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    with pytest.raises(ChainError, match="cannot reach the node at http://127.0.0.1:9"):
        submit_reviews(EasClient(offline, attester), [job], attester, outbox=outbox)
    assert outbox.entries() == [], "nothing is half-written when the chain cannot even be asked"


def test_duplicates_are_refused_from_outbox_chain_and_batch(
    tmp_path: Path, network: Network, dev_signer: Callable[[int], Signer]
) -> None:
    attester = dev_signer(8)
    envelope = receipt_for(attester.address, n=99)
    jobs = [
        ReviewJob(review_from_receipt(artifact(envelope), attester.address, rating=5)[0], artifact(envelope))
        for _ in range(2)
    ]
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    first, second = submit_reviews(EasClient(network, attester), jobs, attester, outbox=outbox)
    assert first.submitted is not None and "in this batch" in str(second.error)
    entry = outbox.get(jobs[0].digest or "")
    assert entry is not None and entry.status == "done" and entry.uid == first.submitted.uid
    (again,) = submit_reviews(EasClient(network, attester), jobs[:1], attester, outbox=outbox)
    assert f"already backs review {first.submitted.uid} (recorded in the local outbox)" in str(again.error)
    (chain,) = submit_reviews(
        EasClient(network, attester), jobs[:1], attester, outbox=Outbox(tmp_path / "fresh.sqlite3")
    )
    assert f"already backs review {first.submitted.uid} (on-chain)" in str(chain.error)
    (allowed,) = submit_reviews(EasClient(network, attester), jobs[:1], attester, outbox=outbox, allow_duplicate=True)
    assert allowed.submitted is not None and allowed.submitted.uid != first.submitted.uid


def test_concurrent_sends_from_one_key_do_not_clash(network: Network, dev_signer: Callable[[int], Signer]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    attester = dev_signer(9)
    reviews = [new_review(subject=f"did:web:c{n}.example", rating_value=5) for n in range(8)]
    client = EasClient(network, attester)
    with ThreadPoolExecutor(max_workers=4) as pool:
        uids = list(pool.map(lambda r: client.attest(review_request(r.recipient, r.encode())).uid, reviews))
    assert len(set(uids)) == 8
    relayer = EasClient(network, dev_signer(0))
    with ThreadPoolExecutor(max_workers=4) as pool:
        signed = list(
            pool.map(lambda r: relayer.sign_delegated(review_request(r.recipient, r.encode()), attester), reviews[:4])
        )
    nonces = sorted(d.nonce for d in signed)
    assert nonces == list(range(nonces[0], nonces[0] + 4)), "each concurrent signature got its own consecutive nonce"
    for delegated in sorted(signed, key=lambda d: d.nonce):
        relayer.submit_delegated(delegated)


def test_the_duplicate_check_reads_only_what_was_written_since(
    tmp_path: Path, network: Network, dev_signer: Callable[[int], Signer], w3: Web3
) -> None:
    from omareview.review.duplicates import reviewed_receipts
    from tests.rpc_proxy import rpc_proxy

    attester = dev_signer(8)
    receipts = [artifact(receipt_for(attester.address, n=800 + k)) for k in range(3)]
    jobs = [ReviewJob(review_from_receipt(r, attester.address, rating=4)[0], r) for r in receipts]
    submit_reviews(EasClient(network, attester), jobs, attester, outbox=Outbox(tmp_path / "o.sqlite3"))
    w3.provider.make_request("anvil_mine", [hex(100)])  # type: ignore[arg-type]
    ledger = Outbox(tmp_path / "ledger.sqlite3")
    with rpc_proxy(network.rpc_url) as (url, stats):
        client = EasClient(network.model_copy(update={"rpc_url": url}))
        first = reviewed_receipts(client, attester.address, ledger)
        bodies_first = stats.methods.count("eth_call")
        second = reviewed_receipts(client, attester.address, ledger)
        bodies_second = stats.methods.count("eth_call") - bodies_first
        asked = {jobs[1].digest or "", "0x" + "00" * 32}
        looked_up = reviewed_receipts(client, attester.address, ledger, among=asked)
    assert set(first) == set(second) == {job.digest for job in jobs}
    assert bodies_first >= 3 and bodies_second == 0, "settled reviews are not fetched again"
    assert looked_up == {jobs[1].digest: first[jobs[1].digest or ""]}, "only the digests asked about"
